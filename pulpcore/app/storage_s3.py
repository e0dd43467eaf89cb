"""The S3 storage backend (django-storages + boto3), kept apart so filesystem installs never
import boto3."""

from typing import Any

from botocore.config import Config
from storages.backends.s3 import S3Storage
from storages.utils import setting


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

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        return name
