"""Errors in Pulp's JSON shape: ``{"detail": "..."}`` or ``{"field": ["..."]}``."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


def exception_handler(exc, context):
    """DRF's handler plus conversions of Django errors that would otherwise be 500s."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=exc.messages)
    elif isinstance(exc, IntegrityError):
        exc = Conflict(detail=f"The request conflicts with existing data: {exc}".strip())
    response = drf_exception_handler(exc, context)
    if response is None and isinstance(exc, Http404):
        response = Response({"detail": "Not found."}, status=404)
    return response
