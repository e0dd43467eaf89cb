"""The permission class of every Pulp viewset: its access policy, read from the database.

Statements are evaluated by drf-access-policy. Conditions are Pulp's names (``has_model_perms``,
``has_model_or_obj_perms``, ``has_remote_param_model_or_obj_perms`` ...), and principals also accept
``user:<username>``. A viewset without a stored policy is open to superusers only.
"""

from __future__ import annotations

from django.db.models import Model, Q, QuerySet
from pyparsing import OpAssoc, ParseException, infix_notation
from rest_access_policy import AccessPolicy, AccessPolicyException
from rest_access_policy.parsing import BoolAnd, BoolNot, BoolOperand, BoolOr
from rest_framework.permissions import BasePermission

from pulpcore.app import util
from pulpcore.app.access.perms import effective_permissions, has_perm

_POLICY_ATTR = "_pulp_access_policy"


class SuperuserOnly(BasePermission):
    """Pulp's ``admin`` principal alone, for endpoints that act on the whole installation (or
    reveal its server paths) and so take no stored policy."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_superuser)


def policy_name(viewset) -> str:
    """The ``viewset_name`` of a viewset's policy: its route with parent lookups left out."""
    viewset = viewset if isinstance(viewset, type) else type(viewset)
    parent = getattr(viewset, "parent_viewset", None)
    if parent is not None:
        return f"{policy_name(parent)}/{viewset.endpoint_name}"
    return viewset.url_prefix()


def stored_policy(view):
    """The AccessPolicy row of ``view`` (once per request), or None."""
    from pulpcore.app.models import AccessPolicy as AccessPolicyModel

    request = getattr(view, "request", None)
    if request is not None and hasattr(request, _POLICY_ATTR):
        return getattr(request, _POLICY_ATTR)
    policy = AccessPolicyModel.objects.filter(viewset_name=policy_name(view)).first()
    if request is not None:
        setattr(request, _POLICY_ATTR, policy)
    return policy


def _obj(view):
    """The object the request addresses (cached on the view so conditions share one lookup)."""
    cached = getattr(view, "_pulp_condition_obj", None)
    if cached is None:
        cached = view.get_object()
        view._pulp_condition_obj = cached
    return cached


def _param_object(request, name: str, expected=None):
    value = request.data.get(name) if hasattr(request.data, "get") else None
    if not value or not isinstance(value, str):
        return None
    try:
        return util.resolve_href(value, expected)
    except util.HrefError:
        # The serializer reports a bad href with a 400; the condition doesn't decide that.
        return None


