"""Limit/offset pagination with Pulp's ``count``, ``next``, ``previous``, ``results``."""

from rest_framework import pagination

from pulpcore.app.queries.pages import page_queryset


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    """DRF's limit/offset pagination that skips ``COUNT(*)`` when the page itself tells the count.

    A page that is not empty and shorter than the limit is the last one, so the total is
    ``offset + len(page)``; the same holds for an empty first page. Most lists people ask for fit
    in one page, and the count was a second query on every one of them (on large tables the
    costlier of the two). A full page, or an offset past the end, still counts.

    The page itself comes from ``page_queryset``: a total order (pk tie-break), and for content
    a page of keys read from an index so a deep offset costs about what the first page does.
    """

    default_limit = 100
    max_limit = 5000

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.limit = self.get_limit(request)
        if self.limit is None:
            return None
        self.offset = self.get_offset(request)
        page = list(page_queryset(queryset, self.offset, self.limit))
        if (page and len(page) < self.limit) or (not page and self.offset == 0):
            self.count = self.offset + len(page)
        else:
            self.count = self.get_count(queryset)
        if self.count > self.limit and self.template is not None:
            self.display_page_controls = True
        if self.count == 0 or self.offset > self.count:
            return []
        return page
