"""Fixtures shared by the unit tests: the S3 server and the storage-backend parametrisation."""

from tests.s3 import content_storage, moto_s3, s3_storage, storage_backend  # noqa: F401 (fixtures)
