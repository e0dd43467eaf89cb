"""Serializers of the admin endpoints: signing services, task schedules, artifact
distributions, reclaim space."""

from rest_framework import serializers

from pulpcore.app.models import (
    ArtifactDistribution,
    Repository,
    RepositoryVersion,
    SigningService,
    TaskSchedule,
)
from pulpcore.app.serializers.base import ModelSerializer, RelatedField, pks_from_hrefs
from pulpcore.app.serializers.publication import DistributionSerializer


class SigningServiceSerializer(ModelSerializer):
    """A signing service as registered by ``pulpcore-manager add-signing-service``."""

    name = serializers.CharField()
    public_key = serializers.CharField()
    pubkey_fingerprint = serializers.CharField()
    script = serializers.CharField()

    class Meta:
        model = SigningService
        fields = ModelSerializer.Meta.fields + (
            "name",
            "public_key",
            "pubkey_fingerprint",
            "script",
        )


class TaskScheduleSerializer(ModelSerializer):
    """A schedule the workers dispatch by themselves."""

    name = serializers.CharField()
    task_name = serializers.CharField()
    dispatch_interval = serializers.DurationField(allow_null=True)
    next_dispatch = serializers.DateTimeField(read_only=True, allow_null=True)
    last_task = RelatedField(read_only=True)

    class Meta:
        model = TaskSchedule
        fields = ModelSerializer.Meta.fields + (
            "name",
            "task_name",
            "dispatch_interval",
            "next_dispatch",
            "last_task",
        )


class ArtifactDistributionSerializer(DistributionSerializer):
    """The core artifact distribution: no repository or publication of its own."""

    class Meta:
        model = ArtifactDistribution
        fields = tuple(f for f in DistributionSerializer.Meta.fields if f != "repository")


class ReclaimSpaceSerializer(serializers.Serializer):
    """Body of ``repositories/reclaim_space/``."""

    repo_hrefs = serializers.ListField(child=serializers.JSONField())
    repo_versions_keeplist = serializers.ListField(
        child=RelatedField(types=RepositoryVersion), required=False, default=list
    )

    class Meta:
        ref_name = "ReclaimSpace"

    def validate_repo_hrefs(self, value: list) -> list[str]:
        if not value:
            raise serializers.ValidationError("List the repositories whose space to reclaim.")
        if value == ["*"]:  # what ``pulp repository reclaim --all`` sends
            return [str(pk) for pk in Repository.objects.values_list("pk", flat=True)]
        return list(dict.fromkeys(pks_from_hrefs(value, Repository)))

    def validate_repo_versions_keeplist(self, value: list) -> list[str]:
        return [str(version.pk) for version in value]

    def validate(self, data: dict) -> dict:
        keep = data.get("repo_versions_keeplist") or []
        if keep:
            outside = RepositoryVersion.objects.filter(pk__in=keep).exclude(
                repository_id__in=data["repo_hrefs"]
            )
            if outside.exists():
                raise serializers.ValidationError(
                    {
                        "repo_versions_keeplist": [
                            "Every version to keep must belong to one of the repositories in "
                            "repo_hrefs."
                        ]
                    }
                )
        return data
