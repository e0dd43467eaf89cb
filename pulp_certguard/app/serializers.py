"""Serializers of the certificate guards: the CA must be PEM that ``cryptography`` parses."""

from rest_framework import serializers

from pulp_certguard.app.certs import load_ca_bundle
from pulp_certguard.app.models import RHSMCertGuard, X509CertGuard
from pulpcore.plugin.serializers import ContentGuardSerializer


class BaseCertGuardSerializer(ContentGuardSerializer):
    ca_certificate = serializers.CharField()

    def validate_ca_certificate(self, value: str) -> str:
        try:
            load_ca_bundle(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc))
        return value


class X509CertGuardSerializer(BaseCertGuardSerializer):
    """``contentguards/certguard/x509/``."""

    class Meta:
        model = X509CertGuard
        fields = ContentGuardSerializer.Meta.fields + ("ca_certificate",)


class RHSMCertGuardSerializer(BaseCertGuardSerializer):
    """``contentguards/certguard/rhsm/``."""

    class Meta:
        model = RHSMCertGuard
        fields = ContentGuardSerializer.Meta.fields + ("ca_certificate",)
