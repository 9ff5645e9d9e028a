"""Turning a learner's query into a Meilisearch search and its answer into API hits."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from app.search.gateway import IndexNotFound, SearchIndex
from app.search.query import (
    FILTERS,
    OPEN_FILTER,
    any_of,
    facet_values,
    filter_expression,
    none_of,
    sort_expression,
)
from app.search.schemas import FacetValue, Hit, SearchResponse
from metadata.urls import http_url

MAX_PER_PAGE = 100
_PARAMETER_OF = {field.attribute: name for name, field in FILTERS.items()}
_OPEN_ATTRIBUTE = "license_open"
_OPEN_LABELS = {
    "true": {"zh": "开放许可", "en": "Open licence"},
    "false": {"zh": "非开放或未注明", "en": "Not open or not stated"},
}

Labels = Callable[[str], dict[str, str]]
"""A facet value → its zh/en labels."""


def search_params(
    q: str,
    *,
    page: int,
    per_page: int,
    filters: Mapping[str, Sequence[str]] | None = None,
    sort: str = "relevance",
    open_only: bool = False,
) -> dict[str, Any]:
    """The Meilisearch search body for a learner's query (also used by the benchmark).

    ``open_only`` keeps courses under an open licence only.  Raises ``InvalidFilter``
    for a filter or sort value that is not allowed.
    """
    params: dict[str, Any] = {
        "q": q,
        "page": page,
        "hitsPerPage": per_page,
        "facets": [
            *(field.attribute for field in FILTERS.values() if field.facet),
            _OPEN_ATTRIBUTE,
        ],
        "attributesToCrop": ["descriptions"],
        "cropLength": 40,
        "attributesToHighlight": ["descriptions"],
        "highlightPreTag": "\x02",
        "highlightPostTag": "\x03",
    }
    expression = filter_expression(filters or {})
    if open_only:
        expression.append([OPEN_FILTER])
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
    open_only: bool = False,
    labels: Mapping[str, Labels] | None = None,
) -> SearchResponse:
    """One page of results with facets; ``labels`` gives facet labels by parameter where
    the field's own do not do (``institution``: names from the authority)."""
    params = search_params(
        q, page=page, per_page=per_page, filters=filters, sort=sort, open_only=open_only
    )
    try:
        answer = index.search(uid, params)
    except IndexNotFound:
        answer = {}  # nothing indexed yet: an empty catalogue, not an error
    distributions = answer.get("facetDistribution") or {}
    facets: dict[str, list[FacetValue]] = {}
    for attribute, distribution in distributions.items():
        if (parameter := _PARAMETER_OF.get(attribute)) is not None:
            values = facet_values(parameter, distribution, (labels or {}).get(parameter))
            facets[parameter] = [FacetValue.model_validate(value) for value in values]
    if _OPEN_ATTRIBUTE in distributions:
        facets["open"] = [
            FacetValue(value=value, count=count, label=_OPEN_LABELS.get(value, {}))
            for value, count in sorted(distributions[_OPEN_ATTRIBUTE].items(), reverse=True)
        ]
    return SearchResponse(
        query=q,
        hits=[_hit(raw) for raw in answer.get("hits", [])],
        total=int(answer.get("totalHits", 0)),
        page=page,
        per_page=per_page,
        facets=facets,
        query_ms=int(answer.get("processingTimeMs", 0)),
    )


def courses(
    index: SearchIndex,
    uid: str,
    *,
    q: str = "",
    filters: Mapping[str, Sequence[str]] | None = None,
    exclude: Sequence[str] = (),
    limit: int = 4,
) -> list[Hit]:
    """A few courses for a course page (related courses, other parts): no facets.

    Words of ``q`` are dropped from the end until courses match (Meilisearch's ``last``
    strategy), so a title finds courses sharing its first words.  Raises ``InvalidFilter``
    and ``SearchError`` as ``search`` does.
    """
    expression: list[Any] = filter_expression(filters or {})
    excluded = none_of("id", exclude)
    if excluded:
        expression.append(excluded)
    params: dict[str, Any] = {"q": q, "limit": limit, "matchingStrategy": "last"}
    if expression:
        params["filter"] = expression
    try:
        answer = index.search(uid, params)
    except IndexNotFound:
        return []
    return [_hit(raw) for raw in answer.get("hits", [])]


def ids_known_by(
    index: SearchIndex, uid: str, identifiers: Sequence[str], *, limit: int = 20
) -> list[str]:
    """Ids of courses that a record names by one of ``identifiers`` (a landing page, an
    OAI identifier, ...); the caller checks the match against the stored records."""
    clause = any_of("identifiers", identifiers)
    if not clause:
        return []
    params = {"q": "", "filter": [clause], "limit": limit, "attributesToRetrieve": ["id"]}
    try:
        answer = index.search(uid, params)
    except IndexNotFound:
        return []
    return [str(raw["id"]) for raw in answer.get("hits", [])]


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
    return Hit(
        id=raw["id"],
        title=raw.get("title") or "",
        title_zh=raw.get("title_zh") or None,
        title_en=raw.get("title_en") or None,
        description=_marked(snippet),
        institution=raw.get("institution") or None,
        institution_id=raw.get("institution_id"),
        institution_zh=raw.get("institution_zh"),
        institution_en=raw.get("institution_en"),
        teachers=raw.get("teachers") or [],
        subjects=raw.get("subjects") or [],
        subject_codes=raw.get("subject_codes") or [],
        level=raw.get("level"),
        languages=raw.get("languages") or [],
        license=raw.get("license"),
        license_open=raw.get("license_open"),
        type=raw.get("type"),
        url=http_url(raw.get("url")),  # documents indexed before the URL rule may hold others
        api_url=f"/api/v1/resources/{raw['id']}",
    )
