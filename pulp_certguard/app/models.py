"""Guards that admit clients by the certificate they present (forwarded by nginx)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db import models

from pulp_certguard.app.certs import (
    CertificateRefused,
    check_issued_and_valid,
    client_certificate,
    entitlements,
    load_ca_bundle,
)
from pulpcore.plugin.models import ContentGuard

# nginx puts the verified client certificate, URL-encoded, in this header.
CLIENT_CERT_HEADER = "X-CLIENT-CERT"
# Client certificates remembered per guard as already checked against its CA.
ISSUED_MEMO_SIZE = 1024


def _make_room(memo: dict) -> None:
    """Forget the oldest entry of a full memo (tolerates another thread doing the same)."""
    if len(memo) >= ISSUED_MEMO_SIZE:
        try:
            memo.pop(next(iter(memo)), None)
        except (RuntimeError, StopIteration):
            memo.clear()


class BaseCertGuard(ContentGuard):
    """A guard holding the CA certificate (or bundle) client certificates must be issued by."""

    ca_certificate = models.TextField()

    class Meta:
        abstract = True

    def prepare(self) -> BaseCertGuard:
        self._cas = load_ca_bundle(self.ca_certificate)
        # Header value -> certificate already found to be issued by one of ``_cas``. Parsing and
        # checking a signature costs several times what serving a small file does; a client
        # sends the same certificate on every request. Dates are still checked every time. The
        # prepared guard (and so this memo) is dropped whenever any guard changes.
        self._issued: dict[str, Any] = {}
        return self

    def _verified_client_cert(self, request: Any):
        if getattr(self, "_cas", None) is None:
            self.prepare()
        value = request.headers.get(CLIENT_CERT_HEADER)
        known = self._issued.get(value) if value else None
        if known is None:
            cert = client_certificate(value)
            ca = check_issued_and_valid(cert, self._cas)
            _make_room(self._issued)
            # The window in which both the certificate and its CA are valid, as POSIX times.
            start = max(cert.not_valid_before_utc, ca.not_valid_before_utc).timestamp()
            end = min(cert.not_valid_after_utc, ca.not_valid_after_utc).timestamp()
            self._issued[value] = (cert, start, end)
        else:
            cert, start, end = known
            if not start <= time.time() <= end:
                # Outside the window: let the full check say which date is the problem.
                check_issued_and_valid(cert, self._cas)
        return cert


class X509CertGuard(BaseCertGuard):
    """Lets through clients whose certificate was issued by the CA and is valid now."""

    TYPE = "x509"

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"

    def permit(self, request: Any) -> None:
        self._verified_client_cert(request)


class RHSMCertGuard(BaseCertGuard):
    """Like X509CertGuard, and the certificate's entitlements must cover the requested path."""

    TYPE = "rhsm"

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"

    def prepare(self) -> RHSMCertGuard:
        super().prepare()
        # Header value -> what its certificate grants, or the reason it cannot be read (decoding
        # a version 3 payload costs more than the signature check the memo above saves).
        self._grants: dict[str, Any] = {}
        return self

    def permit(self, request: Any) -> None:
        cert = self._verified_client_cert(request)
        value = request.headers.get(CLIENT_CERT_HEADER)
        grants = self._grants.get(value)
        if grants is None:
            try:
                grants = entitlements(cert)
            except CertificateRefused as exc:
                grants = exc
            _make_room(self._grants)
            self._grants[value] = grants
        if isinstance(grants, CertificateRefused):
            raise CertificateRefused(str(grants))
        prefix = settings.CONTENT_PATH_PREFIX.rstrip("/")
        path = request.path
        if path.startswith(prefix + "/"):
            path = path[len(prefix) :]
        if not grants.allows(path):
            raise CertificateRefused(
                "Access denied: the entitlement certificate does not grant this path."
            )
