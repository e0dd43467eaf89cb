"""Users, groups, roles, role assignments, access policies, and the role actions of objects.

``RolesMixin`` gives any object viewset ``add_role``, ``remove_role``, ``list_roles`` and
``my_permissions``; add it to a viewset's bases and list the actions in its policy.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.viewsets import ModelViewSet

from pulpcore.app.access.perms import effective_permissions, forget
from pulpcore.app.access.sync import default_policies, default_policy_fields
from pulpcore.app.models import AccessPolicy, Group, GroupRole, Role, UserRole
from pulpcore.app.serializers.access import (
    AccessPolicySerializer,
    GroupRoleSerializer,
    GroupSerializer,
    GroupUserSerializer,
    MyPermissionsSerializer,
    NestedRoleSerializer,
    ObjectRolesSerializer,
    RoleSerializer,
    UserRoleSerializer,
    UserSerializer,
)
from pulpcore.app.viewsets.base import NamedModelViewSet
from pulpcore.app.viewsets.filters.access import (
    AccessPolicyFilter,
    GroupFilter,
    GroupRoleFilter,
    RoleFilter,
    UserFilter,
    UserRoleFilter,
)

User = get_user_model()


# --- role actions on objects ---------------------------------------------------------------------
def _role_summary(obj) -> list[dict]:
    """Who holds which role on ``obj``: two queries whatever the number of holders."""
    ct = ContentType.objects.get_for_model(obj)
    where = {"content_type": ct, "object_id": str(obj.pk)}
    roles: dict[str, dict] = {}
    for name, username in UserRole.objects.filter(**where).values_list(
        "role__name", "user__username"
    ):
        roles.setdefault(name, {"role": name, "users": [], "groups": []})["users"].append(username)
    for name, group in GroupRole.objects.filter(**where).values_list("role__name", "group__name"):
        roles.setdefault(name, {"role": name, "users": [], "groups": []})["groups"].append(group)
    for entry in roles.values():
        entry["users"].sort()
        entry["groups"].sort()
    return [roles[k] for k in sorted(roles)]


class RolesMixin:
    """``add_role``/``remove_role``/``list_roles``/``my_permissions`` on one object."""

    @extend_schema(request=NestedRoleSerializer, responses={201: NestedRoleSerializer})
    @action(detail=True, methods=["post"], serializer_class=NestedRoleSerializer)
    def add_role(self, request, *args, **kwargs):
        obj = self.get_object()
        body = NestedRoleSerializer(
            data=request.data, context={"request": request, "content_object": obj}
        )
        body.is_valid(raise_exception=True)
        role = body.validated_data["role_obj"]
        ct = ContentType.objects.get_for_model(obj)
        where = {"role": role, "content_type": ct, "object_id": str(obj.pk)}
        users, groups = body.validated_data["user_objs"], body.validated_data["group_objs"]
        taken = sorted(
            UserRole.objects.filter(user__in=users, **where).values_list(
                "user__username", flat=True
            )
        )
        taken += sorted(
            GroupRole.objects.filter(group__in=groups, **where).values_list(
                "group__name", flat=True
            )
        )
        if taken:
            raise ValidationError(
                {"detail": f"Role {role.name!r} is already assigned to: {', '.join(taken)}."}
            )
        with transaction.atomic():
            UserRole.objects.bulk_create([UserRole(user=u, **where) for u in users])
            GroupRole.objects.bulk_create([GroupRole(group=g, **where) for g in groups])
        forget(request.user)
        return Response(
            {
                "role": role.name,
                "users": sorted(u.username for u in users),
                "groups": sorted(g.name for g in groups),
            },
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=NestedRoleSerializer, responses={201: NestedRoleSerializer})
    @action(detail=True, methods=["post"], serializer_class=NestedRoleSerializer)
    def remove_role(self, request, *args, **kwargs):
        obj = self.get_object()
        body = NestedRoleSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        role = body.validated_data["role_obj"]
        ct = ContentType.objects.get_for_model(obj)
        where = {"role": role, "content_type": ct, "object_id": str(obj.pk)}
        users, groups = body.validated_data["user_objs"], body.validated_data["group_objs"]
        user_rows = UserRole.objects.filter(user__in=users, **where)
        group_rows = GroupRole.objects.filter(group__in=groups, **where)
        missing = sorted(
            {u.username for u in users} - set(user_rows.values_list("user__username", flat=True))
        )
        missing += sorted(
            {g.name for g in groups} - set(group_rows.values_list("group__name", flat=True))
        )
        if missing:
            raise ValidationError(
                {"detail": f"Role {role.name!r} is not assigned to: {', '.join(missing)}."}
            )
        with transaction.atomic():
            user_rows.delete()
            group_rows.delete()
        forget(request.user)
        return Response(
            {
                "role": role.name,
                "users": sorted(u.username for u in users),
                "groups": sorted(g.name for g in groups),
            },
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(responses={200: ObjectRolesSerializer})
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def list_roles(self, request, *args, **kwargs):
        obj = self.get_object()
        return Response({"roles": _role_summary(obj)})

    @extend_schema(responses={200: MyPermissionsSerializer})
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def my_permissions(self, request, *args, **kwargs):
        obj = self.get_object()
        if request.user.is_superuser:
            ct = ContentType.objects.get_for_model(obj)
            perms = {
                f"{ct.app_label}.{codename}"
                for codename in Permission.objects.filter(content_type=ct).values_list(
                    "codename", flat=True
                )
            }
        else:
            perms = effective_permissions(request.user).all_for_object(obj)
        return Response({"permissions": sorted(perms)})


# --- users ---------------------------------------------------------------------------------------
class UserViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    NamedModelViewSet,
):
    """``users/``: accounts. Deleting one keeps their tasks (``created_by`` becomes null)."""

    endpoint_name = "users"
    queryset = User.objects.prefetch_related("groups").order_by("id")
    serializer_class = UserSerializer
    filterset_class = UserFilter
    lookup_field = "id"

    DEFAULT_ACCESS_POLICY = {
        "statements": [
            {
                "action": ["list", "retrieve"],
                "principal": "authenticated",
                "effect": "allow",
                "condition": "has_model_perms:auth.view_user",
            },
            {
                "action": ["create"],
                "principal": "authenticated",
                "effect": "allow",
                "condition": "has_model_perms:auth.add_user",
            },
            {
                "action": ["update", "partial_update"],
                "principal": "authenticated",
                "effect": "allow",
                "condition": "has_model_perms:auth.change_user",
            },
            {
                "action": ["destroy"],
                "principal": "authenticated",
                "effect": "allow",
                "condition": "has_model_perms:auth.delete_user",
            },
        ],
    }


def _assignment_queryset(model):
    return (
        model.objects.select_related("role", "content_type")
        .prefetch_related(
            Prefetch(
                "role__permissions", queryset=Permission.objects.select_related("content_type")
            )
        )
        .order_by("pulp_created")
    )


class _AssignmentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    NamedModelViewSet,
):
    owner_field = ""

    def owner(self):
        parent = self.parent_viewset.queryset.model
        pk = self.kwargs[next(iter(self.parent_lookup_kwargs))]
        found = parent.objects.filter(pk=pk).first() if str(pk).isdigit() else None
        if found is None:
            from django.http import Http404

            raise Http404
        return found

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.action == "create":
            context[self.owner_field] = self.owner()
        return context

    def perform_create(self, serializer):
        serializer.save(**{self.owner_field: self.owner()})
        forget(self.request.user)

    def list(self, request, *args, **kwargs):
        self.owner()
        response = super().list(request, *args, **kwargs)
        return response

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        _prefetch_objects(page if page is not None else list(queryset))
        return page

    def get_object(self):
        obj = super().get_object()
        _prefetch_objects([obj])
        return obj


def _prefetch_objects(assignments) -> None:
    """Load the objects of a page of assignments with one query per object type."""
    by_type: dict[int, list] = {}
    for a in assignments:
        if a.content_type_id is not None:
            by_type.setdefault(a.content_type_id, []).append(a)
    for ct_id, items in by_type.items():
        model = ContentType.objects.get_for_id(ct_id).model_class()
        if model is None:
            continue
        objs = {str(o.pk): o for o in model.objects.filter(pk__in={a.object_id for a in items})}
        for a in items:
            a._pulp_object = objs.get(a.object_id)


_ASSIGNMENT_POLICY = {
    "statements": [
        {
            "action": ["list", "retrieve"],
            "principal": "authenticated",
            "effect": "allow",
            "condition": "has_model_perms:core.view_userrole",
        },
        {
            "action": ["create"],
            "principal": "authenticated",
            "effect": "allow",
            "condition": "has_model_perms:core.add_userrole",
        },
        {
            "action": ["destroy"],
            "principal": "authenticated",
            "effect": "allow",
            "condition": "has_model_perms:core.delete_userrole",
        },
    ],
}


def _int64_path(
    name: str, kind=OpenApiTypes.INT64, actions=("list", "create", "retrieve", "destroy")
):
    """Document an integer parent key as int64 on every action (Pulp's document does)."""
    param = OpenApiParameter(name, kind, OpenApiParameter.PATH)
    return extend_schema_view(**{a: extend_schema(parameters=[param]) for a in actions})


@_int64_path("user_pk")
class UserRoleViewSet(_AssignmentViewSet):
    """``users/<id>/roles/``: the roles a user holds, model-wide or on one object."""

    endpoint_name = "roles"
    parent_viewset = UserViewSet
    parent_lookup_kwargs = {"user_pk": "user__pk"}
    queryset = _assignment_queryset(UserRole)
    serializer_class = UserRoleSerializer
    filterset_class = UserRoleFilter
    owner_field = "user"
    DEFAULT_ACCESS_POLICY = _ASSIGNMENT_POLICY


# --- groups --------------------------------------------------------------------------------------
class GroupViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    RolesMixin,
    NamedModelViewSet,
):
    """``groups/``: groups of users; members get the group's roles."""

    endpoint_name = "groups"
    queryset = Group.objects.order_by("id")
    serializer_class = GroupSerializer
    filterset_class = GroupFilter
    lookup_field = "id"

    DEFAULT_ACCESS_POLICY = {
        "statements": [
            {"action": ["list", "my_permissions"], "principal": "authenticated", "effect": "allow"},
            {
                "action": ["create"],
                "principal": "authenticated",
                "effect": "allow",
                "condition": "has_model_perms:core.add_group",
            },
            {
                "action": ["retrieve"],
                "principal": "authenticated",
                "effect": "allow",
                "condition": "has_model_or_obj_perms:core.view_group",
            },
            {
                "action": ["update", "partial_update"],
                "principal": "authenticated",
                "effect": "allow",
                "condition": "has_model_or_obj_perms:core.change_group",
            },
            {
                "action": ["destroy"],
                "principal": "authenticated",
                "effect": "allow",
                "condition": "has_model_or_obj_perms:core.delete_group",
            },
            {
                "action": ["list_roles", "add_role", "remove_role"],
                "principal": "authenticated",
                "effect": "allow",
                "condition": "has_model_or_obj_perms:core.manage_roles_group",
            },
        ],
        "creation_hooks": [
            {
                "function": "add_roles_for_object_creator",
                "parameters": {"roles": "core.group_owner"},
            }
        ],
        "queryset_scoping": {"function": "scope_queryset"},
    }
    LOCKED_ROLES = {
        "core.group_creator": ["core.add_group"],
        "core.group_owner": [
            "core.view_group",
            "core.change_group",
            "core.delete_group",
            "core.manage_roles_group",
        ],
        "core.group_viewer": ["core.view_group"],
    }


