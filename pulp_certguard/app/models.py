"""Guards that admit clients by the certificate they present (forwarded by nginx)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from pulp_certguard.app.certs import (
    CertificateRefused,
    check_issued_and_valid,
    client_certificate,
    entitled_paths,
    load_ca_bundle,
    path_allowed,
)
from pulpcore.plugin.models import ContentGuard

# nginx puts the verified client certificate, URL-encoded, in this header.
CLIENT_CERT_HEADER = "X-CLIENT-CERT"


class BaseCertGuard(ContentGuard):
    """A guard holding the CA certificate (or bundle) client certificates must be issued by."""

    ca_certificate = models.TextField()

    class Meta:
        abstract = True

    def prepare(self) -> BaseCertGuard:
        self._cas = load_ca_bundle(self.ca_certificate)
        return self

    def _verified_client_cert(self, request: Any):
        cas = getattr(self, "_cas", None) or self.prepare()._cas
        cert = client_certificate(request.headers.get(CLIENT_CERT_HEADER))
        check_issued_and_valid(cert, cas)
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

    def permit(self, request: Any) -> None:
        cert = self._verified_client_cert(request)
        prefix = settings.CONTENT_PATH_PREFIX.rstrip("/")
        path = request.path
        if path.startswith(prefix + "/"):
            path = path[len(prefix) :]
        if not path_allowed(entitled_paths(cert), path):
            raise CertificateRefused(
                "Access denied: the entitlement certificate does not grant this path."
            )
