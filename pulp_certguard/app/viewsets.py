"""Endpoints of the certificate guards (``contentguards/certguard/<type>/``)."""

from pulp_certguard.app.models import RHSMCertGuard, X509CertGuard
from pulp_certguard.app.serializers import RHSMCertGuardSerializer, X509CertGuardSerializer
from pulpcore.plugin.viewsets import ContentGuardViewSet


class X509CertGuardViewSet(ContentGuardViewSet):
    """``contentguards/certguard/x509/``."""

    endpoint_name = "x509"
    queryset = X509CertGuard.objects.all().order_by("-pulp_created")
    serializer_class = X509CertGuardSerializer


class RHSMCertGuardViewSet(ContentGuardViewSet):
    """``contentguards/certguard/rhsm/``."""

    endpoint_name = "rhsm"
    queryset = RHSMCertGuard.objects.all().order_by("-pulp_created")
    serializer_class = RHSMCertGuardSerializer
