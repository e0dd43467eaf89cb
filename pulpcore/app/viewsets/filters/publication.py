"""Filtersets of publications, distributions and content guards."""

from __future__ import annotations

from django.db.models import Q

from pulpcore.app.filters import (
    DATETIME_LOOKUPS,
    NAME_FILTER_OPTIONS,
    BaseFilterSet,
    HrefOrIdFilter,
    HrefOrIdInFilter,
    LabelSelectFilter,
    PulpTypeFilter,
    PulpTypeInFilter,
    ordering_filter,
)
from pulpcore.app.models import (
    ContentGuard,
    Distribution,
    Publication,
    Repository,
    RepositoryVersion,
)
from pulpcore.app.viewsets.filters import membership
from pulpcore.app.viewsets.filters.repository import ContentHrefFilter


class PublicationContentFilter(ContentHrefFilter):
    """Publications whose repository version holds the unit (or any of the units)."""

    def filter_units(self, qs, pks):
        return qs.filter(repository_version__in=membership.versions_containing(pks))


class DistributionWithContentFilter(ContentHrefFilter):
    """Distributions that serve the unit: through their publication's version, their fixed
    version, or their repository's latest version."""

    def filter_units(self, qs, pks):
        holding = membership.versions_containing(pks)
        return qs.filter(
            Q(publication__repository_version__in=holding)
            | Q(repository_version__in=holding)
            | Q(repository_id__in=membership.repositories_whose_latest_has(pks))
        )


class PublicationFilter(BaseFilterSet):
    """Publications by repository, version, creation time and the content they publish."""

    repository = HrefOrIdFilter(
        field_name="repository_version__repository", model=Repository, uuid_schema=False
    )
    repository_version = HrefOrIdFilter(field_name="repository_version", model=RepositoryVersion)
    content = PublicationContentFilter()
    content__in = PublicationContentFilter(many=True)
    ordering = ordering_filter(Publication)

    class Meta:
        model = Publication
        fields = {"pulp_created": DATETIME_LOOKUPS}


class GenericPublicationFilter(PublicationFilter):
    """``publications/``: every type, so also by ``pulp_type``."""

    pulp_type = PulpTypeFilter(Publication)
    pulp_type__in = PulpTypeInFilter(Publication)

    class Meta(PublicationFilter.Meta):
        pass


class DistributionFilter(BaseFilterSet):
    """Distributions by name, base path, labels, repository and the content they serve."""

    pulp_label_select = LabelSelectFilter()
    repository = HrefOrIdFilter(field_name="repository", model=Repository)
    repository__in = HrefOrIdInFilter(field_name="repository", model=Repository)
    with_content = DistributionWithContentFilter()
    ordering = ordering_filter(Distribution)

    class Meta:
        model = Distribution
        fields = {
            "name": NAME_FILTER_OPTIONS,
            "base_path": ["exact", "contains", "icontains", "in"],
        }


class GenericDistributionFilter(DistributionFilter):
    """``distributions/``: every type, so also by ``pulp_type``."""

    pulp_type = PulpTypeFilter(Distribution)
    pulp_type__in = PulpTypeInFilter(Distribution)

    class Meta(DistributionFilter.Meta):
        pass


class ContentGuardFilter(BaseFilterSet):
    """Content guards by name."""

    ordering = ordering_filter(ContentGuard)

    class Meta:
        model = ContentGuard
        fields = {"name": NAME_FILTER_OPTIONS}


class GenericContentGuardFilter(ContentGuardFilter):
    """``contentguards/``: every type, so also by ``pulp_type``."""

    pulp_type = PulpTypeFilter(ContentGuard)
    pulp_type__in = PulpTypeInFilter(ContentGuard)

    class Meta(ContentGuardFilter.Meta):
        pass
