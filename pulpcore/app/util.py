"""Hrefs: building them for objects and resolving them back, through the viewset registry."""

import uuid
from urllib.parse import ParseResult, urlparse

from django.conf import settings
from django.urls import Resolver404, resolve

# model class -> viewset class (filled by pulpcore.app.viewsets.base when viewsets are defined)
VIEWSET_FOR_MODEL: dict[type, type] = {}
# (parent model, child model) -> nested viewset, e.g. (FileRepository, RepositoryVersion)
NESTED_VIEWSET: dict[tuple[type, type], type] = {}
# (model class, pulp_type) -> URL prefix of the viewset serving it: a listed page asks get_url()
# twice per row, and finding the viewset each time was a tenth of a content page's CPU. Cleared
# whenever a viewset registers (viewsets/base.py).
URL_PREFIXES: dict[tuple[type, str | None], str] = {}


def api_root() -> str:
    return f"{settings.API_ROOT}api/v3/"


class HrefError(ValueError):
    """The href is malformed or names an object of the wrong type."""


def detail_model(obj):
    """The detail model class of a master-model row, from its ``pulp_type`` (no query)."""
    cls = type(obj)
    if cls.TYPE and cls.get_pulp_type() == obj.pulp_type:
        return cls
    for model in cls.detail_models():
        if model.get_pulp_type() == obj.pulp_type:
            return model
    return None


def get_url(obj) -> str:
    """The ``pulp_href`` of ``obj``: an absolute path under the API root.

    Master rows are mapped to their detail endpoint by ``pulp_type``, so listing many objects
    costs no query per row (select the related repository of versions to keep it that way).
    """
    key = (type(obj), getattr(obj, "pulp_type", None))
    prefix = URL_PREFIXES.get(key)
    if prefix is not None:
        return f"{api_root()}{prefix}/{obj.pk}/"
    from pulpcore.app.models import MasterModel, RepositoryVersion

    if isinstance(obj, RepositoryVersion):
        repo = obj.repository
        viewset = NESTED_VIEWSET.get((detail_model(repo) or type(repo), RepositoryVersion))
        if viewset is None:
            raise LookupError(f"No versions endpoint for {type(repo).__name__}")
        return f"{get_url(repo)}versions/{obj.number}/"
    nested = _nested_url(obj)
    if nested is not None:
        return nested
    if isinstance(obj, MasterModel):
        model = detail_model(obj)
        if model is not None and model in VIEWSET_FOR_MODEL:
            URL_PREFIXES[key] = prefix = VIEWSET_FOR_MODEL[model].url_prefix()
            return f"{api_root()}{prefix}/{obj.pk}/"
        obj = obj.cast()
    viewset = VIEWSET_FOR_MODEL.get(type(obj))
    if viewset is None:
        raise LookupError(f"No endpoint serves {type(obj).__name__}")
    prefix = viewset.url_prefix()
    if type(obj) is key[0]:  # not a cast master row: the prefix depends on the class alone
        URL_PREFIXES[key] = prefix
    return f"{api_root()}{prefix}/{obj.pk}/"


def _nested_url(obj) -> str | None:
    """Href of an object served only below its parent (an exporter's export, ...)."""
    for (_parent, model), viewset in NESTED_VIEWSET.items():
        if model is type(obj) and model not in VIEWSET_FOR_MODEL:
            attr = next(iter(viewset.parent_lookup_kwargs.values())).split("__")[0]
            return f"{get_url(getattr(obj, attr))}{viewset.endpoint_name}/{obj.pk}/"
    return None


def parse_url(value: str) -> ParseResult | None:
    """``urlparse`` that answers None where it would raise (an unclosed ``[``, a port that is not
    a number), so validators can answer 400 instead of failing."""
    try:
        parsed = urlparse(value)
        parsed.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return None
    return parsed


def href_path(href: object) -> str:
    """The path part of an href given as a URL or a path; HrefError when it is not a URL at all
    (``urlparse`` raises ValueError on e.g. an unclosed IPv6 bracket)."""
    try:
        return urlparse(str(href)).path
    except ValueError:
        raise HrefError(f"URI {href} is not a valid URL.") from None


def resolve_href(href: str, expected: type | tuple[type, ...] | None = None):
    """Return the object an href points at; raise HrefError if it is malformed or wrong type.

    Accepts a full URL or a path; only the path counts.
    """
    from django.core.exceptions import ObjectDoesNotExist
    from django.core.exceptions import ValidationError as DjangoValidationError

    path = href_path(href)
    try:
        match = resolve(path)
    except Resolver404:
        raise HrefError(f"URI {href} not found.")
    view_cls = getattr(match.func, "cls", None)
    if view_cls is None or not hasattr(view_cls, "queryset") or view_cls.queryset is None:
        raise HrefError(f"URI {href} is not an object href.")
    kwargs = {k: v for k, v in match.kwargs.items() if k != "version"}
    try:
        lookup = view_cls.href_lookup(kwargs)
        obj = view_cls.queryset.model.objects.get(**lookup)
    except (ObjectDoesNotExist, DjangoValidationError, KeyError, ValueError, TypeError):
        # DjangoValidationError: a malformed UUID in the href (e.g. ".../artifacts/nope/").
        raise HrefError(f"URI {href} not found.")
    if hasattr(obj, "cast"):
        obj = obj.cast()
    if expected is not None and not isinstance(obj, expected):
        names = (
            ", ".join(t.__name__ for t in expected)
            if isinstance(expected, tuple)
            else expected.__name__
        )
        raise HrefError(f"URI {href} is not a {names}.")
    return obj


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
        return True
    except ValueError:
        return False
