"""Shipped access policies and locked roles of core viewsets, and helpers plugins build theirs with.

Each viewset names its policy with one line (``DEFAULT_ACCESS_POLICY = defaults.TASKS``); the
post-migrate sync stores it. The statements follow the ones Pulp 3.49 ships for each endpoint.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

AUTHENTICATED = "authenticated"


def allow(actions, condition=None, principal=AUTHENTICATED) -> dict:
    """One ``allow`` statement (``condition`` a string or a list of them)."""
    statement = {
        "action": [actions] if isinstance(actions, str) else list(actions),
        "principal": principal,
        "effect": "allow",
    }
    if condition:
        statement["condition"] = condition
    return statement


def owner_hook(role: str | list[str]) -> list[dict]:
    return [{"function": "add_roles_for_object_creator", "parameters": {"roles": role}}]


SCOPED = {"function": "scope_queryset"}
ADMIN_ONLY = {"statements": [allow("*", principal="admin")]}


def object_policy(
    app_label: str, model: str, extra: list[dict] | None = None, create_condition=None
) -> dict:
    """The usual policy of a plugin object endpoint (remote, publication, distribution ...)."""
    perm = f"{app_label}.%s_{model}"
    view = f"has_model_or_obj_perms:{perm % 'view'}"
    create = [f"has_model_perms:{perm % 'add'}"]
    if create_condition:
        create += [create_condition] if isinstance(create_condition, str) else create_condition
    return {
        "statements": [
            allow(["list", "my_permissions"]),
            allow("create", create),
            allow("retrieve", view),
            allow(
                ["update", "partial_update", "set_label", "unset_label"],
                [f"has_model_or_obj_perms:{perm % 'change'}", view],
            ),
            allow("destroy", [f"has_model_or_obj_perms:{perm % 'delete'}", view]),
            allow(
                ["list_roles", "add_role", "remove_role"],
                f"has_model_or_obj_perms:{perm % 'manage_roles'}",
            ),
            *(extra or []),
        ],
        "creation_hooks": owner_hook(f"{app_label}.{model}_owner"),
        "queryset_scoping": SCOPED,
    }


def object_roles(app_label: str, model: str, owner_extra: tuple[str, ...] = ()) -> dict:
    """``<model>_creator`` / ``_owner`` / ``_viewer`` locked roles for an object type."""
    perm = f"{app_label}.%s_{model}"
    return {
        f"{app_label}.{model}_creator": [perm % "add"],
        f"{app_label}.{model}_owner": [
            perm % "view",
            perm % "change",
            perm % "delete",
            perm % "manage_roles",
            *(f"{app_label}.{p}_{model}" for p in owner_extra),
        ],
        f"{app_label}.{model}_viewer": [perm % "view"],
    }


# --- core endpoints ------------------------------------------------------------------------------
GENERIC_LIST = {"statements": [allow("list")], "queryset_scoping": SCOPED}

TASKS = {
    "statements": [
        allow(["list", "my_permissions"]),
        allow("retrieve", "has_model_or_domain_or_obj_perms:core.view_task"),
        allow("destroy", "has_model_or_domain_or_obj_perms:core.delete_task"),
        allow("partial_update", "has_model_or_domain_or_obj_perms:core.change_task"),
        # Our purge task deletes every matching task, not only the caller's: admins only.
        allow("purge", principal="admin"),
        allow(
            ["list_roles", "add_role", "remove_role"],
            "has_model_or_domain_or_obj_perms:core.manage_roles_task",
        ),
    ],
    "queryset_scoping": SCOPED,
}
TASK_ROLES = {
    "core.task_owner": ["core.view_task", "core.change_task", "core.delete_task"],
    "core.task_viewer": ["core.view_task"],
}

TASK_GROUPS = {
    "statements": [
        allow("list"),
        allow("retrieve", "has_model_or_obj_perms:core.view_taskgroup"),
    ],
    "queryset_scoping": SCOPED,
}

WORKERS = {"statements": [allow(["list", "retrieve"])]}

UPLOADS = {
    "statements": [
        allow(["list", "my_permissions"]),
        allow("create"),
        allow(["retrieve"], "has_model_or_obj_perms:core.view_upload"),
        allow(["update", "commit"], "has_model_or_obj_perms:core.change_upload"),
        allow("destroy", "has_model_or_obj_perms:core.delete_upload"),
        allow(
            ["list_roles", "add_role", "remove_role"],
            "has_model_or_obj_perms:core.manage_roles_upload",
        ),
    ],
    "creation_hooks": owner_hook("core.upload_owner"),
    "queryset_scoping": SCOPED,
}
UPLOAD_ROLES = {
    "core.upload_owner": [
        "core.view_upload",
        "core.change_upload",
        "core.delete_upload",
        "core.manage_roles_upload",
    ],
}

ARTIFACTS = {
    "statements": [
        allow(["list", "retrieve"]),
        allow("create"),
        allow("destroy", principal="admin"),
    ],
    "queryset_scoping": SCOPED,
}

CONTENT = {"statements": [allow(["list", "retrieve"])], "queryset_scoping": SCOPED}

ORPHANS = ADMIN_ONLY


# --- scoping of things seen through repositories -------------------------------------------------
def visible_repository_q(perms) -> Q:
    """Repositories the user may view: a Q over Repository rows (no query to build)."""
    from pulpcore.app.models import Repository

    q = Q(pk__in=[])
    for detail in Repository.detail_models():
        name = f"{detail._meta.app_label}.view_{detail._meta.model_name}"
        if perms.has_model(name):
            q |= Q(pulp_type=detail.get_pulp_type())
        else:
            ids = perms.object_ids(name, detail)
            if ids:
                q |= Q(pk__in=ids)
    return q


def scope_content(view, qs: QuerySet, perms, params) -> QuerySet:
    """Content is visible through the repositories (any version) the user may view."""
    from pulpcore.app.models import Repository, RepositoryContent

    model = qs.model
    if getattr(model, "TYPE", None) and perms.has_model(
        f"{model._meta.app_label}.view_{model._meta.model_name}"
    ):
        return qs
    repos = Repository.objects.filter(visible_repository_q(perms)).values("pk")
    return qs.filter(
        pk__in=RepositoryContent.objects.filter(repository__in=repos).values("content_id")
    )


def scope_artifacts(view, qs: QuerySet, perms, params) -> QuerySet:
    """Artifacts of the content the user can see."""
    from pulpcore.app.models import Content, ContentArtifact

    content = scope_content(view, Content.objects.all(), perms, params).values("pk")
    return qs.filter(
        pk__in=ContentArtifact.objects.filter(content__in=content).values("artifact_id")
    )


def scope_repository_versions(view, qs: QuerySet, perms, params) -> QuerySet:
    from pulpcore.app.models import Repository

    repos = Repository.objects.filter(visible_repository_q(perms)).values("pk")
    return qs.filter(repository__in=repos)


# --- upstream pulps (replication) ----------------------------------------------------------------
UPSTREAM_PULPS = object_policy(
    "core",
    "upstreampulp",
    extra=[
        allow(
            "replicate",
            [
                "has_model_or_obj_perms:core.replicate_upstreampulp",
                "has_model_or_obj_perms:core.view_upstreampulp",
            ],
        )
    ],
)
UPSTREAM_PULP_ROLES = {
    **object_roles("core", "upstreampulp", owner_extra=("replicate",)),
    "core.upstreampulp_user": ["core.view_upstreampulp", "core.replicate_upstreampulp"],
}
