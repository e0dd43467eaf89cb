"""Giving and taking roles, and the shipped locked roles."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model


def assign_role(role_name: str, user=None, group=None, obj: Model | None = None):
    """Give ``role_name`` to a user or group, on ``obj`` or model-wide (idempotent)."""
    from pulpcore.app.models import GroupRole, Role, UserRole

    role = Role.objects.get(name=role_name)
    where = {"content_type": None, "object_id": None}
    if obj is not None:
        where = {"content_type": ContentType.objects.get_for_model(obj), "object_id": str(obj.pk)}
    if user is not None:
        UserRole.objects.get_or_create(user=user, role=role, **where)
    if group is not None:
        GroupRole.objects.get_or_create(group=group, role=role, **where)


def remove_role(role_name: str, user=None, group=None, obj: Model | None = None) -> int:
    from pulpcore.app.models import GroupRole, UserRole

    where = {"role__name": role_name, "content_type": None, "object_id": None}
    if obj is not None:
        where.update(content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk))
    count = 0
    if user is not None:
        count += UserRole.objects.filter(user=user, **where).delete()[0]
    if group is not None:
        count += GroupRole.objects.filter(group=group, **where).delete()[0]
    return count


def locked_roles() -> dict[str, dict]:
    """Every role the installed apps ship: name -> {"description", "permissions"}.

    Viewsets declare them in ``LOCKED_ROLES`` next to their default policy, as Pulp does; a value
    is a list of permission names or a dict with ``description`` and ``permissions``.
    """
    from pulpcore.app.viewsets.base import REGISTRY

    found: dict[str, dict] = {}
    for viewset in REGISTRY:
        for name, spec in (viewset.__dict__.get("LOCKED_ROLES") or {}).items():
            if isinstance(spec, dict):
                found[name] = {
                    "description": spec.get("description"),
                    "permissions": list(spec["permissions"]),
                }
            else:
                found[name] = {"description": None, "permissions": list(spec)}
    return found