@_int64_path("group_pk", OpenApiTypes.STR, ("list", "create", "destroy"))
class GroupUserViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, NamedModelViewSet
):
    """``groups/<id>/users/``: members of a group, added by username."""

    endpoint_name = "users"
    parent_viewset = GroupViewSet
    parent_lookup_kwargs = {"group_pk": "groups__pk"}
    queryset = User.objects.order_by("id")
    serializer_class = GroupUserSerializer
    filterset_class = None
    lookup_field = "id"

    DEFAULT_ACCESS_POLICY = {
        "statements": [
            {
                "action": ["list"],
                "principal": "authenticated",
                "effect": "allow",
                "condition": "has_parent_model_or_obj_perms:core.view_group",
            },
            {
                "action": ["create", "destroy"],
                "principal": "authenticated",
                "effect": "allow",
                "condition": "has_parent_model_or_obj_perms:core.change_group",
            },
        ],
    }

    def group(self) -> Group:
        pk = self.kwargs["group_pk"]
        found = Group.objects.filter(pk=pk).first() if str(pk).isdigit() else None
        if found is None:
            from django.http import Http404

            raise Http404
        return found

    def list(self, request, *args, **kwargs):
        group = self.group()
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        for user in page:
            user._pulp_group_pk = group.pk
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def create(self, request, *args, **kwargs):
        group = self.group()
        body = GroupUserSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user = body.validated_data["username"]
        user.groups.add(group)
        user._pulp_group_pk = group.pk
        return Response(GroupUserSerializer(user).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        group = self.group()
        user = self.get_object()
        user.groups.remove(group)
        return Response(status=status.HTTP_204_NO_CONTENT)


@_int64_path("group_pk")
class GroupRoleViewSet(_AssignmentViewSet):
    """``groups/<id>/roles/``: the roles a group holds; its members hold them too."""

    endpoint_name = "roles"
    parent_viewset = GroupViewSet
    parent_lookup_kwargs = {"group_pk": "group__pk"}
    queryset = _assignment_queryset(GroupRole)
    serializer_class = GroupRoleSerializer
    filterset_class = GroupRoleFilter
    owner_field = "group"
    DEFAULT_ACCESS_POLICY = {
        "statements": [
            {
                "action": ["list", "retrieve"],
                "principal": "authenticated",
                "effect": "allow",
                "condition": "has_parent_model_or_obj_perms:core.view_group",
            },
            {
                "action": ["create", "destroy"],
                "principal": "authenticated",
                "effect": "allow",
                "condition": "has_parent_model_or_obj_perms:core.manage_roles_group",
            },
        ],
    }


# --- roles ---------------------------------------------------------------------------------------
class RoleViewSet(ModelViewSet, NamedModelViewSet):
    """``roles/``: named sets of permissions. Roles Pulp ships are locked (read-only)."""

    endpoint_name = "roles"
    queryset = Role.objects.prefetch_related(
        Prefetch("permissions", queryset=Permission.objects.select_related("content_type"))
    ).order_by("name")
    serializer_class = RoleSerializer
    filterset_class = RoleFilter

    DEFAULT_ACCESS_POLICY = {
        "statements": [
            {"action": ["list", "retrieve"], "principal": "authenticated", "effect": "allow"},
            {
                "action": ["create"],
                "principal": "authenticated",
                "effect": "allow",
                "condition": "has_model_perms:core.add_role",
            },
            {
                "action": ["update", "partial_update"],
                "principal": "authenticated",
                "effect": "allow",
                "condition": "has_model_perms:core.change_role",
            },
            {
                "action": ["destroy"],
                "principal": "authenticated",
                "effect": "allow",
                "condition": "has_model_perms:core.delete_role",
            },
        ],
    }

    def _refuse_locked(self, role: Role) -> None:
        if role.locked:
            raise PermissionDenied(
                f"Role {role.name!r} is shipped by Pulp and locked; copy it to change it."
            )

    def perform_update(self, serializer):
        self._refuse_locked(serializer.instance)
        serializer.save()

    def update(self, request, *args, **kwargs):
        self._refuse_locked(self.get_object())
        return super().update(request, *args, **kwargs)

    def destroy(self, request, *args, **kwargs):
        self._refuse_locked(self.get_object())
        return super().destroy(request, *args, **kwargs)


# --- access policies -----------------------------------------------------------------------------
class AccessPolicyViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, NamedModelViewSet
):
    """``access_policies/``: the policy of each viewset; ``reset`` restores the shipped one."""

    endpoint_name = "access_policies"
    queryset = AccessPolicy.objects.order_by("viewset_name")
    serializer_class = AccessPolicySerializer
    filterset_class = AccessPolicyFilter

    DEFAULT_ACCESS_POLICY = {
        "statements": [
            {
                "action": ["list", "retrieve"],
                "principal": "authenticated",
                "effect": "allow",
                "condition": "has_model_perms:core.view_accesspolicy",
            },
            {
                "action": ["update", "partial_update", "reset"],
                "principal": "authenticated",
                "effect": "allow",
                "condition": "has_model_perms:core.change_accesspolicy",
            },
        ],
    }

    @extend_schema(request=None, responses={200: AccessPolicySerializer})
    @action(detail=True, methods=["post"])
    def reset(self, request, *args, **kwargs):
        policy = self.get_object()
        default = default_policies().get(policy.viewset_name)
        if default is None:
            raise ValidationError(
                {"detail": f"No shipped default policy for {policy.viewset_name}."}
            )
        for key, value in default_policy_fields(default).items():
            setattr(policy, key, value)
        policy.customized = False
        policy.save()
        return Response(self.get_serializer(policy).data)


__all__ = [
    "AccessPolicyViewSet",
    "GroupRoleViewSet",
    "GroupUserViewSet",
    "GroupViewSet",
    "RoleViewSet",
    "RolesMixin",
    "UserRoleViewSet",
    "UserViewSet",
    "serializers",
]
