"""Multipart uploads that are hashed while they arrive.

An artifact upload must know every allowed checksum and the size of the file before it can be
verified and stored. Reading a multi-gigabyte upload a second time just to hash it doubles the disk
I/O, so the handler below feeds each chunk to the hashers as Django's multipart parser writes it to
a temporary file in WORKING_DIRECTORY (the same filesystem as MEDIA_ROOT, so storing the artifact is
a rename). The temporary file disappears when it is closed, unless it was moved away first.
"""

import os
import tempfile

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

from pulpcore.app.files import MultiHasher


class HashedTemporaryUploadedFile(UploadedFile):
    """An uploaded file in WORKING_DIRECTORY with its digests and size already computed.

    ``hashes`` maps checksum names (ALLOWED_CONTENT_CHECKSUMS) to hex digests; it is filled when
    the upload is complete.
    """

    def __init__(self, name: str, content_type: str | None, charset: str | None, extra=None):
        os.makedirs(settings.WORKING_DIRECTORY, exist_ok=True)
        file = tempfile.NamedTemporaryFile(
            prefix="upload-", suffix=".part", dir=settings.WORKING_DIRECTORY
        )
        super().__init__(file, name, content_type, 0, charset, extra)
        self.hashes: dict[str, str] = {}

    def temporary_file_path(self) -> str:
        return self.file.name

    def close(self) -> None:
        """Close and remove the temporary file; fine if it was already moved into storage."""
        try:
            return self.file.close()
        except FileNotFoundError:
            pass


class HashingFileUploadHandler(FileUploadHandler):
    """Writes every uploaded file to WORKING_DIRECTORY, hashing and counting bytes on the way."""

    chunk_size = 1024 * 1024  # a multiple of 4, as Django's base64 decoding needs

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.file = HashedTemporaryUploadedFile(
            self.file_name, self.content_type, self.charset, self.content_type_extra
        )
        self.hasher = MultiHasher(settings.ALLOWED_CONTENT_CHECKSUMS)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.file.write(raw_data)
        self.hasher.update(raw_data)
        return None

    def file_complete(self, file_size: int) -> HashedTemporaryUploadedFile:
        self.file.flush()
        self.file.seek(0)
        self.file.size = file_size
        self.file.hashes = self.hasher.digests()
        return self.file

    def upload_interrupted(self) -> None:
        if hasattr(self, "file"):
            self.file.close()
