"""Pulp 3 compatible artifact-repository platform."""

__version__ = "3.49.0"
