"""Correlation IDs: one per request (or task), stamped on every log line it causes."""

import contextvars
import logging

correlation_id: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="")


def get_correlation_id() -> str:
    return correlation_id.get()


def set_correlation_id(value: str) -> contextvars.Token:
    return correlation_id.set(value)


class CorrelationIdFilter(logging.Filter):
    """Adds ``record.correlation_id`` so formatters can print it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = correlation_id.get() or "-"
        return True
