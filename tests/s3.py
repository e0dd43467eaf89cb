"""A real S3-compatible HTTP server for the tests: moto's standalone server as a child process.

No boto3 call is mocked in-process: Pulp's storage code talks HTTP to ``moto.server`` on a free
loopback port, as it would to MinIO or AWS. One server serves the whole test session; each test
run (``PULP_TEST_PREFIX``) uses its own bucket. ``stop()`` and ``start()`` let a test take the store
away and bring it back (moto keeps its buckets in memory, so ``start()`` creates the bucket again).
"""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.testenv import PREFIX, ROOT

ACCESS_KEY = "pulp-test-access"
SECRET_KEY = "pulp-test-secret"
REGION = "us-east-1"
BACKEND = "pulpcore.app.storage_s3.PulpS3Storage"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MotoServer:
    """``python -m moto.server`` on 127.0.0.1:<free port>, with one bucket."""

    def __init__(self, bucket: str | None = None):
        self.port = _free_port()
        self.bucket = bucket or f"{PREFIX}-artifacts".lower().replace("_", "-")
        self.proc: subprocess.Popen | None = None
        self.log_path = os.path.join(ROOT, "moto.log")

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "MotoServer":
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "true"},
        )
        log.close()
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=1).close()
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto server did not start; see {self.log_path}")
                time.sleep(0.1)
        self.client().create_bucket(Bucket=self.bucket)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
        )

    def keys(self, prefix: str = "") -> set[str]:
        """Every object key in the bucket (below ``prefix``)."""
        keys: set[str] = set()
        for page in (
            self.client()
            .get_paginator("list_objects_v2")
            .paginate(Bucket=self.bucket, Prefix=prefix)
        ):
            keys |= {o["Key"] for o in page.get("Contents", ())}
        return keys

    def read(self, key: str) -> bytes:
        return self.client().get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def settings(self, **extra) -> dict:
        """Pulp settings (names as in settings.yaml) that put STORAGES["default"] in the bucket."""
        return {
            "STORAGES": {
                "default": {"BACKEND": BACKEND},
                "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
            },
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_STORAGE_BUCKET_NAME": self.bucket,
            "AWS_S3_ENDPOINT_URL": self.endpoint,
            "AWS_S3_REGION_NAME": REGION,
            "AWS_S3_ADDRESSING_STYLE": "path",
            **extra,
        }


@pytest.fixture(scope="session")
def moto_s3():
    """One moto server for the session (started on first use), with this run's bucket."""
    server = MotoServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["filesystem", "s3"])
def storage_backend(request, settings):
    """Run the test once on the filesystem storage and once on S3 (the moto server).

    Yields the MotoServer for S3 and None for the filesystem; Django's storages are rebuilt when
    the settings change, so code under test picks the backend up through STORAGES["default"].
    """
    if request.param == "filesystem":
        yield None
        return
    yield use_s3(settings, request.getfixturevalue("moto_s3"))


@pytest.fixture
def s3_storage(settings, moto_s3):
    """STORAGES["default"] in the moto bucket, for tests of S3-only behaviour."""
    return use_s3(settings, moto_s3)


def use_s3(settings, server: MotoServer, **extra) -> MotoServer:
    """Point pytest-django's ``settings`` at the bucket (STORAGES last: that rebuilds storages)."""
    if server.proc is None:  # a previous test took the store away and did not bring it back
        server.start()
    values = server.settings(**extra)
    storages_value = values.pop("STORAGES")
    for key, value in values.items():
        setattr(settings, key, value)
    settings.STORAGES = storages_value
    return server


CONTENT_MODES = ["filesystem", "s3-redirect", "s3-stream"]


@pytest.fixture
def content_storage(request, settings):
    """Where the content app's artifacts live: ``filesystem`` unless a test parametrises it
    (indirectly) over CONTENT_MODES: S3 answering with redirects, or streamed through."""
    mode = getattr(request, "param", "filesystem")
    if mode != "filesystem":
        redirect = mode == "s3-redirect"
        use_s3(settings, request.getfixturevalue("moto_s3"), REDIRECT_TO_OBJECT_STORAGE=redirect)
    return mode


every_content_storage = pytest.mark.parametrize("content_storage", CONTENT_MODES, indirect=True)