class AccessPolicyFromDB(AccessPolicy):
    """drf-access-policy with statements from the viewset's stored policy."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if user is not None and user.is_authenticated and user.is_superuser:
            return True
        return super().has_permission(request, view)

    def get_policy_statements(self, request, view):
        policy = stored_policy(view)
        if policy is None:
            return [{"action": "*", "principal": "admin", "effect": "allow"}]
        return policy.statements

    def _get_statements_matching_principal(self, request, statements):
        # ``user:<name>`` is Pulp's spelling; drf-access-policy knows ``id:<pk>``.
        user = request.user
        username = getattr(user, "username", None)
        if username:
            for statement in statements:
                principals = statement["principal"]
                if f"user:{username}" in principals:
                    statement["principal"] = [*principals, f"id:{user.pk}"]
        return super()._get_statements_matching_principal(request, statements)

    # --- condition plumbing ----------------------------------------------------------------------
    def knows_condition(self, name: str) -> bool:
        """Conditions are the ``has_*``/``is_*`` methods below (nothing else may be named)."""
        return name.startswith(("has_", "is_")) and callable(getattr(self, name, None))

    def _get_condition_method(self, method_name: str):
        if not self.knows_condition(method_name):
            raise AccessPolicyException(f"Unknown access policy condition {method_name!r}.")
        return getattr(self, method_name)

    def expression_problem(self, expression: str) -> str | None:
        """Why a ``condition_expression`` can't be evaluated, or None."""
        names: list[str] = []
        operand = BoolOperand().copy()

        def collect(tokens):
            names.append(tokens[0])
            return True

        operand.set_parse_action(collect)
        grammar = infix_notation(
            operand,
            [
                ("not", 1, OpAssoc.RIGHT, BoolNot),
                ("and", 2, OpAssoc.LEFT, BoolAnd),
                ("or", 2, OpAssoc.LEFT, BoolOr),
            ],
        )
        try:
            grammar.parse_string(expression, parse_all=True)
        except ParseException as exc:
            return f"condition_expression {expression!r} does not parse ({exc.msg})."
        for name in names:
            if not self.knows_condition(name.split(":", 1)[0]):
                return f"unknown condition {name.split(':', 1)[0]!r} in condition_expression."
        return None

    # --- Pulp's conditions -----------------------------------------------------------------------
    def has_model_perms(self, request, view, action, permission) -> bool:
        return has_perm(request.user, permission)

    def has_obj_perms(self, request, view, action, permission) -> bool:
        user = request.user
        if user.is_superuser:
            return True
        return effective_permissions(user).has_obj(permission, _obj(view))

    def has_model_or_obj_perms(self, request, view, action, permission) -> bool:
        if has_perm(request.user, permission):
            return True
        return has_perm(request.user, permission, _obj(view))

    def has_model_or_domain_perms(self, request, view, action, permission) -> bool:
        # Domains are disabled: the default domain is the whole installation.
        return has_perm(request.user, permission)

    def has_model_or_domain_or_obj_perms(self, request, view, action, permission) -> bool:
        return self.has_model_or_obj_perms(request, view, action, permission)

    def has_repository_model_or_obj_perms(self, request, view, action, permission) -> bool:
        """For nested views (repository versions): the permission on the parent repository."""
        if has_perm(request.user, permission):
            return True
        repository = _parent_object(view)
        return repository is not None and has_perm(request.user, permission, repository)

    def has_parent_model_or_obj_perms(self, request, view, action, permission) -> bool:
        """For nested views (group users, group roles): the permission on the parent object."""
        return self.has_repository_model_or_obj_perms(request, view, action, permission)

    def has_repository_model_or_domain_or_obj_perms(
        self, request, view, action, permission
    ) -> bool:
        return self.has_repository_model_or_obj_perms(request, view, action, permission)

    def has_remote_param_model_or_obj_perms(self, request, view, action, permission) -> bool:
        """The ``remote`` of the request (or the repository's own remote) must be visible."""
        from pulpcore.app.models import Remote

        remote = _param_object(request, "remote", Remote)
        if remote is None and view.detail:
            remote = getattr(_obj(view), "remote", None)
            remote = remote.cast() if remote is not None else None
        if remote is None:
            return True
        return has_perm(request.user, permission, remote)

    def has_remote_param_model_or_domain_or_obj_perms(
        self, request, view, action, permission
    ) -> bool:
        return self.has_remote_param_model_or_obj_perms(request, view, action, permission)

    def has_repo_or_repo_ver_param_model_or_obj_perms(
        self, request, view, action, permission
    ) -> bool:
        """The ``repository`` or ``repository_version`` named by the request must be allowed."""
        from pulpcore.app.models import Repository, RepositoryVersion

        repository = _param_object(request, "repository", Repository)
        version = _param_object(request, "repository_version", RepositoryVersion)
        if version is not None:
            repository = version.repository.cast()
        if repository is None:
            return True
        return has_perm(request.user, permission, repository)

    def has_repo_or_repo_ver_param_model_or_domain_or_obj_perms(
        self, request, view, action, permission
    ) -> bool:
        return self.has_repo_or_repo_ver_param_model_or_obj_perms(request, view, action, permission)

    def has_base_version_param_model_or_obj_perms(self, request, view, action, permission) -> bool:
        """A modify based on another repository's version needs ``permission`` on that one."""
        from pulpcore.app.models import RepositoryVersion

        version = _param_object(request, "base_version", RepositoryVersion)
        if version is None:
            return True
        return has_perm(request.user, permission, version.repository.cast())

    def has_publication_param_model_or_obj_perms(self, request, view, action, permission) -> bool:
        from pulpcore.app.models import Publication

        publication = _param_object(request, "publication", Publication)
        if publication is None:
            return True
        return has_perm(request.user, permission, publication)

    def has_repo_attr_model_or_obj_perms(self, request, view, action, permission) -> bool:
        """A distribution's ``repository`` (in the request, or the object's) must be allowed."""
        from pulpcore.app.models import Repository

        repository = _param_object(request, "repository", Repository)
        if repository is None:
            return True
        return has_perm(request.user, permission, repository)

    def has_upload_param_model_or_obj_perms(self, request, view, action, permission) -> bool:
        from pulpcore.app.models import Upload

        upload = _param_object(request, "upload", Upload)
        if upload is None:
            return True
        return has_perm(request.user, permission, upload)

    def has_required_repo_perms_on_upload(self, request, view, action, permission) -> bool:
        """Uploading content as a non-admin needs a ``repository`` the user may change."""
        from pulpcore.app.models import Repository

        if has_perm(request.user, permission):
            return True
        repository = _param_object(request, "repository", Repository)
        if repository is None:
            return False
        return has_perm(request.user, permission, repository)

    def is_task_owner(self, request, view, action) -> bool:
        task = _obj(view)
        return task.created_by_id is not None and task.created_by_id == request.user.pk


