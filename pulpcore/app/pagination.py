"""Limit/offset pagination with Pulp's ``count``, ``next``, ``previous``, ``results``."""

from rest_framework import pagination


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    default_limit = 100
    max_limit = 5000
