"""File storage under MEDIA_ROOT: content-addressed artifacts placed by rename, never copied."""

import os
import shutil

from django.conf import settings
from django.core.files.storage import FileSystemStorage


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


def artifact_relpath(sha256: str) -> str:
    """Path of an artifact relative to MEDIA_ROOT."""
    return os.path.join("artifact", sha256[:2], sha256[2:])


def place_artifact_file(source_path: str, sha256: str) -> str:
    """Move ``source_path`` to its content-addressed location; return the relative name.

    If the file already exists (another process stored the same bytes first) the source is removed.
    """
    rel = artifact_relpath(sha256)
    dest = os.path.join(settings.MEDIA_ROOT, rel)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    if os.path.exists(dest):
        if os.path.abspath(source_path) != os.path.abspath(dest):
            os.unlink(source_path)
        return rel
    try:
        os.replace(source_path, dest)
    except OSError:
        # Different filesystem: copy to a temp name beside the target, then rename atomically.
        tmp = dest + ".part"
        shutil.copyfile(source_path, tmp)
        os.replace(tmp, dest)
        os.unlink(source_path)
    os.chmod(dest, 0o644)
    return rel
