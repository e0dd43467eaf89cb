"""Serializer of alternate content sources (plugins subclass it per ACS type)."""

from django.db import transaction
from rest_framework import serializers

from pulpcore.app.models import AlternateContentSource, Remote
from pulpcore.app.serializers.base import ModelSerializer, RelatedField


class AlternateContentSourceSerializer(ModelSerializer):
    """An ACS: a name, an ``on_demand`` remote and the ``paths`` below its URL it offers."""

    remote = RelatedField(types=Remote)
    # Stored as AlternateContentSourcePath rows, read through path_list().
    paths = serializers.ListField(child=serializers.CharField(), required=False, source="path_list")
    last_refreshed = serializers.DateTimeField(required=False, allow_null=True)

    class Meta:
        model = AlternateContentSource
        fields = ModelSerializer.Meta.fields + ("name", "last_refreshed", "paths", "remote")

    def validate_remote(self, remote: Remote) -> Remote:
        # An ACS only records where files are; it never downloads while refreshing.
        if remote.policy != Remote.ON_DEMAND:
            raise serializers.ValidationError(
                f"The remote of an alternate content source must have the 'on_demand' policy, "
                f"not {remote.policy!r}."
            )
        return remote

    def validate_paths(self, paths: list[str]) -> list[str]:
        bad = [p for p in paths if p.startswith("/") or ".." in p.split("/") or "://" in p]
        if bad:
            raise serializers.ValidationError(
                f"Paths are relative to the remote's URL; these are not: {', '.join(bad)}."
            )
        if len(set(paths)) != len(paths):
            raise serializers.ValidationError("Paths must not repeat.")
        return paths

    def create(self, validated_data: dict) -> AlternateContentSource:
        paths = validated_data.pop("path_list", [])
        with transaction.atomic():
            instance = super().create(validated_data)
            instance.set_paths(paths)
        return instance

    def update(self, instance: AlternateContentSource, validated_data: dict):
        paths = validated_data.pop("path_list", None)
        with transaction.atomic():
            instance = super().update(instance, validated_data)
            if paths is not None:
                instance.set_paths(paths)
        return instance
