"""Page-number pagination: bounded inputs, a `count`, and RFC 8288 `Link` headers."""

from django.http import HttpRequest, HttpResponse
from ninja import Field, Schema

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_PAGE = 1_000_000  # so no request can ask for an offset past bigint


class PageQuery(Schema):
    page: int = Field(1, ge=1, le=MAX_PAGE, description="Page number, from 1.")
    page_size: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Items per page.")


def paginate(request: HttpRequest, response: HttpResponse, queryset, query: PageQuery) -> dict:
    """One page of `queryset` as {"items", "count"}; `Link` names the first, previous, next and
    last pages (RFC 8288), so clients follow it instead of building URLs."""
    count = queryset.count()
    offset = (query.page - 1) * query.page_size
    items = list(queryset[offset : offset + query.page_size])
    last = max(1, -(-count // query.page_size))
    pages = {"first": 1, "last": last}
    if query.page < last:
        pages["next"] = query.page + 1
    if query.page > 1:
        pages["prev"] = min(query.page - 1, last)
    response["Link"] = ", ".join(
        f'<{_page_url(request, number)}>; rel="{rel}"' for rel, number in pages.items()
    )
    return {"items": items, "count": count}


def _page_url(request: HttpRequest, number: int) -> str:
    params = request.GET.copy()
    params["page"] = str(number)
    return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
