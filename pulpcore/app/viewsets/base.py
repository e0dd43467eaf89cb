"""Base viewsets: URL naming (master/detail/nested), href lookups and the viewset registry.

Every concrete viewset that sets ``endpoint_name`` registers itself; ``pulpcore.app.urls`` turns the
registry into routes, so a plugin adds endpoints by defining viewsets, never by editing URLs.
"""

from django.db import models
from django.http import Http404
from rest_framework import mixins, viewsets

from pulpcore.app import util
from pulpcore.app.access.policy import AccessPolicyFromDB, scope
from pulpcore.app.models import MasterModel

REGISTRY: list[type["NamedModelViewSet"]] = []


class NamedModelViewSet(viewsets.GenericViewSet):
    """A viewset with a URL derived from its ``endpoint_name`` and model.

    * plain:  ``<endpoint_name>/`` (``artifacts/``)
    * detail: ``<master endpoint>/<app_label>/<endpoint_name>/`` (``content/file/files/``)
    * nested: ``<parent prefix>/<parent pk>/<endpoint_name>/`` (repository ``versions/``)
    """

    endpoint_name: str | None = None
    parent_viewset: type["NamedModelViewSet"] | None = None
    parent_lookup_kwargs: dict[str, str] = {}
    lookup_value_regex = "[^/]+"
    # False for list-only generic endpoints such as content/ that never own an href.
    owns_hrefs = True
    # RBAC: the stored access policy of this viewset decides every request (superusers pass).
    # ``DEFAULT_ACCESS_POLICY`` is the shipped policy, ``LOCKED_ROLES`` the roles shipped with it.
    permission_classes = [AccessPolicyFromDB]
    DEFAULT_ACCESS_POLICY: dict | None = None
    LOCKED_ROLES: dict | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "endpoint_name" in cls.__dict__ and cls.endpoint_name and cls.queryset is not None:
            REGISTRY.append(cls)
            model = cls.queryset.model
            util.URL_PREFIXES.clear()
            if cls.parent_viewset is not None:
                util.NESTED_VIEWSET[(cls.parent_viewset.queryset.model, model)] = cls
            elif cls.owns_hrefs:
                util.VIEWSET_FOR_MODEL[model] = cls

    # --- naming ----------------------------------------------------------------------------------
    @classmethod
    def is_detail_model(cls) -> bool:
        model = cls.queryset.model
        return issubclass(model, MasterModel) and bool(model.TYPE)

    @classmethod
    def master_viewset(cls) -> type["NamedModelViewSet"] | None:
        for base in cls.__mro__[1:]:
            if (
                isinstance(base, type)
                and issubclass(base, NamedModelViewSet)
                and base.__dict__.get("endpoint_name")
            ):
                return base
        return None

    @classmethod
    def url_prefix(cls, parent_pk: str | None = None) -> str:
        """Route prefix below the API root, without slashes at either end."""
        if cls.parent_viewset is not None:
            kwarg = next(iter(cls.parent_lookup_kwargs))
            pk = parent_pk if parent_pk is not None else f"(?P<{kwarg}>[^/.]+)"
            return f"{cls.parent_viewset.url_prefix()}/{pk}/{cls.endpoint_name}"
        if cls.is_detail_model():
            master = cls.master_viewset()
            if master is None:
                raise RuntimeError(f"{cls.__name__} has a detail model but no master viewset")
            app_label = cls.queryset.model._meta.app_label
            return f"{master.endpoint_name}/{app_label}/{cls.endpoint_name}"
        return cls.endpoint_name

    # --- lookups ---------------------------------------------------------------------------------
    @classmethod
    def href_lookup(cls, kwargs: dict) -> dict:
        """ORM lookup for the object an href's URL kwargs name."""
        lookup = {}
        for url_kwarg, orm_path in cls.parent_lookup_kwargs.items():
            lookup[orm_path] = kwargs[url_kwarg]
        field = cls.lookup_field
        url_kwarg = cls.lookup_url_kwarg or field
        lookup[field] = kwargs[url_kwarg]
        return lookup

    def get_queryset(self) -> models.QuerySet:
        qs = super().get_queryset()
        for url_kwarg, orm_path in self.parent_lookup_kwargs.items():
            value = self.kwargs.get(url_kwarg)
            if value is not None:
                if not (util.is_uuid(value) or str(value).isdigit()):
                    raise Http404
                qs = qs.filter(**{orm_path: value})
        return scope(self, qs)

    def get_object(self):
        url_kwarg = self.lookup_url_kwarg or self.lookup_field
        value = self.kwargs.get(url_kwarg)
        if self.lookup_field in ("pk", "pulp_id") and not util.is_uuid(value):
            raise Http404
        obj = super().get_object()
        return obj.cast() if isinstance(obj, MasterModel) else obj


class ReadOnlyNamedModelViewSet(
    mixins.RetrieveModelMixin, mixins.ListModelMixin, NamedModelViewSet
):
    """List and retrieve only."""


class ListOnlyViewSet(mixins.ListModelMixin, NamedModelViewSet):
    """Generic lists across all plugin types (``content/``, ``repositories/``, ...)."""

    owns_hrefs = False
    # Everyone may list; each sees only the objects of each type they may view.
    DEFAULT_ACCESS_POLICY = {
        "statements": [{"action": ["list"], "principal": "authenticated", "effect": "allow"}],
        "queryset_scoping": {"function": "scope_queryset"},
    }