def _parent_object(view):
    parent = getattr(view, "parent_viewset", None)
    if parent is None:
        return None
    cached = getattr(view, "_pulp_parent_obj", None)
    if cached is None:
        for url_kwarg in view.parent_lookup_kwargs:
            pk = view.kwargs.get(url_kwarg)
            model = parent.queryset.model
            if pk is None or not (util.is_uuid(pk) or str(pk).isdigit()):
                return None
            cached = model.objects.filter(pk=pk).first()
            if cached is not None and hasattr(cached, "cast"):
                cached = cached.cast()
        view._pulp_parent_obj = cached
    return cached


def view_permission(model: type[Model]) -> str:
    return f"{model._meta.app_label}.view_{model._meta.model_name}"


def scope(view, qs: QuerySet) -> QuerySet:
    """Only the rows the user may view, when the view's policy asks for queryset scoping.

    One query-free filter built from the cached effective permissions: all rows with a
    model-wide view permission, else the objects the user holds the permission on. A master
    model (generic lists) unions over its detail types.
    """
    request = getattr(view, "request", None)
    user = getattr(request, "user", None)
    if getattr(view, "swagger_fake_view", False):
        return qs
    if user is None or (user.is_authenticated and user.is_superuser):
        return qs
    policy = stored_policy(view)
    if policy is None or not policy.queryset_scoping:
        return qs
    if not user.is_authenticated:
        return qs.none()
    scoping = policy.queryset_scoping
    params = scoping.get("parameters") or {}
    perms = effective_permissions(user)
    model = qs.model
    custom = getattr(view, "rbac_scope", None)
    if custom is not None:
        return custom(qs, perms, params)
    detail_models = []
    if hasattr(model, "detail_models") and not getattr(model, "TYPE", None):
        detail_models = model.detail_models()
    if not detail_models:
        permission = params.get("permission") or view_permission(model)
        if perms.has_model(permission):
            return qs
        return qs.filter(pk__in=perms.object_ids(permission, model))
    q = Q(pk__in=[])
    for detail in detail_models:
        permission = view_permission(detail)
        if perms.has_model(permission):
            q |= Q(pulp_type=detail.get_pulp_type())
        else:
            ids = perms.object_ids(permission, detail)
            if ids:
                q |= Q(pk__in=ids)
    return qs.filter(q)
