"""Renderers: plain ``application/json`` without a charset suffix, as Pulp's clients expect."""

from rest_framework.renderers import JSONRenderer


class PlainJSONRenderer(JSONRenderer):
    charset = None
