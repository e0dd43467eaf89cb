"""Content guards: who may download what a distribution serves.

A guard is a master/detail model. Every detail type implements ``permit(request)``, which returns
``None`` to let a content request through and raises ``PermissionError`` (with a short reason
that is shown to the client) to refuse it. The content app loads a distribution's guard once, in
the database thread that resolves the request, calls ``prepare()`` so that every later ``permit``
can run without a query, and keeps the prepared object in its resolution cache until the
database says a guard changed.

A type whose check must ask the database per request (RBAC: "may this user read it?") sets
``needs_db = True``; the content app then runs its ``permit`` in a database thread instead of on
the event loop.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
import time
from typing import Any, ClassVar
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.db import models
from django.utils.crypto import salted_hmac

from pulpcore.app.models.base import MasterModel
from pulpcore.app.models.fields import EncryptedTextField


class NotAuthenticated(PermissionError):
    """A refusal because the request names no (valid) user: the content app answers 401."""


class ContentGuard(MasterModel):
    """Decides whether a content request may be served; plugins subclass it."""

    # Set by detail types whose ``permit`` queries the database.
    needs_db: ClassVar[bool] = False

    name = models.TextField(unique=True)
    description = models.TextField(null=True)

    def prepare(self) -> ContentGuard:
        """Load what ``permit`` needs (runs in a DB thread); return the guard to keep."""
        return self

    def permit(self, request: Any) -> None:  # pragma: no cover - detail types override
        """Raise PermissionError to refuse ``request`` (an aiohttp request)."""
        raise PermissionError("This content guard type cannot authorize requests.")


# --- header ---------------------------------------------------------------------------------------
def compile_jq(expression: str):
    """Compile a jq program; raise ValueError with jq's message when it does not compile."""
    import jq

    try:
        return jq.compile(expression)
    except ValueError as exc:
        raise ValueError(str(exc).splitlines()[0] if str(exc) else "invalid jq filter") from exc


class HeaderContentGuard(ContentGuard):
    """Lets a request through when a header carries an expected value.

    Without ``jq_filter`` the header's value must equal ``header_value``. With it, the header holds
    base64-encoded JSON (as identity headers set by a front proxy do); the filter is applied to the
    decoded document and its first result must equal ``header_value``.
    """

    TYPE = "header"

    header_name = models.TextField()
    header_value = models.TextField()
    jq_filter = models.TextField(null=True)

    def prepare(self) -> HeaderContentGuard:
        self._program = compile_jq(self.jq_filter) if self.jq_filter else None
        return self

    def permit(self, request: Any) -> None:
        value = request.headers.get(self.header_name)
        if value is None:
            raise PermissionError(f"Access denied: the {self.header_name} header is missing.")
        if self.jq_filter:
            program = getattr(self, "_program", None) or self.prepare()._program
            try:
                document = json.loads(base64.b64decode(value, validate=True))
            except (binascii.Error, ValueError) as exc:
                raise PermissionError(
                    f"Access denied: the {self.header_name} header is not base64-encoded JSON."
                ) from exc
            try:
                result = program.input_value(document).first()
            except (ValueError, StopIteration) as exc:
                raise PermissionError(
                    f"Access denied: the {self.header_name} header does not match the filter."
                ) from exc
            value = result if isinstance(result, str) else json.dumps(result)
        if not hmac.compare_digest(str(value).encode(), self.header_value.encode()):
            raise PermissionError(f"Access denied: the {self.header_name} header is not accepted.")

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"
        permissions = [("manage_roles_headercontentguard", "Can manage roles on header guards")]


# --- composite ------------------------------------------------------------------------------------
class CompositeContentGuard(ContentGuard):
    """Several guards, any one of which may let a request through (a logical OR, as in Pulp).

    A composite without guards lets nothing through.
    """

    TYPE = "composite"

    guards = models.ManyToManyField(ContentGuard, related_name="composites")

    def prepare(self) -> CompositeContentGuard:
        self._members = [g.cast().prepare() for g in self.guards.all().order_by("name")]
        return self

    @property
    def needs_db(self) -> bool:  # type: ignore[override]
        return any(g.needs_db for g in getattr(self, "_members", ()))

    def permit(self, request: Any) -> None:
        members = getattr(self, "_members", None)
        if members is None:
            members = self.prepare()._members
        if not members:
            raise PermissionError("Access denied: the composite guard has no guards.")
        reasons = []
        for guard in members:
            try:
                guard.permit(request)
                return
            except PermissionError as exc:
                reasons.append(f"{guard.name}: {exc}")
        raise PermissionError("Access denied by every guard (" + "; ".join(reasons) + ").")

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"
        permissions = [
            ("manage_roles_compositecontentguard", "Can manage roles on composite guards")
        ]


# --- signed redirects -----------------------------------------------------------------------------
TOKEN_PARAMETER = "validate_token"


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


