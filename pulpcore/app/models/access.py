"""Role-based access control: roles, their assignments, groups and per-viewset access policies.

A role is a named set of Django permissions. Assigning a role to a user or group either
model-wide (no ``content_type``) or on one object (``content_type`` + ``object_id``) grants those
permissions; access policies (one per viewset, stored so admins can change them) decide which
permissions each action needs.
"""

from django.conf import settings
from django.contrib.auth.models import Group as DjangoGroup
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import models

from pulpcore.app.models.base import BaseModel


class Group(DjangoGroup):
    """Pulp's group: a Django group that can also hold object-level roles."""

    class Meta:
        permissions = [("manage_roles_group", "Can manage role assignments on group")]


class Role(BaseModel):
    """A named set of permissions; ``locked`` roles are shipped by Pulp and can't be edited."""

    name = models.TextField(unique=True)
    description = models.TextField(null=True)
    permissions = models.ManyToManyField(Permission, related_name="pulp_roles")
    locked = models.BooleanField(default=False)

    class Meta:
        ordering = ("name",)


class _Assignment(BaseModel):
    """A role given model-wide (no object) or on one object."""

    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="+")
    content_type = models.ForeignKey(
        ContentType, null=True, on_delete=models.CASCADE, related_name="+"
    )
    object_id = models.TextField(null=True)

    class Meta:
        abstract = True

    @property
    def content_object(self):
        if self.content_type_id is None:
            return None
        return self.content_type.get_object_for_this_type(pk=self.object_id)


class UserRole(_Assignment):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="object_roles"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "content_type", "object_id"],
                name="core_userrole_unique",
                nulls_distinct=False,
            )
        ]
        indexes = [models.Index(fields=["content_type", "object_id"])]


class GroupRole(_Assignment):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="object_roles")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["group", "role", "content_type", "object_id"],
                name="core_grouprole_unique",
                nulls_distinct=False,
            )
        ]
        indexes = [models.Index(fields=["content_type", "object_id"])]


class AccessPolicy(BaseModel):
    """The access policy of one viewset (``viewset_name`` is its URL prefix).

    ``customized`` is set when an admin changes it; uncustomized policies follow the shipped
    default on upgrade, and ``reset`` puts the shipped default back.
    """

    viewset_name = models.TextField(unique=True)
    statements = models.JSONField()
    creation_hooks = models.JSONField(default=list)
    queryset_scoping = models.JSONField(null=True)
    customized = models.BooleanField(default=False)

    class Meta:
        ordering = ("viewset_name",)
