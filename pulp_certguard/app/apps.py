"""App config of the certguard plugin; found by Django through INSTALLED_APPS."""

from pulpcore.plugin import PulpPluginAppConfig


class PulpCertGuardPluginAppConfig(PulpPluginAppConfig):
    name = "pulp_certguard.app"
    label = "certguard"
    verbose_name = "Pulp certguard plugin"
    version = "3.49.0"
    # Pulp ships certguard inside the pulpcore distribution, and so does this project.
    python_package_name = "pulpcore"
    default = True
