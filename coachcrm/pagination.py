# Page-number pagination for the list pages.
from django.core.paginator import Paginator

PAGE_SIZE = 25


def paginate(request, queryset, per_page: int = PAGE_SIZE, count: int | None = None):
    """The requested page of a queryset; out-of-range pages show the last page.

    `count`: the number of rows when the caller already has it (from an aggregate it runs
    anyway), which spares the paginator its own COUNT query over the same rows.
    """
    paginator = Paginator(queryset, per_page)
    if count is not None:
        paginator.count = count
    return paginator.get_page(request.GET.get("page"))
