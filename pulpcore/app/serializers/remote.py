"""Serializers of remotes: where and how to download, with secrets write-only."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from pulpcore.app import util
from pulpcore.app.models import Remote
from pulpcore.app.serializers.base import LabelsField, ModelSerializer

SECRET_FIELDS = ("client_key", "username", "password", "proxy_username", "proxy_password")


@extend_schema_field(
    {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "is_set": {"type": "boolean"}},
            "required": ["name", "is_set"],
        },
    }
)
class HiddenFieldsField(serializers.Field):
    """``hidden_fields``: which secrets are set, never their values."""

    def __init__(self, fields=SECRET_FIELDS, **kwargs):
        self.secret_fields = fields
        kwargs.update(read_only=True, source="*")
        super().__init__(**kwargs)

    def to_representation(self, value) -> list[dict]:
        return [
            {"name": name, "is_set": getattr(value, name, None) not in (None, "")}
            for name in self.secret_fields
        ]


@extend_schema_field({"type": "array", "items": {"type": "object"}})
class HeadersField(serializers.ListField):
    """``headers``: a list of one-entry ``{name: value}`` objects sent with every request."""

    def __init__(self, **kwargs):
        kwargs.setdefault("child", serializers.DictField())
        super().__init__(**kwargs)


def _text(**kwargs) -> serializers.CharField:
    kwargs.setdefault("required", False)
    kwargs.setdefault("allow_null", True)
    return serializers.CharField(**kwargs)


def _seconds() -> serializers.FloatField:
    return serializers.FloatField(required=False, allow_null=True, min_value=0.0)


class RemoteSerializer(ModelSerializer):
    """Base serializer of every remote type: connection settings, secrets are write-only."""

    name = serializers.CharField(validators=[UniqueValidator(queryset=Remote.objects.all())])
    url = serializers.CharField()
    ca_cert = _text()
    client_cert = _text()
    client_key = _text(write_only=True)
    tls_validation = serializers.BooleanField(required=False)
    proxy_url = _text()
    proxy_username = _text(write_only=True)
    proxy_password = _text(write_only=True)
    username = _text(write_only=True)
    password = _text(write_only=True)
    pulp_labels = LabelsField()
    download_concurrency = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    max_retries = serializers.IntegerField(required=False, allow_null=True)
    policy = serializers.ChoiceField(choices=Remote.POLICY_CHOICES, default=Remote.IMMEDIATE)
    total_timeout = _seconds()
    connect_timeout = _seconds()
    sock_connect_timeout = _seconds()
    sock_read_timeout = _seconds()
    headers = HeadersField(required=False)
    rate_limit = serializers.IntegerField(required=False, allow_null=True)
    hidden_fields = HiddenFieldsField()

    class Meta:
        model = Remote
        fields = ModelSerializer.Meta.fields + (
            "name",
            "url",
            "ca_cert",
            "client_cert",
            "client_key",
            "tls_validation",
            "proxy_url",
            "proxy_username",
            "proxy_password",
            "username",
            "password",
            "pulp_labels",
            "download_concurrency",
            "max_retries",
            "policy",
            "total_timeout",
            "connect_timeout",
            "sock_connect_timeout",
            "sock_read_timeout",
            "headers",
            "rate_limit",
            "hidden_fields",
        )

    def validate_url(self, value: str) -> str:
        parsed = util.parse_url(value)
        if (
            parsed is None
            or parsed.scheme not in ("http", "https", "file")
            or (parsed.scheme != "file" and not parsed.netloc)
        ):
            raise serializers.ValidationError(f"'{value}' is not a valid http(s) or file URL.")
        return value

    def validate_proxy_url(self, value):
        if value in (None, ""):
            return None
        parsed = util.parse_url(value)
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise serializers.ValidationError(f"'{value}' is not a valid proxy URL.")
        if parsed.username or parsed.password:
            raise serializers.ValidationError(
                "Give proxy credentials in proxy_username and proxy_password, not in the URL."
            )
        return value

    def validate_max_retries(self, value):
        if value is not None and value < 0:
            raise serializers.ValidationError("Ensure this value is greater than or equal to 0.")
        return value

    def validate_rate_limit(self, value):
        if value is not None and value < 0:
            raise serializers.ValidationError("Ensure this value is greater than or equal to 0.")
        return value

    def validate_headers(self, value: list) -> list:
        for header in value:
            if not isinstance(header, dict) or len(header) != 1:
                raise serializers.ValidationError(
                    "Each header must be an object with exactly one name: value pair."
                )
            ((name, val),) = header.items()
            if not isinstance(val, str):
                raise serializers.ValidationError(f"The value of header '{name}' must be text.")
        return value

    def validate(self, data: dict) -> dict:
        def final(name):
            if name in data:
                return data[name]
            return getattr(self.instance, name, None) if self.instance is not None else None

        # A proxy needs both halves of its credentials; a server may take a bare username.
        if bool(final("proxy_username")) != bool(final("proxy_password")):
            raise serializers.ValidationError(
                {
                    "proxy_username": [
                        "'proxy_username' and 'proxy_password' must be given together."
                    ]
                }
            )
        return data


__all__ = ["HeadersField", "HiddenFieldsField", "RemoteSerializer", "SECRET_FIELDS"]
