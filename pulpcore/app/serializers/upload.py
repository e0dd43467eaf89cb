"""Chunked uploads: create with a size, PUT byte ranges, commit into an Artifact (a task)."""

import re

from rest_framework import serializers

from pulpcore.app.models import Upload, UploadChunk
from pulpcore.app.serializers.base import ModelSerializer

CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


class UploadSerializer(ModelSerializer):
    size = serializers.IntegerField()
    completed = serializers.DateTimeField(read_only=True)

    def validate_size(self, value: int) -> int:
        if value < 1 or value > 2**63 - 1:
            raise serializers.ValidationError("size must be a positive number of bytes.")
        return value

    class Meta:
        model = Upload
        fields = ModelSerializer.Meta.fields + ("size", "completed")


class UploadChunkResponseSerializer(serializers.ModelSerializer):
    offset = serializers.IntegerField(read_only=True)
    size = serializers.IntegerField(read_only=True)

    class Meta:
        model = UploadChunk
        fields = ("offset", "size")
        ref_name = "UploadChunkResponse"


class UploadDetailSerializer(UploadSerializer):
    chunks = UploadChunkResponseSerializer(many=True, read_only=True)

    class Meta:
        model = Upload
        fields = UploadSerializer.Meta.fields + ("chunks",)


class UploadChunkSerializer(serializers.Serializer):
    """Body of ``PUT {upload_href}``: one chunk, optionally with its sha256."""

    file = serializers.FileField(write_only=True)
    sha256 = serializers.CharField(write_only=True, required=False, allow_null=True, min_length=1)

    class Meta:
        ref_name = "UploadChunk"


class UploadCommitSerializer(serializers.Serializer):
    sha256 = serializers.CharField(min_length=1)

    class Meta:
        ref_name = "UploadCommit"

    def validate_sha256(self, value: str) -> str:
        value = value.strip().lower()
        if not re.fullmatch(r"[0-9a-f]{64}", value):
            raise serializers.ValidationError("sha256 must be 64 hexadecimal characters.")
        return value


def parse_content_range(header: str | None, upload_size: int) -> tuple[int, int]:
    """(start, end) of ``bytes start-end/total``; ValidationError with a clear message otherwise."""
    if not header:
        raise serializers.ValidationError(
            {"Content-Range": ["The Content-Range header is required: bytes <start>-<end>/<size>."]}
        )
    match = CONTENT_RANGE.match(header.strip())
    if not match:
        raise serializers.ValidationError(
            {
                "Content-Range": [
                    f"Malformed Content-Range {header!r}; use bytes <start>-<end>/<size>."
                ]
            }
        )
    start, end, total = int(match[1]), int(match[2]), match[3]
    if end < start:
        raise serializers.ValidationError({"Content-Range": ["The range end is before its start."]})
    if total != "*" and int(total) != upload_size:
        raise serializers.ValidationError(
            {"Content-Range": [f"Total size {total} differs from the upload's size {upload_size}."]}
        )
    if end >= upload_size:
        raise serializers.ValidationError(
            {"Content-Range": [f"The range ends past the upload's size ({upload_size} bytes)."]}
        )
    return start, end
