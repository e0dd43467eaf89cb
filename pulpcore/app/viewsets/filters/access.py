"""Filtersets of users, groups, roles, role assignments and access policies."""

from __future__ import annotations

from urllib.parse import urlparse

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.urls import Resolver404, resolve
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError

from pulpcore.app import util
from pulpcore.app.filters import NAME_FILTER_OPTIONS, BaseFilterSet, CharInFilter, ordering_filter
from pulpcore.app.models import AccessPolicy, Group, GroupRole, Role, UserRole

User = get_user_model()

# Lookups on the free-text fields of users and groups (Pulp offers no regex there).
TEXT_LOOKUPS = ["exact", "contains", "icontains", "iexact", "in"]


class UserFilter(BaseFilterSet):
    """Users by name, e-mail and flags."""

    ordering = ordering_filter(User)

    class Meta:
        model = User
        fields = {
            "username": TEXT_LOOKUPS,
            "first_name": TEXT_LOOKUPS,
            "last_name": TEXT_LOOKUPS,
            "email": TEXT_LOOKUPS,
            "is_active": ["exact"],
            "is_staff": ["exact"],
        }


class GroupFilter(BaseFilterSet):
    """Groups by id and name."""

    ordering = django_filters.OrderingFilter(fields=(("pk", "pk"), ("id", "id"), ("name", "name")))

    class Meta:
        model = Group
        fields = {"id": ["exact", "in"], "name": TEXT_LOOKUPS}


class _AssignmentFilter(BaseFilterSet):
    """Role assignments by role name (``role``, not ``role__name``, as Pulp names it) and object."""

    role = django_filters.CharFilter(field_name="role__name")
    role__contains = django_filters.CharFilter(field_name="role__name", lookup_expr="contains")
    role__icontains = django_filters.CharFilter(field_name="role__name", lookup_expr="icontains")
    role__in = CharInFilter(field_name="role__name", lookup_expr="in")
    role__startswith = django_filters.CharFilter(field_name="role__name", lookup_expr="startswith")
    content_object = django_filters.CharFilter(method="filter_content_object")
    domain = django_filters.UUIDFilter(method="filter_domain")
    ordering = django_filters.OrderingFilter(
        fields=(
            ("pk", "pk"),
            ("pulp_created", "pulp_created"),
            ("role__name", "role"),
            ("role__description", "description"),
        )
    )

    def filter_content_object(self, qs, name, value):
        """An object href, or ``null`` for model-wide assignments."""
        if value == "null":
            return qs.filter(content_type__isnull=True)
        try:
            obj = util.resolve_href(value)
        except util.HrefError as exc:
            raise ValidationError({"content_object": [str(exc)]})
        ct = ContentType.objects.get_for_model(obj)
        return qs.filter(content_type=ct, object_id=str(obj.pk))

    def filter_domain(self, qs, name, value):
        """Domains are not served: no assignment belongs to one."""
        return qs.none()


class UserRoleFilter(_AssignmentFilter):
    class Meta:
        model = UserRole
        fields: dict = {}


class GroupRoleFilter(_AssignmentFilter):
    class Meta:
        model = GroupRole
        fields: dict = {}


class _AnyValuesField(forms.MultipleChoiceField):
    def valid_value(self, value) -> bool:
        return True


@extend_schema_field({"type": "string"})
class ContainsPermissionFilter(django_filters.MultipleChoiceFilter):
    """``contains_permission=a.b&contains_permission=c.d``: roles holding any of them."""

    field_class = _AnyValuesField

    def filter(self, qs, value):
        values = [v for v in value or [] if v]
        if not values:
            return qs
        q = Q()
        for name in values:
            app_label, _, codename = name.partition(".")
            q |= Q(permissions__content_type__app_label=app_label, permissions__codename=codename)
        return qs.filter(q).distinct()


class ForObjectTypeFilter(django_filters.CharFilter):
    """``for_object_type=<list href>``: roles carrying a permission on that type of object."""

    def filter(self, qs, value):
        if not value:
            return qs
        try:
            match = resolve(urlparse(value).path)
            model = match.func.cls.queryset.model
        except (Resolver404, AttributeError, ValueError):
            raise ValidationError({"for_object_type": [f"URI {value} is not a list endpoint."]})
        ct = ContentType.objects.get_for_model(model)
        return qs.filter(permissions__content_type=ct).distinct()


class RoleFilter(BaseFilterSet):
    """Roles by name, description, lock, the permissions they carry and the object type."""

    contains_permission = ContainsPermissionFilter()
    for_object_type = ForObjectTypeFilter()
    ordering = ordering_filter(Role)

    class Meta:
        model = Role
        fields = {
            "name": NAME_FILTER_OPTIONS,
            "description": ["exact", "contains", "icontains", "iexact"],
            "locked": ["exact"],
        }


class AccessPolicyFilter(BaseFilterSet):
    """Access policies by viewset name and whether an admin changed them."""

    ordering = ordering_filter(AccessPolicy)

    class Meta:
        model = AccessPolicy
        fields = {"viewset_name": NAME_FILTER_OPTIONS, "customized": ["exact"]}
