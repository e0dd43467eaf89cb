"""Errors in Pulp's JSON shape: ``{"detail": "..."}`` or ``{"field": ["..."]}``."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


def _integrity_detail(exc: IntegrityError) -> str:
    """A one-line reason for a constraint violation, without SQL or constraint internals.

    PostgreSQL's DETAIL line (``Key (name)=(foo) already exists.``) names the offending value,
    which is what a client can act on.
    """
    if isinstance(exc, ProtectedError | RestrictedError):
        blockers = (
            exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
        )
        count = len(blockers)
        return (
            "The object cannot be deleted because "
            f"{count} other {'object still refers' if count == 1 else 'objects still refer'} "
            "to it."
        )
    diag = getattr(getattr(exc, "__cause__", None), "diag", None)
    detail = getattr(diag, "message_detail", None)
    if detail:
        return f"The request conflicts with existing data: {detail}"
    return "The request conflicts with existing data."


def exception_handler(exc, context):
    """DRF's handler plus conversions of Django errors that would otherwise be 500s."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=exc.messages)
    elif isinstance(exc, IntegrityError | ProtectedError | RestrictedError):
        exc = Conflict(detail=_integrity_detail(exc))
    response = drf_exception_handler(exc, context)
    if response is None and isinstance(exc, Http404):
        response = Response({"detail": "Not found."}, status=404)
    return response
