"""The one seam for stored bytes: artifacts, upload chunks and published metadata.

Everything that reads or writes stored files goes through ``STORAGES["default"]`` (Django's storage
API) and the helpers here, so the filesystem and S3 behave alike for callers. The filesystem keeps
its shortcuts (a finished download is renamed into place, the content app uses sendfile or
X-Accel-Redirect); an object store gets a verified local file uploaded once (multipart for large
files through boto3's transfer manager).
"""

import os
import shutil
import sys
from typing import IO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages

from pulpcore.app.settings_check import S3_BACKEND, S3_BACKEND_ALIASES  # noqa: F401 (re-exported)


class PulpFileSystemStorage(FileSystemStorage):
    """Local storage rooted at MEDIA_ROOT that never renames on collision.

    Artifact paths are derived from the sha256, so an existing file at the target path already has
    the right bytes; overwriting it is harmless and keeps the path stable.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("location", settings.MEDIA_ROOT)
        super().__init__(**kwargs)

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        return name


def storage() -> Storage:
    """The configured default storage (``STORAGES["default"]``)."""
    return storages["default"]


def is_local(st: Storage | None = None) -> bool:
    """Whether stored files are plain files on this host (sendfile, rename, hardlink work)."""
    return isinstance(st or storage(), FileSystemStorage)


def is_s3(st: Storage | None = None) -> bool:
    """Whether the default storage is an S3 bucket (presigned URLs, no local paths).

    boto3 is imported only by processes configured for S3: if django-storages' S3 module was
    never loaded, the storage cannot be one of its classes.
    """
    module = sys.modules.get("storages.backends.s3")
    return module is not None and isinstance(st or storage(), module.S3Storage)


def local_path(name: str) -> str | None:
    """Absolute path of a stored file on a filesystem storage; None on an object store."""
    st = storage()
    return st.path(name) if is_local(st) else None


def artifact_relpath(sha256: str) -> str:
    """Storage name of an artifact (relative to MEDIA_ROOT, or the key in the bucket)."""
    return os.path.join("artifact", sha256[:2], sha256[2:])


def place_artifact_file(source_path: str, sha256: str) -> str:
    """Store the verified local file ``source_path`` under its content address; return the name.

    Filesystem: a rename (or a copy-then-rename across filesystems); if the file already exists
    (another process stored the same bytes first) the source is removed. Object store: one upload
    of the verified file, then the temp file is removed. Callers save the artifact row only after
    this returned, so no row ever names bytes that did not reach storage.
    """
    rel = artifact_relpath(sha256)
    st = storage()
    if not is_local(st):
        save_local_file(rel, source_path, st)
        os.unlink(source_path)
        return rel
    dest = st.path(rel)
    if os.path.exists(dest):
        if os.path.abspath(source_path) != os.path.abspath(dest):
            os.unlink(source_path)
        return rel
    _move_into_place(source_path, dest)
    return rel


def _move_into_place(source_path: str, dest: str) -> None:
    """Rename ``source_path`` to ``dest`` (readable by the web server); across filesystems, copy
    to a temp name beside the target and rename that, so ``dest`` never holds partial bytes."""
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    try:
        os.replace(source_path, dest)
    except OSError:
        tmp = dest + ".part"
        shutil.copyfile(source_path, tmp)
        os.replace(tmp, dest)
        os.unlink(source_path)
    os.chmod(dest, 0o644)


class StorageWriteError(OSError):
    """Bytes could not be written to the object store; the message says where and why."""


def save_local_file(name: str, source_path: str, st: Storage | None = None) -> str:
    """Copy the local file ``source_path`` into storage as ``name`` (upload on S3); keep source.

    An object store's failure (gone, refusing, full) becomes one readable sentence: it ends up
    as a task's ``error.description``.
    """
    st = st or storage()
    with open(source_path, "rb") as fp:
        try:
            return st.save(name, File(fp, name=os.path.basename(name)))
        except Exception as exc:  # noqa: BLE001 - boto3 raises many kinds; all mean "not stored"
            if is_local(st):
                raise
            where = getattr(st, "endpoint_url", None) or "S3"
            bucket = getattr(st, "bucket_name", "?")
            detail = " ".join(str(exc).split()) or type(exc).__name__
            raise StorageWriteError(
                f"Could not store '{name}' in the bucket '{bucket}' at {where}: {detail}. "
                "Nothing was recorded for it; run the operation again once the store answers."
            ) from exc


def open_stored(name: str) -> IO[bytes]:
    """Open a stored file for reading (raises FileNotFoundError when it is missing)."""
    st = storage()
    path = local_path(name)
    if path is not None:
        return open(path, "rb")
    return st.open(name, "rb")


def stored_size(name: str) -> int:
    """Size of a stored file in bytes (FileNotFoundError when missing)."""
    return storage().size(name)


def stored_exists(name: str) -> bool:
    """Whether storage holds a file named ``name`` (a HEAD request on S3)."""
    return storage().exists(name)


def replace_stored(name: str, source_path: str) -> None:
    """Put the verified local file ``source_path`` at ``name``, over whatever is there; the source
    is consumed. Repair uses it: unlike place_artifact_file it never keeps an existing file."""
    path = local_path(name)
    if path is None:
        save_local_file(name, source_path)
        os.unlink(source_path)
        return
    _move_into_place(source_path, path)


def delete_stored(name: str) -> None:
    """Remove a stored file; a file that is already gone is not an error (both backends)."""
    storage().delete(name)


def presigned_url(name: str, content_type: str | None = None) -> str:
    """A GET URL for a stored object that expires after AWS_QUERYSTRING_EXPIRE seconds.

    Signing is local computation (no request to the store), cheap enough for every download.
    """
    params = {"ResponseContentType": content_type} if content_type else None
    return storage().url(name, parameters=params)


class StorageUnavailable(Exception):
    """The configured object store refused us or did not answer."""


def probe(timeout: float = 3.0) -> None:
    """Check that the bucket exists and our credentials work; raise StorageUnavailable if not.

    A filesystem storage always passes (an unreadable MEDIA_ROOT shows in ``status/`` already).
    Uses its own client with short timeouts and no retries so a dead store answers in seconds.
    """
    st = storage()
    if not is_s3(st):
        return
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    # Built once per storage and timeout: status/ probes on every call, and a boto3 session
    # plus client costs far more than the HEAD request itself.
    clients = st.__dict__.setdefault("_pulp_probe_clients", {})
    client = clients.get(timeout)
    if client is None:
        client = clients[timeout] = st._create_session().client(
            "s3",
            region_name=st.region_name,
            use_ssl=st.use_ssl,
            endpoint_url=st.endpoint_url,
            verify=st.verify,
            config=Config(
                connect_timeout=timeout,
                read_timeout=timeout,
                retries={"max_attempts": 1, "mode": "standard"},
                s3={"addressing_style": st.addressing_style} if st.addressing_style else {},
            ),
        )
    where = st.endpoint_url or "AWS"
    bucket = st.bucket_name
    if not bucket:
        raise StorageUnavailable("AWS_STORAGE_BUCKET_NAME is not set for the S3 storage")
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status == 404 or code in ("404", "NoSuchBucket"):
            raise StorageUnavailable(
                f"the bucket '{bucket}' (AWS_STORAGE_BUCKET_NAME) does not exist at {where}"
            ) from None
        if status in (401, 403) or code in ("403", "AccessDenied", "InvalidAccessKeyId"):
            raise StorageUnavailable(
                f"{where} refused the credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) "
                f"for the bucket '{bucket}'"
            ) from None
        raise StorageUnavailable(
            f"{where} answered {status} {code} for bucket '{bucket}'"
        ) from None
    except BotoCoreError as exc:
        raise StorageUnavailable(f"the object store at {where} is unreachable ({exc})") from None


def check_storage_or_exit() -> None:
    """At process start: stop with one ``pulp: configuration error:`` line if storage is unusable.

    Called by the API (wsgi), the content app and workers: the processes that need stored bytes.
    """
    from pulpcore.app.settings_check import _fail

    try:
        probe()
    except StorageUnavailable as exc:
        _fail(f"storage: {exc}")
