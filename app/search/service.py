"""Turning a learner's query into a Meilisearch search and its answer into API hits.

``search`` answers the API; ``faceted_search`` the results page (each active filter's own
facet counted as if it were not set, so a learner sees what else to add); ``overview`` the
home page (catalogue size, facet counts, newest courses).  Each is one request to
Meilisearch.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.search.gateway import IndexNotFound, SearchIndex
from app.search.query import FILTERS, facet_values, filter_expression, sort_expression
from app.search.schemas import FacetValue, Hit, SearchResponse
from metadata.urls import http_url

MAX_PER_PAGE = 100
_PARAMETER_OF = {field.attribute: name for name, field in FILTERS.items()}


def search_params(
    q: str,
    *,
    page: int,
    per_page: int,
    filters: Mapping[str, Sequence[str]] | None = None,
    sort: str = "relevance",
) -> dict[str, Any]:
    """The Meilisearch search body for a learner's query (also used by the benchmark).

    Raises ``InvalidFilter`` for a filter or sort value that is not allowed.
    """
    params: dict[str, Any] = {
        "q": q,
        "page": page,
        "hitsPerPage": per_page,
        "facets": [field.attribute for field in FILTERS.values()],
        "attributesToCrop": ["descriptions"],
        "cropLength": 40,
        "attributesToHighlight": ["descriptions", "title_zh", "title_en"],
        "highlightPreTag": "\x02",
        "highlightPostTag": "\x03",
    }
    expression = filter_expression(filters or {})
    if expression:
        params["filter"] = expression
    order = sort_expression(sort)
    if order:
        params["sort"] = order
    return params


def search(
    index: SearchIndex,
    uid: str,
    *,
    q: str,
    page: int,
    per_page: int,
    filters: Mapping[str, Sequence[str]] | None = None,
    sort: str = "relevance",
) -> SearchResponse:
    params = search_params(q, page=page, per_page=per_page, filters=filters, sort=sort)
    try:
        answer = index.search(uid, params)
    except IndexNotFound:
        answer = {}  # nothing indexed yet: an empty catalogue, not an error
    return _response(q, page, per_page, answer)


def faceted_search(
    index: SearchIndex,
    uid: str,
    *,
    q: str,
    page: int,
    per_page: int,
    filters: Mapping[str, Sequence[str]] | None = None,
    sort: str = "relevance",
) -> SearchResponse:
    """As ``search``, but an active filter's facet is counted without that filter (the
    other filters still apply), so its other values can be added; one multi-search."""
    filters = {name: values for name, values in (filters or {}).items() if values}
    if not filters:
        return search(index, uid, q=q, page=page, per_page=per_page, sort=sort)
    queries = [search_params(q, page=page, per_page=per_page, filters=filters, sort=sort)]
    for name in filters:
        others = {other: values for other, values in filters.items() if other != name}
        query: dict[str, Any] = {"q": q, "limit": 0, "facets": [FILTERS[name].attribute]}
        expression = filter_expression(others)
        if expression:
            query["filter"] = expression
        queries.append(query)
    try:
        answers = index.multi_search(uid, queries)
    except IndexNotFound:
        answers = [{} for _ in queries]
    response = _response(q, page, per_page, answers[0])
    for name, answer in zip(filters, answers[1:], strict=True):
        distribution = (answer.get("facetDistribution") or {}).get(FILTERS[name].attribute, {})
        response.facets[name] = [FacetValue(**v) for v in facet_values(name, distribution)]
    return response


@dataclass
class Overview:
    """What the home page shows of the catalogue."""

    total: int = 0
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    newest: list[Hit] = field(default_factory=list)


def overview(index: SearchIndex, uid: str, *, facets: Sequence[str], newest: int = 6) -> Overview:
    """The catalogue's size, the counts of some facets (by filter name) and its newest
    courses; one multi-search."""
    # Every document has ``has_objects`` (true or false), and facet counts are exact where
    # hit counts stop at the index's maxTotalHits: its two counts add up to the catalogue.
    attributes = [FILTERS[name].attribute for name in facets]
    counts = {"q": "", "limit": 0, "facets": [*attributes, "has_objects"]}
    latest = {"q": "", "limit": newest, "sort": sort_expression("newest")}
    try:
        summary, recent = index.multi_search(uid, [counts, latest])
    except IndexNotFound:
        return Overview()
    held = (summary.get("facetDistribution") or {}).get("has_objects") or {}
    return Overview(
        total=sum(held.values()) or int(summary.get("estimatedTotalHits", 0)),
        facets=_facets(summary),
        newest=[_hit(raw) for raw in recent.get("hits", [])],
    )


def _facets(answer: Mapping[str, Any]) -> dict[str, list[FacetValue]]:
    return {
        _PARAMETER_OF[attribute]: [
            FacetValue(**value) for value in facet_values(_PARAMETER_OF[attribute], distribution)
        ]
        for attribute, distribution in (answer.get("facetDistribution") or {}).items()
        if attribute in _PARAMETER_OF
    }


def _response(q: str, page: int, per_page: int, answer: Mapping[str, Any]) -> SearchResponse:
    return SearchResponse(
        query=q,
        hits=[_hit(raw) for raw in answer.get("hits", [])],
        total=int(answer.get("totalHits", 0)),
        page=page,
        per_page=per_page,
        facets=_facets(answer),
        query_ms=int(answer.get("processingTimeMs", 0)),
    )


def _marked(text: str) -> str:
    """Escape stored text, then turn Meilisearch's private-use markers into <mark>."""
    marked = html.escape(text).replace("\x02", "<mark>").replace("\x03", "</mark>")
    # Chinese words are highlighted token by token; join neighbouring marks into one.
    return marked.replace("</mark><mark>", "")


def _hit(raw: dict[str, Any]) -> Hit:
    formatted = raw.get("_formatted") or {}
    snippets = formatted.get("descriptions") or []
    # Prefer the description in which the query was found.
    snippet = next((s for s in snippets if "\x02" in s), snippets[0] if snippets else "")
    titles = {
        lang: _marked(formatted.get(f"title_{lang}") or raw.get(f"title_{lang}") or "")
        for lang in ("zh", "en")
        if raw.get(f"title_{lang}")
    }
    return Hit(
        id=raw["id"],
        title=raw.get("title") or "",
        title_zh=raw.get("title_zh") or None,
        title_en=raw.get("title_en") or None,
        titles_marked=titles,
        description=_marked(snippet),
        institution=raw.get("institution") or None,
        teachers=raw.get("teachers") or [],
        subjects=raw.get("subjects") or [],
        subject_codes=raw.get("subject_codes") or [],
        level=raw.get("level"),
        languages=raw.get("languages") or [],
        license=raw.get("license"),
        type=raw.get("type"),
        has_files=bool(raw.get("has_objects")),
        url=http_url(raw.get("url")),  # documents indexed before the URL rule may hold others
        api_url=f"/api/v1/resources/{raw['id']}",
    )
