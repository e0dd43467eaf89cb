"""RBAC for plugins: the permission class, policy helpers and the role actions mixin."""

from pulpcore.app.access.defaults import (  # noqa: F401
    SCOPED,
    allow,
    object_policy,
    object_roles,
    owner_hook,
)
from pulpcore.app.access.perms import effective_permissions, has_perm  # noqa: F401
from pulpcore.app.access.policy import AccessPolicyFromDB  # noqa: F401
from pulpcore.app.access.roles import assign_role, remove_role  # noqa: F401
from pulpcore.app.viewsets.access import RolesMixin  # noqa: F401
