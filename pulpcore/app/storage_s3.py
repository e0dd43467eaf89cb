"""The S3 storage backend (django-storages + boto3), kept apart so filesystem installs never
import boto3."""

from typing import Any

from botocore.config import Config
from storages.backends.s3 import S3Storage
from storages.utils import clean_name, setting


class PulpS3Storage(S3Storage):
    """django-storages' S3 backend with Pulp's rules: stable names and bounded waits.

    Names are content-addressed, so a second upload of a name carries the same bytes and
    overwrites harmlessly. Timeouts are short enough that a store going away fails a task or a
    status probe within seconds instead of hanging on the default minute-long retries.
    """

    file_overwrite = True

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)

        if "client_config" not in kwargs and setting("AWS_S3_CLIENT_CONFIG") is None:
            self.client_config = self.client_config.merge(
                Config(
                    connect_timeout=5,
                    read_timeout=30,
                    retries={"max_attempts": 3, "mode": "standard"},
                )
            )

    def get_default_settings(self) -> dict[str, Any]:
        defaults = super().get_default_settings()
        # Signature v4 everywhere: presigned URLs then carry X-Amz-Expires, which every
        # S3-compatible store enforces (botocore would otherwise presign with v2 for S3).
        defaults["signature_version"] = defaults["signature_version"] or "s3v4"
        return defaults

    def _save(self, name: str, content: Any) -> str:
        """Below the multipart threshold, one PUT on this thread's client.

        boto3's transfer manager (what the parent uses) starts a thread pool per upload: worth it
        for parts of a big file, pure overhead for the thousands of small files of a sync.
        """
        size = getattr(content, "size", None)
        threshold = self.transfer_config.multipart_threshold
        if size is None or size >= threshold or self.gzip:
            return super()._save(name, content)
        cleaned = clean_name(name)
        key = self._normalize_name(cleaned)
        params = self._get_write_parameters(key, content)
        content.seek(0)
        self.connection.meta.client.put_object(
            Bucket=self.bucket_name, Key=key, Body=content.read(), **params
        )
        return cleaned

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        return name
