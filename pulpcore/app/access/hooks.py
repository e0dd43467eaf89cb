"""Creation hooks: what an access policy does for the user who created an object.

Objects are created in the API process or inside a task; in both cases the creator is known (the
request's user, or the user who dispatched the task), and the policy of the viewset serving the
new object's type names the roles to give them.
"""

from __future__ import annotations

import logging

from django.db.models import Model

from pulpcore.app.access.roles import assign_role

log = logging.getLogger(__name__)


def add_roles_for_object_creator(obj: Model, user, roles) -> None:
    """Give the creator ``roles`` (a name or a list of names) on the new object."""
    for role in [roles] if isinstance(roles, str) else list(roles or []):
        assign_role(role, user=user, obj=obj)


def add_for_object_creator(obj: Model, user, **_ignored) -> None:
    """Older hook name: the creator gets the viewset's ``*_owner`` role on the object."""
    from pulpcore.app.models import Role

    model = obj._meta
    name = f"{model.app_label}.{model.model_name}_owner"
    if Role.objects.filter(name=name).exists():
        assign_role(name, user=user, obj=obj)


CREATION_HOOKS = {
    "add_roles_for_object_creator": add_roles_for_object_creator,
    "add_for_object_creator": add_for_object_creator,
}


def creator():
    """The user creating objects now: the request's user, else the running task's creator."""
    from pulpcore.app.middleware import current_request

    request = current_request()
    user = getattr(request, "user", None) if request is not None else None
    if user is not None and user.is_authenticated:
        return user
    from pulpcore.tasking.context import current_task

    task = current_task()
    if task is not None and task.created_by_id is not None:
        return task.created_by
    return None


def run_creation_hooks(obj: Model, user=None) -> None:
    """Run the creation hooks of the policy that governs ``obj``'s type (no-op without one)."""
    from pulpcore.app import util
    from pulpcore.app.access.policy import policy_name
    from pulpcore.app.models import AccessPolicy

    viewset = util.VIEWSET_FOR_MODEL.get(type(obj))
    if viewset is None:
        return
    user = user if user is not None else creator()
    if user is None or not user.is_authenticated:
        return
    policy = AccessPolicy.objects.filter(viewset_name=policy_name(viewset)).first()
    if policy is None:
        return
    for hook in policy.creation_hooks or []:
        function = CREATION_HOOKS.get(hook.get("function"))
        if function is None:
            log.warning("Access policy %s names unknown hook %r", policy.viewset_name, hook)
            continue
        function(obj, user, **(hook.get("parameters") or {}))


def on_post_save(sender, instance, created, raw=False, **kwargs) -> None:
    """post_save receiver: creation hooks for every newly created object an endpoint serves."""
    from pulpcore.app import util

    if not created or raw:
        return
    if sender._meta.label == "core.Task":
        # Whoever dispatched a task owns it (sees and cancels it), as in Pulp. Superusers see
        # every task anyway: no role row (and no extra queries) for them.
        if instance.created_by_id is not None and not instance.created_by.is_superuser:
            assign_role("core.task_owner", user=instance.created_by, obj=instance)
        return
    viewset = util.VIEWSET_FOR_MODEL.get(type(instance))
    # Only types whose shipped policy has hooks: content saved by a sync costs nothing extra.
    default = getattr(viewset, "DEFAULT_ACCESS_POLICY", None) or {}
    if default.get("creation_hooks"):
        run_creation_hooks(instance)
