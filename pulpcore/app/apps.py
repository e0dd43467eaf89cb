"""App configs: the core app and the base class plugins use to register themselves."""

from django.apps import AppConfig


class PulpPluginAppConfig(AppConfig):
    """Base for every Pulp app, core included.

    ``label`` is the short name used in URLs and ``pulp_type`` (``core``, ``file``), ``version`` is
    what ``status/`` and the OpenAPI document report, and ``python_package_name`` is the
    distribution the code ships in.
    """

    version: str = ""
    python_package_name: str = ""
    domain_compatible = False

    def ready(self) -> None:
        # Import the app's viewsets so the URL registry sees them.
        from importlib import import_module
        from importlib.util import find_spec

        for mod in ("viewsets",):
            name = f"{self.name}.{mod}"
            if find_spec(name) is not None:
                import_module(name)


class PulpAppConfig(PulpPluginAppConfig):
    default = True
    name = "pulpcore.app"
    label = "core"
    verbose_name = "Pulp core"
    version = "3.49.0"
    python_package_name = "pulpcore"
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        super().ready()
        from django.db.models.signals import post_migrate, post_save

        from pulpcore.app.access import hooks, sync

        # Not bound to a sender: the receiver waits for the last Pulp app's signal itself.
        post_migrate.connect(sync.post_migrate, dispatch_uid="pulp-rbac-sync")
        post_save.connect(hooks.on_post_save, dispatch_uid="pulp-rbac-creation-hooks")
