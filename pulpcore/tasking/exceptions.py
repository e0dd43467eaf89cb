"""Exceptions of the tasking system, in a leaf module so models and plugins can test for them."""


class TaskCanceled(Exception):
    """Raised inside a running task body when a user canceled it."""
