"""Request middleware: Correlation-ID handling."""

import contextvars
import uuid

from pulpcore.app.logging import correlation_id

HEADER = "Correlation-ID"


def well_formed(cid: str) -> bool:
    """True for an id Pulp keeps: 32 hex digits or a UUID (any spelling ``uuid.UUID`` reads).

    Anything else is replaced, so a client that checks the echoed id (pulp-glue does) notices.
    """
    if not cid or len(cid) > 45:  # the longest spelling: "urn:uuid:" + 36
        return False
    try:
        uuid.UUID(cid)
    except ValueError:
        return False
    return True


class CorrelationIdMiddleware:
    """Echo a well-formed ``Correlation-ID`` header, replace a missing or malformed one (uuid4 hex).

    The id is kept in a context variable for logging and for the ``logging_cid`` of tasks the
    request dispatches.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        cid = request.headers.get(HEADER, "")
        if not well_formed(cid):
            cid = uuid.uuid4().hex
        token = correlation_id.set(cid)
        try:
            response = self.get_response(request)
        finally:
            correlation_id.reset(token)
        response[HEADER] = cid
        return response


_current_request: contextvars.ContextVar = contextvars.ContextVar("pulp_request", default=None)


def current_request():
    """The Django request being served in this context (None outside requests).

    DRF copies the authenticated user onto it, so ``dispatch`` can record ``created_by``.
    """
    return _current_request.get()


class CurrentRequestMiddleware:
    """Remember the request for code that has no access to it (task dispatch)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)