class ContentRedirectContentGuard(ContentGuard):
    """Lets through requests carrying a valid, unexpired signature of their own path.

    The API (or a plugin) hands out URLs made by :meth:`preauthenticate_url`. The signature is an
    HMAC-SHA256 over the URL's path and expiry time, keyed by ``SECRET_KEY`` combined with this
    guard's random ``shared_secret``; changing the path or the expiry, or rotating either secret,
    invalidates the URL.
    """

    TYPE = "content_redirect"

    # Encrypted at rest: whoever reads the database must not be able to sign URLs.
    shared_secret = EncryptedTextField(default=_new_secret)

    def _signature(self, path: str, expires: int) -> str:
        mac = salted_hmac(
            f"pulp.content_redirect.{self.shared_secret}",
            f"{path}\n{expires}",
            secret=settings.SECRET_KEY,
            algorithm="sha256",
        )
        return mac.hexdigest()

    def preauthenticate_url(self, url: str, expires_in: int = 60) -> str:
        """``url`` with a token that lets it through this guard for ``expires_in`` seconds."""
        parts = urlsplit(url)
        expires = int(time.time()) + int(expires_in)
        token = f"{expires}:{self._signature(unquote(parts.path), expires)}"
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != TOKEN_PARAMETER]
        query.append((TOKEN_PARAMETER, token))
        return urlunsplit(parts._replace(query=urlencode(query)))

    def permit(self, request: Any) -> None:
        token = request.query.get(TOKEN_PARAMETER)
        if not token:
            raise PermissionError("Access denied: this URL needs a validate_token.")
        expires_text, _, signature = token.partition(":")
        try:
            expires = int(expires_text)
        except ValueError as exc:
            raise PermissionError("Access denied: the validate_token is malformed.") from exc
        expected = self._signature(request.path, expires)
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            raise PermissionError("Access denied: the validate_token does not match this URL.")
        if expires < time.time():
            raise PermissionError("Access denied: the validate_token has expired.")

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"
        permissions = [
            (
                "manage_roles_contentredirectcontentguard",
                "Can manage roles on content redirect guards",
            )
        ]


# --- RBAC -----------------------------------------------------------------------------------------
DOWNLOAD_PERMISSION = "core.download_rbaccontentguard"


def content_request_user(request: Any):
    """The user a content request authenticates as (HTTP basic, else a Django session), or None.

    Runs in a database thread. Basic credentials go through the API's cached password check, so a
    client downloading many files pays the slow hash once a minute, not once per file.
    """
    from aiohttp import BasicAuth

    from pulpcore.app.authentication import check_credentials, session_user

    header = request.headers.get("Authorization")
    if header:
        try:
            auth = BasicAuth.decode(header)
        except ValueError:
            return None
        return check_credentials(auth.login, auth.password)
    session_key = request.cookies.get(settings.SESSION_COOKIE_NAME)
    return session_user(session_key) if session_key else None


class RBACContentGuard(ContentGuard):
    """Lets through users who hold ``core.download_rbaccontentguard`` on this guard.

    The permission comes with the ``core.rbaccontentguard_downloader`` role, given to users or
    groups on the guard (``add_role``; ``pulp content-guard rbac assign``) or model-wide.
    Superusers always pass. Without credentials the answer is 401, with a user lacking the
    permission 403.
    """

    TYPE = "rbac"
    needs_db: ClassVar[bool] = True
    # Pulp 3.49's generic ``contentguards/`` list documents no ``core.rbac`` pulp_type, and the
    # client checks parameters against that enum: the type is listed there, not filterable.
    TYPE_FILTERABLE: ClassVar[bool] = False

    def permit(self, request: Any) -> None:
        from pulpcore.app.access.perms import has_perm

        user = content_request_user(request)
        if user is None:
            raise NotAuthenticated(
                "Authentication required: this content is only served to Pulp users allowed to "
                "download it."
            )
        if not has_perm(user, DOWNLOAD_PERMISSION, self):
            raise PermissionError(
                f"Access denied: {user.username} may not download content guarded by {self.name}."
            )

    @property
    def download_users(self) -> list:
        if not hasattr(self, "_download_users"):
            attach_downloaders([self])
        return self._download_users

    @property
    def download_groups(self) -> list:
        if not hasattr(self, "_download_groups"):
            attach_downloaders([self])
        return self._download_groups

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"
        permissions = [
            ("download_rbaccontentguard", "Can download content guarded by this RBAC guard"),
            ("manage_roles_rbaccontentguard", "Can manage roles on RBAC content guards"),
        ]


def attach_downloaders(guards: list[RBACContentGuard]) -> None:
    """Load who may download through each guard (users and groups holding a role with the
    download permission on it): two queries for any number of guards, so lists stay O(1)."""
    from django.contrib.contenttypes.models import ContentType

    from pulpcore.app.models.access import GroupRole, UserRole

    if not guards:
        return
    app_label, codename = DOWNLOAD_PERMISSION.split(".")
    where = {
        "content_type": ContentType.objects.get_for_model(RBACContentGuard),
        "object_id__in": [str(g.pk) for g in guards],
        "role__permissions__codename": codename,
        "role__permissions__content_type__app_label": app_label,
    }
    users: dict[str, dict] = {str(g.pk): {} for g in guards}
    for row in UserRole.objects.filter(**where).select_related("user"):
        users[row.object_id][row.user.pk] = row.user
    groups: dict[str, dict] = {str(g.pk): {} for g in guards}
    for grow in GroupRole.objects.filter(**where).select_related("group"):
        groups[grow.object_id][grow.group.pk] = grow.group
    for guard in guards:
        guard._download_users = sorted(users[str(guard.pk)].values(), key=lambda u: u.username)
        guard._download_groups = sorted(groups[str(guard.pk)].values(), key=lambda g: g.name)
