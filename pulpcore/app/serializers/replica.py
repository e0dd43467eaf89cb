"""UpstreamPulp serializer: connection settings of an upstream Pulp, secrets write-only."""

from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from pulpcore.app import util
from pulpcore.app.models import UpstreamPulp
from pulpcore.app.serializers.base import ModelSerializer
from pulpcore.app.serializers.remote import HiddenFieldsField

UPSTREAM_SECRET_FIELDS = ("client_key", "username", "password")


def _text(**kwargs) -> serializers.CharField:
    kwargs.setdefault("required", False)
    kwargs.setdefault("allow_null", True)
    return serializers.CharField(**kwargs)


class UpstreamPulpSerializer(ModelSerializer):
    """An upstream Pulp: its API location, TLS settings and credentials (never shown back)."""

    name = serializers.CharField(validators=[UniqueValidator(queryset=UpstreamPulp.objects.all())])
    base_url = serializers.CharField()
    api_root = serializers.CharField()
    domain = _text()
    ca_cert = _text()
    client_cert = _text()
    client_key = _text(write_only=True)
    tls_validation = serializers.BooleanField(required=False)
    username = _text(write_only=True)
    password = _text(write_only=True)
    pulp_label_select = _text(allow_blank=True)
    hidden_fields = HiddenFieldsField(fields=UPSTREAM_SECRET_FIELDS)

    class Meta:
        model = UpstreamPulp
        fields = ModelSerializer.Meta.fields + (
            "name",
            "base_url",
            "api_root",
            "domain",
            "ca_cert",
            "client_cert",
            "client_key",
            "tls_validation",
            "username",
            "password",
            "pulp_label_select",
            "hidden_fields",
        )

    def validate_base_url(self, value: str) -> str:
        parsed = util.parse_url(value)
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise serializers.ValidationError(
                f"'{value}' is not an http(s) URL such as https://pulp.example.com."
            )
        if parsed.username or parsed.password:
            raise serializers.ValidationError(
                "Give credentials in username and password, not in the URL."
            )
        return value.rstrip("/")

    def validate_api_root(self, value: str) -> str:
        root = value.strip("/")
        if not root or any(part in ("", ".", "..") for part in root.split("/")):
            raise serializers.ValidationError(f"'{value}' is not an API root such as 'pulp'.")
        return root

    def validate_pulp_label_select(self, value: str | None) -> str | None:
        if value in (None, ""):
            return value
        if any(not term.strip() for term in value.split(",")):
            raise serializers.ValidationError("Empty label selector term.")
        return value

    def validate(self, data: dict) -> dict:
        def final(name):
            if name in data:
                return data[name]
            return getattr(self.instance, name, None) if self.instance is not None else None

        if final("client_key") and not final("client_cert"):
            raise serializers.ValidationError(
                {"client_key": ["A client key needs a client_cert to go with it."]}
            )
        return data
