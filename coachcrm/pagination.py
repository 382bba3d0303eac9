# Page-number pagination for the list pages.
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

PAGE_SIZE = 25
# Lists count their rows up to this many and then say "more than 1,000" (exact on demand, `?count=exact`):
# counting a manager's 30,000 visible deals exactly took longer than finding the page's 25.
COUNT_LIMIT = 1000


class BoundedPaginator(Paginator):
    """A paginator whose count stops at COUNT_LIMIT + 1 rows; `bounded` tells the page it did."""

    def __init__(self, *args, exact: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.exact = exact
        self.limit = COUNT_LIMIT
        self.bounded = False

    @cached_property
    def count(self) -> int:
        if self.exact:
            return super().count
        rows = self.object_list
        if not isinstance(rows, QuerySet):
            counted = len(rows[: self.limit + 1])
        else:
            if rows.query.group_by is None and not rows.query.combinator and not rows._fields:
                # Plain rows: count their ids, without the list's order and annotations. Ordered,
                # PostgreSQL walked the newest-first index over all 100,000 deals for a rep with
                # fewer than 1,001 of them. (Grouped or combined rows are counted as they are.)
                rows = rows.order_by().values("pk")
            # COUNT(*) over a LIMIT subquery: the database stops at the first 1,001 rows.
            counted = rows[: self.limit + 1].count()
        self.bounded = counted > self.limit
        return counted

    def page(self, number):
        self.count  # noqa: B018 - counted first: `bounded` is known only then
        if not self.bounded:
            return super().page(number)
        # The count is a lower bound: the last page it allows is a full page, not its remainder.
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        return self._get_page(self.object_list[bottom : bottom + self.per_page], number, self)


def paginate(request, queryset, per_page: int = PAGE_SIZE, count: int | None = None):
    """The requested page of a queryset; out-of-range pages show the last page.

    `count`: the number of rows when the caller already has it (from an aggregate it runs
    anyway), which spares the paginator its own COUNT query over the same rows. Otherwise the
    count stops at COUNT_LIMIT unless the request asks for `count=exact`.
    """
    paginator = BoundedPaginator(queryset, per_page, exact=request.GET.get("count") == "exact")
    if count is not None:
        paginator.count = count
    return paginator.get_page(request.GET.get("page"))


def page_number(request) -> int | None:
    """The page the request asks for when it is a number from 1 (None: the paginator decides, first or last page)."""
    try:
        number = int(request.GET.get("page") or 1)
    except ValueError:
        return None
    return number if number >= 1 else None


def fetched_page(queryset, rows: list, number: int, count: int, per_page: int = PAGE_SIZE):
    """Page `number` of `queryset` from its rows fetched already (not empty), with the number of rows of them all.

    For a page whose query brings its totals along (service_catalog's ledger): no query here.
    """
    paginator = BoundedPaginator(queryset, per_page)
    paginator.count = count
    return paginator._get_page(rows, paginator.validate_number(number), paginator)
