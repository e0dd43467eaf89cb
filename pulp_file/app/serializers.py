"""Serializers of the file plugin, written against ``pulpcore.plugin`` only."""

from rest_framework import serializers

from pulp_file.app.models import (
    FileAlternateContentSource,
    FileContent,
    FileDistribution,
    FilePublication,
    FileRemote,
    FileRepository,
)
from pulpcore.plugin.serializers import (
    AlternateContentSourceSerializer,
    ContentChecksumSerializer,
    DistributionSerializer,
    HrefListField,
    PublicationRepositoryField,
    PublicationSerializer,
    RelatedField,
    RemoteSerializer,
    RepositorySerializer,
    SingleArtifactContentUploadSerializer,
)


class FileContentSerializer(SingleArtifactContentUploadSerializer, ContentChecksumSerializer):
    """A file: its artifact, where it lives in a repository, and its digests."""

    class Meta:
        model = FileContent
        fields = SingleArtifactContentUploadSerializer.Meta.fields + (
            "md5",
            "sha1",
            "sha224",
            "sha256",
            "sha384",
            "sha512",
        )

    def content_fields(self, data: dict, artifact) -> dict:
        return {"relative_path": data["relative_path"], "digest": artifact.sha256}


class FileRepositorySerializer(RepositorySerializer):
    """A file repository: optional autopublish and the manifest name its publications use."""

    autopublish = serializers.BooleanField(required=False, default=False)
    manifest = serializers.CharField(required=False, allow_null=True, default="PULP_MANIFEST")
    remote = RelatedField(types=FileRemote, required=False, allow_null=True)

    class Meta:
        model = FileRepository
        fields = RepositorySerializer.Meta.fields + ("autopublish", "manifest")

    def validate_manifest(self, value):
        if value is not None and ("/" in value or value in (".", "..")):
            raise serializers.ValidationError("The manifest name must be a plain file name.")
        return value


class FileRemoteSerializer(RemoteSerializer):
    """A remote serving a PULP_MANIFEST; ``policy`` picks immediate, on_demand or streamed."""

    class Meta:
        model = FileRemote
        fields = RemoteSerializer.Meta.fields


class DistributionsOfPublicationField(HrefListField):
    """``distributions``: hrefs of the distributions serving this publication."""

    def __init__(self, **kwargs):
        kwargs.setdefault("source", "*")
        super().__init__(**kwargs)

    def to_representation(self, data) -> list[str]:
        return super().to_representation(list(data.distribution_set.all()))


class FilePublicationSerializer(PublicationSerializer):
    """A publication of a file repository version, with a generated manifest."""

    repository = PublicationRepositoryField(types=FileRepository, required=False)
    distributions = DistributionsOfPublicationField()
    manifest = serializers.CharField(required=False, allow_null=True, default="PULP_MANIFEST")

    class Meta:
        model = FilePublication
        fields = PublicationSerializer.Meta.fields + ("distributions", "manifest")

    def validate_manifest(self, value):
        if value is not None and ("/" in value or value in (".", "..")):
            raise serializers.ValidationError("The manifest name must be a plain file name.")
        return value


class FileDistributionSerializer(DistributionSerializer):
    """A distribution of file content: a publication, or a repository's latest version."""

    publication = RelatedField(types=FilePublication, required=False, allow_null=True)
    repository = RelatedField(types=FileRepository, required=False, allow_null=True)

    class Meta:
        model = FileDistribution
        fields = DistributionSerializer.Meta.fields + ("publication",)


class FileAlternateContentSourceSerializer(AlternateContentSourceSerializer):
    """A file ACS: a file remote with the ``on_demand`` policy and optional paths below it."""

    remote = RelatedField(types=FileRemote)

    class Meta:
        model = FileAlternateContentSource
        fields = AlternateContentSourceSerializer.Meta.fields
