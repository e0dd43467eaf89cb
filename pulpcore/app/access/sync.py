"""Keep the shipped roles and default access policies in the database (run after migrate).

Locked roles are rewritten to exactly the permissions the code ships, so an upgrade that adds a
permission to a role reaches every installation. A policy nobody customized follows the shipped
default; a customized one is left alone until ``reset``.
"""

from __future__ import annotations

import logging

from django.apps import apps as global_apps
from django.db import transaction

log = logging.getLogger(__name__)


def default_policies() -> dict[str, dict]:
    """viewset_name -> shipped default policy, for every registered viewset declaring one."""
    from pulpcore.app.access.policy import policy_name
    from pulpcore.app.viewsets.base import REGISTRY

    return {
        policy_name(v): v.DEFAULT_ACCESS_POLICY
        for v in REGISTRY
        if getattr(v, "DEFAULT_ACCESS_POLICY", None)
    }


def default_policy_fields(policy: dict) -> dict:
    return {
        "statements": policy["statements"],
        "creation_hooks": policy.get("creation_hooks", []),
        "queryset_scoping": policy.get("queryset_scoping"),
    }


def sync_permissions(using: str = "default") -> None:
    """Create every model's permissions now (Django does it per app, core before plugins)."""
    from django.contrib.auth.management import create_permissions

    for config in global_apps.get_app_configs():
        create_permissions(config, verbosity=0, using=using)


def sync_locked_roles(using: str = "default") -> None:
    from pulpcore.app.access.roles import locked_roles
    from pulpcore.app.models import Role
    from pulpcore.app.serializers.access import resolve_permissions

    for name, spec in locked_roles().items():
        perms, unknown = resolve_permissions(spec["permissions"])
        if unknown:
            raise RuntimeError(f"Locked role {name} names unknown permissions: {unknown}")
        role, _ = Role.objects.using(using).update_or_create(
            name=name, defaults={"locked": True, "description": spec["description"]}
        )
        role.permissions.set(perms)


def sync_access_policies(using: str = "default") -> None:
    from pulpcore.app.models import AccessPolicy

    for name, policy in default_policies().items():
        fields = default_policy_fields(policy)
        existing = AccessPolicy.objects.using(using).filter(viewset_name=name).first()
        if existing is None:
            AccessPolicy.objects.using(using).create(viewset_name=name, **fields)
        elif not existing.customized:
            for key, value in fields.items():
                setattr(existing, key, value)
            existing.save(using=using)


def sync_all(using: str = "default") -> None:
    with transaction.atomic(using=using):
        sync_permissions(using)
        sync_locked_roles(using)
        sync_access_policies(using)


def post_migrate(sender, app_config=None, using="default", plan=None, **kwargs) -> None:
    """Once per ``migrate``: after the last installed Pulp app's post_migrate signal."""
    from pulpcore.app.apps import PulpPluginAppConfig

    configs = [c for c in global_apps.get_app_configs() if isinstance(c, PulpPluginAppConfig)]
    if not configs or sender is not configs[-1]:
        return
    if not global_apps.is_installed("django.contrib.auth"):
        return
    from django.db import connections

    # A partial ``migrate core <earlier>`` stops before the RBAC tables exist: nothing to sync.
    tables = set(connections[using].introspection.table_names())
    if not {"core_role", "core_accesspolicy", "core_userrole"} <= tables:
        return
    sync_all(using)
