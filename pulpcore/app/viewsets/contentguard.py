"""Content guard endpoints: the plugin base, the generic list and the core types."""

from rest_framework import mixins

from pulpcore.app.access.defaults import object_policy, object_roles, owner_hook
from pulpcore.app.models import (
    CompositeContentGuard,
    ContentGuard,
    ContentRedirectContentGuard,
    HeaderContentGuard,
    RBACContentGuard,
)
from pulpcore.app.models.contentguard import attach_downloaders
from pulpcore.app.serializers.contentguard import (
    CompositeContentGuardSerializer,
    ContentGuardSerializer,
    ContentRedirectContentGuardSerializer,
    HeaderContentGuardSerializer,
    RBACContentGuardSerializer,
)
from pulpcore.app.viewsets.access import RolesMixin
from pulpcore.app.viewsets.base import ListOnlyViewSet, NamedModelViewSet
from pulpcore.app.viewsets.filters.publication import (
    ContentGuardFilter,
    GenericContentGuardFilter,
)


class ContentGuardViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    NamedModelViewSet,
):
    """Base of every content guard endpoint (``contentguards/<plugin>/<type>/``).

    Deleting a guard detaches it from the distributions it protected (their ``content_guard``
    becomes null) and from the composites that held it.
    """

    endpoint_name = "contentguards"
    filterset_class = ContentGuardFilter


class ListContentGuardViewSet(ListOnlyViewSet):
    """``contentguards/``: every content guard of every type, each with its detail href."""

    endpoint_name = "contentguards"
    queryset = ContentGuard.objects.all().order_by("-pulp_created")
    serializer_class = ContentGuardSerializer
    filterset_class = GenericContentGuardFilter


class HeaderContentGuardViewSet(RolesMixin, ContentGuardViewSet):
    """``contentguards/core/header/``."""

    endpoint_name = "header"
    queryset = HeaderContentGuard.objects.all().order_by("-pulp_created")
    serializer_class = HeaderContentGuardSerializer
    DEFAULT_ACCESS_POLICY = object_policy("core", "headercontentguard")
    LOCKED_ROLES = object_roles("core", "headercontentguard")


class CompositeContentGuardViewSet(RolesMixin, ContentGuardViewSet):
    """``contentguards/core/composite/``."""

    endpoint_name = "composite"
    queryset = (
        CompositeContentGuard.objects.all().order_by("-pulp_created").prefetch_related("guards")
    )
    serializer_class = CompositeContentGuardSerializer
    DEFAULT_ACCESS_POLICY = object_policy("core", "compositecontentguard")
    LOCKED_ROLES = object_roles("core", "compositecontentguard")


class ContentRedirectContentGuardViewSet(RolesMixin, ContentGuardViewSet):
    """``contentguards/core/content_redirect/``."""

    endpoint_name = "content_redirect"
    queryset = ContentRedirectContentGuard.objects.all().order_by("-pulp_created")
    serializer_class = ContentRedirectContentGuardSerializer
    DEFAULT_ACCESS_POLICY = object_policy("core", "contentredirectcontentguard")
    LOCKED_ROLES = object_roles("core", "contentredirectcontentguard")


class RBACContentGuardViewSet(RolesMixin, ContentGuardViewSet):
    """``contentguards/core/rbac/``: downloads for users holding the guard's download permission.

    ``pulp content-guard rbac assign/remove`` give and take ``core.rbaccontentguard_downloader``
    through ``add_role``/``remove_role``. The creator owns the guard and may download through it.
    """

    endpoint_name = "rbac"
    queryset = RBACContentGuard.objects.all().order_by("-pulp_created")
    serializer_class = RBACContentGuardSerializer
    DEFAULT_ACCESS_POLICY = {
        **object_policy("core", "rbaccontentguard"),
        "creation_hooks": owner_hook(
            ["core.rbaccontentguard_owner", "core.rbaccontentguard_downloader"]
        ),
    }
    LOCKED_ROLES = {
        **object_roles("core", "rbaccontentguard"),
        "core.rbaccontentguard_downloader": ["core.download_rbaccontentguard"],
    }

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if page is not None:
            attach_downloaders(page)
        return page
