"""Viewsets and mixins plugins build their endpoints on."""

from pulpcore.app.viewsets.mixins import (  # noqa: F401
    AsyncCreateMixin,
    AsyncRemoveMixin,
    AsyncUpdateMixin,
    OperationPostponedResponse,
)
