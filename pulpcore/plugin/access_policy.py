"""RBAC for plugins: the permission class, policy helpers and the role actions mixin.

To put an object endpoint under RBAC (as pulp_file's viewsets do):

* give the model its extra permissions in ``Meta.permissions`` (``manage_roles_<model>`` for the
  role actions, plus e.g. ``sync_<model>``) and a migration;
* add ``RolesMixin`` first in the viewset's bases: it serves ``add_role``, ``remove_role``,
  ``list_roles`` and ``my_permissions``;
* set ``DEFAULT_ACCESS_POLICY`` (``object_policy(app_label, model)`` is the usual one: list for
  everyone with queryset scoping, the rest by model or object permission, creator made owner)
  and ``LOCKED_ROLES`` (``object_roles(app_label, model)``: ``<model>_creator/_owner/_viewer``).

``migrate`` stores the policy and the roles; nothing else needs registering.
"""

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
