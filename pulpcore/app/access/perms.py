"""A user's effective permissions, loaded once per request with a single query.

Roles reach a user directly or through their groups, model-wide or on one object. Every check
and every queryset scoping of a request reads this cache, so permission checks never cost a
query per row.
"""

from collections import defaultdict

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model

_ATTR = "_pulp_effective_perms"


class EffectivePermissions:
    """Model-wide permission names plus, per permission, the objects it is held on."""

    def __init__(self, user):
        from pulpcore.app.models import GroupRole, UserRole

        self.model: set[str] = set()
        self.model_types: dict[str, tuple[str, str]] = {}
        # "app.codename" -> content type id -> set of object ids (text)
        self.objects: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
        if user is None or not user.is_authenticated:
            return
        cols = (
            "role__permissions__content_type__app_label",
            "role__permissions__codename",
            "role__permissions__content_type__model",
            "content_type_id",
            "object_id",
        )
        mine = UserRole.objects.filter(user_id=user.pk, role__permissions__isnull=False)
        via_groups = GroupRole.objects.filter(
            group_id__in=user.groups.through.objects.filter(user_id=user.pk).values("group_id"),
            role__permissions__isnull=False,
        )
        rows = mine.values_list(*cols).union(via_groups.values_list(*cols), all=True)
        for app_label, codename, perm_model, ct_id, object_id in rows:
            name = f"{app_label}.{codename}"
            if ct_id is None:
                self.model_types[name] = (app_label, perm_model)
                self.model.add(name)
            else:
                self.objects[name][ct_id].add(object_id)

    def has_model(self, perm: str) -> bool:
        return perm in self.model

    def has_obj(self, perm: str, obj: Model) -> bool:
        if obj is None:
            return False
        by_type = self.objects.get(perm)
        if not by_type:
            return False
        ct = ContentType.objects.get_for_model(obj)
        return str(obj.pk) in by_type.get(ct.id, ())

    def object_ids(self, perm: str, model: type[Model]) -> set[str]:
        """Ids of ``model`` objects (detail types of a master model included) held ``perm`` on."""
        by_type = self.objects.get(perm)
        if not by_type:
            return set()
        ct = ContentType.objects.get_for_model(model)
        return set(by_type.get(ct.id, ()))

    def all_for_object(self, obj: Model) -> set[str]:
        """Every permission the user has on ``obj``: model-wide ones for its type and its own."""
        ct = ContentType.objects.get_for_model(obj)
        result = {p for p, t in self.model_types.items() if t == (ct.app_label, ct.model)}
        oid = str(obj.pk)
        for perm, by_type in self.objects.items():
            if oid in by_type.get(ct.id, ()):
                result.add(perm)
        return result


def effective_permissions(user) -> EffectivePermissions:
    """The cached permissions of ``user`` (a new user object per request means per request)."""
    cached = getattr(user, _ATTR, None) if user is not None else None
    if cached is None:
        cached = EffectivePermissions(user)
        if user is not None:
            try:
                setattr(user, _ATTR, cached)
            except AttributeError:
                pass
    return cached


def forget(user) -> None:
    """Drop the cache after the user's roles changed within the same request."""
    if user is not None and hasattr(user, _ATTR):
        delattr(user, _ATTR)


def has_perm(user, perm: str, obj: Model | None = None) -> bool:
    """Model-wide, or on ``obj``; superusers hold every permission."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    perms = effective_permissions(user)
    if perms.has_model(perm):
        return True
    return obj is not None and perms.has_obj(perm, obj)
