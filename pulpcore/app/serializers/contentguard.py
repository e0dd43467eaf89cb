"""Serializers of content guards: the shared base and the core types."""

from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from pulpcore.app.models import (
    CompositeContentGuard,
    ContentGuard,
    ContentRedirectContentGuard,
    HeaderContentGuard,
    RBACContentGuard,
)
from pulpcore.app.models.contentguard import compile_jq
from pulpcore.app.serializers.access import GroupSerializer, GroupUserSerializer
from pulpcore.app.serializers.base import ModelSerializer, RelatedField


class ContentGuardSerializer(ModelSerializer):
    """Base serializer of every content guard type."""

    name = serializers.CharField(validators=[UniqueValidator(queryset=ContentGuard.objects.all())])
    description = serializers.CharField(required=False, allow_null=True)

    class Meta:
        model = ContentGuard
        fields = ModelSerializer.Meta.fields + ("name", "description")


class HeaderContentGuardSerializer(ContentGuardSerializer):
    """``contentguards/core/header/``: a header and the value that lets a request through."""

    header_name = serializers.CharField()
    header_value = serializers.CharField()
    jq_filter = serializers.CharField(required=False, allow_null=True)

    class Meta:
        model = HeaderContentGuard
        fields = ContentGuardSerializer.Meta.fields + ("header_name", "header_value", "jq_filter")

    def validate_jq_filter(self, value: str | None) -> str | None:
        if value:
            try:
                compile_jq(value)
            except ValueError as exc:
                raise serializers.ValidationError(f"The jq filter does not compile: {exc}")
        return value


class GuardListField(serializers.ListField):
    """The member guards of a composite, read in name order (from the prefetched rows)."""

    def get_attribute(self, instance):
        return sorted(instance.guards.all(), key=lambda g: g.name)


class CompositeContentGuardSerializer(ContentGuardSerializer):
    """``contentguards/core/composite/``: guards of which any one may let a request through."""

    guards = GuardListField(child=RelatedField(types=ContentGuard, allow_null=True), required=False)

    class Meta:
        model = CompositeContentGuard
        fields = ContentGuardSerializer.Meta.fields + ("guards",)

    def validate_guards(self, value: list) -> list:
        members = [g for g in value if g is not None]
        if self.instance is not None:
            # Refuse cycles: this composite must not be reachable from the guards it would hold.
            seen: set = set()
            stack = [g.pk for g in members]
            while stack:
                pk = stack.pop()
                if pk == self.instance.pk:
                    raise serializers.ValidationError(
                        "A composite content guard cannot contain itself."
                    )
                if pk in seen:
                    continue
                seen.add(pk)
                stack.extend(
                    CompositeContentGuard.objects.filter(pk=pk).values_list("guards", flat=True)
                )
                stack = [p for p in stack if p is not None]
        return members

    def create(self, validated_data: dict):
        guards = validated_data.pop("guards", [])
        instance = super().create(validated_data)
        instance.guards.set(guards)
        return instance

    def update(self, instance, validated_data: dict):
        guards = validated_data.pop("guards", None)
        instance = super().update(instance, validated_data)
        if guards is not None:
            instance.guards.set(guards)
        return instance


class ContentRedirectContentGuardSerializer(ContentGuardSerializer):
    """``contentguards/core/content_redirect/``: lets through URLs signed by this server."""

    class Meta:
        model = ContentRedirectContentGuard
        fields = ContentGuardSerializer.Meta.fields


class RBACContentGuardSerializer(ContentGuardSerializer):
    """``contentguards/core/rbac/``: lets through the users and groups allowed to download."""

    users = GroupUserSerializer(many=True, read_only=True, source="download_users")
    groups = GroupSerializer(many=True, read_only=True, source="download_groups")

    class Meta:
        model = RBACContentGuard
        fields = ContentGuardSerializer.Meta.fields + ("users", "groups")
