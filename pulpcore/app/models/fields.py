"""Model fields whose values are encrypted at rest with the DB_ENCRYPTION_KEY key file.

The column holds a Fernet token (text); Python code sees the clear value. A database dump, a
backup or a read-only SQL user therefore never shows a remote's password or a task's arguments.
Lookups other than ``isnull`` cannot work on ciphertext (every token differs), so they are refused.
"""

import json
from typing import Any

from django.core.exceptions import FieldError
from django.db import models

from pulpcore.app import crypto


class _Encrypted:
    """Shared behaviour: refuse lookups that would compare ciphertexts."""

    def get_lookup(self, lookup_name: str):  # type: ignore[override]
        if lookup_name != "isnull":
            raise FieldError(
                f"{self.__class__.__name__} '{self.name}' is encrypted and supports only isnull"
            )
        return super().get_lookup(lookup_name)  # type: ignore[misc]


class EncryptedTextField(_Encrypted, models.TextField):
    """A text value stored as a Fernet token."""

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        if value is None:
            return None
        return crypto.encrypt(str(value))

    def from_db_value(self, value: str | None, expression, connection) -> str | None:
        if value is None:
            return None
        return crypto.decrypt(value)


class EncryptedJSONField(_Encrypted, models.TextField):
    """A JSON value (task arguments) stored as a Fernet token of its JSON text."""

    def get_prep_value(self, value: Any) -> str | None:
        if value is None:
            return None
        return crypto.encrypt(json.dumps(value, separators=(",", ":")))

    def from_db_value(self, value: str | None, expression, connection) -> Any:
        if value is None:
            return None
        return json.loads(crypto.decrypt(value))

    def to_python(self, value: Any) -> Any:
        return value

    def value_to_string(self, obj) -> str:
        return json.dumps(self.value_from_object(obj))
