"""Filtersets of repositories, repository versions and remotes."""

from __future__ import annotations

import django_filters
from rest_framework.exceptions import ValidationError

from pulpcore.app.filters import (
    DATETIME_LOOKUPS,
    NAME_FILTER_OPTIONS,
    NUMBER_LOOKUPS,
    BaseFilterSet,
    HrefOrIdFilter,
    LabelSelectFilter,
    PulpTypeFilter,
    PulpTypeInFilter,
    existing_pks,
    ordering_filter,
)
from pulpcore.app.models import Content, Remote, Repository, RepositoryVersion
from pulpcore.app.viewsets.filters import membership


class ContentHrefFilter(django_filters.CharFilter):
    """A content unit by href (or, with ``many=True``, comma-separated hrefs: any of them).

    Documented as one string, as Pulp does; the hrefs are checked in one query.
    """

    def __init__(self, *args, many: bool = False, **kwargs):
        self.many = many
        super().__init__(*args, **kwargs)

    def content_pks(self, value: str) -> list:
        hrefs = [v for v in value.split(",") if v.strip()] if self.many else [value]
        if not hrefs:
            raise ValidationError({self.field_name: ["Give at least one content href."]})
        return existing_pks(hrefs, Content, self.field_name)

    def filter(self, qs, value):
        if not value:
            return qs
        return self.filter_units(qs, self.content_pks(value))

    def filter_units(self, qs, pks: list):
        raise NotImplementedError


class VersionContentFilter(ContentHrefFilter):
    """Repository versions that hold the unit (or any of the units)."""

    def filter_units(self, qs, pks):
        return membership.versions_containing(pks, qs)


class RepositoryWithContentFilter(ContentHrefFilter):
    """Repositories any version of which held the unit; ``latest=True``: whose latest holds it."""

    def __init__(self, *args, latest: bool = False, **kwargs):
        self.latest = latest
        super().__init__(*args, **kwargs)

    def filter_units(self, qs, pks):
        if self.latest:
            return qs.filter(pk__in=membership.repositories_whose_latest_has(pks))
        return qs.filter(pk__in=membership.repositories_with_content(pks))


class RepositoryFilter(BaseFilterSet):
    """Repositories by name, labels, remote, retention and the content they hold."""

    pulp_label_select = LabelSelectFilter()
    remote = HrefOrIdFilter(field_name="remote", model=Remote)
    with_content = RepositoryWithContentFilter()
    latest_with_content = RepositoryWithContentFilter(latest=True)
    ordering = ordering_filter(Repository)

    class Meta:
        model = Repository
        fields = {
            "name": NAME_FILTER_OPTIONS,
            "retain_repo_versions": [*NUMBER_LOOKUPS, "isnull", "ne"],
        }


class GenericRepositoryFilter(RepositoryFilter):
    """``repositories/``: every type, so also by ``pulp_type``."""

    pulp_type = PulpTypeFilter(Repository)
    pulp_type__in = PulpTypeInFilter(Repository)

    class Meta(RepositoryFilter.Meta):
        pass


class RepositoryVersionFilter(BaseFilterSet):
    """Versions by number, creation time and the content they hold."""

    pulp_id__in = None
    content = VersionContentFilter()
    content__in = VersionContentFilter(many=True)
    ordering = ordering_filter(RepositoryVersion)

    class Meta:
        model = RepositoryVersion
        fields = {"number": NUMBER_LOOKUPS, "pulp_created": DATETIME_LOOKUPS}


class RemoteFilter(BaseFilterSet):
    """Remotes by name, labels and last update."""

    pulp_label_select = LabelSelectFilter()
    ordering = ordering_filter(Remote)

    class Meta:
        model = Remote
        fields = {"name": NAME_FILTER_OPTIONS, "pulp_last_updated": DATETIME_LOOKUPS}


class GenericRemoteFilter(RemoteFilter):
    """``remotes/``: every type, so also by ``pulp_type``."""

    pulp_type = PulpTypeFilter(Remote)
    pulp_type__in = PulpTypeInFilter(Remote)

    class Meta(RemoteFilter.Meta):
        pass
