"""Turning a learner's query into a Meilisearch search and its answer into API hits.

``search`` answers the API; ``faceted_search`` the results page (each active filter's own
facet counted as if it were not set, so a learner sees what else to add); ``overview`` the
home page (catalogue size, facet counts, newest courses); ``catalogue_counts`` the
statistics (every facet of the whole catalogue, and the courses without a value);
``newest_ids`` the Atom feeds of new courses.  Each is one request to Meilisearch.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from app.search import suggest
from app.search.gateway import IndexNotFound, SearchIndex
from app.search.index_settings import MAX_VALUES_PER_FACET
from app.search.query import (
    FILTERS,
    OPEN_FILTER,
    any_of,
    facet_values,
    filter_expression,
    none_of,
    sort_expression,
)
from app.search.schemas import FacetValue, Hit, HitProvenance, SearchResponse, Suggestion
from metadata.abbreviations import BUILT_IN, Vocabulary
from metadata.urls import http_url
from metadata.vocabularies import discipline_labels

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
    vocabulary: Vocabulary = BUILT_IN,
) -> dict[str, Any]:
    """The Meilisearch search body for a learner's query (also used by the benchmark).

    ``open_only`` keeps courses under an open licence only.  Abbreviations in ``q`` are
    written out with ``vocabulary`` (高数 → 高等数学).  Raises ``InvalidFilter`` for a
    filter or sort value that is not allowed.
    """
    params: dict[str, Any] = {
        "q": vocabulary.expand(q),
        "page": page,
        "hitsPerPage": per_page,
        "facets": [
            *(field.attribute for field in FILTERS.values() if field.facet),
            _OPEN_ATTRIBUTE,
        ],
        "attributesToRetrieve": HIT_ATTRIBUTES,
        "attributesToCrop": ["descriptions"],
        "cropLength": 40,
        "attributesToHighlight": ["descriptions", "title_zh", "title_en"],
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
    vocabulary: Vocabulary = BUILT_IN,
    correct: bool = True,
) -> SearchResponse:
    """One page of results with facets; ``labels`` gives facet labels by parameter where
    the field's own do not do (``institution``: names from the authority); ``vocabulary``
    the abbreviations written out in ``q``.

    A query that finds little gets ``suggestions`` and, for a confident correction, the
    results of that (``corrected_query``) unless ``correct`` is false; see ``_helped``.
    """

    def queries(words: str) -> list[dict[str, Any]]:
        return [
            search_params(
                words,
                page=page,
                per_page=per_page,
                filters=filters,
                sort=sort,
                open_only=open_only,
                vocabulary=vocabulary,
            )
        ]

    def answer(answers: list[dict[str, Any]]) -> SearchResponse:
        return _response(q, page, per_page, answers[0], labels)

    return _helped(
        index,
        uid,
        q,
        filters=filters,
        open_only=open_only,
        vocabulary=vocabulary,
        correct=correct,
        queries=queries,
        answer=answer,
    )


def faceted_search(
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
    vocabulary: Vocabulary = BUILT_IN,
    correct: bool = True,
) -> SearchResponse:
    """As ``search``, but a chosen filter's facet is counted without that filter (the
    others still apply), so more of its values can be added; likewise the ``open`` counts
    without the open-licence switch.  One multi-search."""
    filters = {name: values for name, values in (filters or {}).items() if values}
    if not filters and not open_only:
        return search(
            index,
            uid,
            q=q,
            page=page,
            per_page=per_page,
            sort=sort,
            labels=labels,
            vocabulary=vocabulary,
            correct=correct,
        )

    def queries(words: str) -> list[dict[str, Any]]:
        main, side = _faceted_queries(words, page, per_page, filters, sort, open_only, vocabulary)
        return [main, *(query for _, _, query in side)]

    def answer(answers: list[dict[str, Any]]) -> SearchResponse:
        _, side = _faceted_queries(q, page, per_page, filters, sort, open_only, vocabulary)
        response = _response(q, page, per_page, answers[0], labels)
        for (name, attribute, _), counted in zip(side, answers[1:], strict=True):
            distribution = (counted.get("facetDistribution") or {}).get(attribute, {})
            response.facets[name] = _facet(name, distribution, labels)
        return response

    return _helped(
        index,
        uid,
        q,
        filters=filters,
        open_only=open_only,
        vocabulary=vocabulary,
        correct=correct,
        queries=queries,
        answer=answer,
    )


def _faceted_queries(  # noqa: PLR0917 - private, called twice with one set of arguments
    q: str,
    page: int,
    per_page: int,
    filters: Mapping[str, Sequence[str]],
    sort: str,
    open_only: bool,
    vocabulary: Vocabulary,
) -> tuple[dict[str, Any], list[tuple[str, str, dict[str, Any]]]]:
    """``faceted_search``'s main query and its side queries (facet, attribute, query)."""
    main = search_params(
        q,
        page=page,
        per_page=per_page,
        filters=filters,
        sort=sort,
        open_only=open_only,
        vocabulary=vocabulary,
    )
    expanded = main["q"]  # the side queries count what the main one finds
    side: list[tuple[str, str, dict[str, Any]]] = []  # (facet, attribute, query)
    for name in filters:
        if not FILTERS[name].facet:
            continue  # a teacher's name is a filter to remove, not values to count
        others = {other: values for other, values in filters.items() if other != name}
        side.append((name, FILTERS[name].attribute, _counts(expanded, others, open_only, name)))
    if open_only:
        side.append(("open", _OPEN_ATTRIBUTE, _counts(expanded, filters, False, "open")))
    # What a side query counts, the main query need not count too.
    counted = {attribute for _, attribute, _ in side}
    main["facets"] = [attribute for attribute in main["facets"] if attribute not in counted]
    return main, side


Queries = Callable[[str], list[dict[str, Any]]]
"""The queries of one page of results for some words."""
Answer = Callable[[list[dict[str, Any]]], SearchResponse]
"""Their answers → the response."""


def _helped(
    index: SearchIndex,
    uid: str,
    q: str,
    *,
    filters: Mapping[str, Sequence[str]] | None,
    open_only: bool,
    vocabulary: Vocabulary,
    correct: bool,
    queries: Queries,
    answer: Answer,
) -> SearchResponse:
    """The response to ``q``, helped when it needs it (``app.search.suggest``).

    A query the catalogue's lexicon knows is sent alone, as it would be without help.  One
    that needs help is sent in one multi-search with its closest alternative (the queries
    of a whole page, shown instead if it is a confident correction and ``correct``) and
    the counts of the others.  A query that finds nothing gets the nearest disciplines.
    """
    lexicon = suggest.lexicon(index, uid) if q else None  # browsing needs no help
    needs = suggest.plan(q, lexicon, vocabulary) if lexicon is not None else None
    own = queries(q)
    if needs is None:
        response = answer(_run(index, uid, own))
    else:
        first, *others = needs.candidates
        theirs = queries(first.q)
        counts = [_count(other.q, own[0], vocabulary) for other in others]
        answers = _run(index, uid, [*own, *theirs, *counts])
        mine, alternative = answers[: len(own)], answers[len(own) : len(own) + len(theirs)]
        totals = [_total(alternative[0]), *(_total(a) for a in answers[len(own) + len(theirs) :])]
        chosen = needs.outcome(
            _total(mine[0]),
            totals,
            correct=correct,
            found_as_typed=_holds(mine[0], first.typed(q)),
        )
        if chosen.corrected is not None:
            response = answer(alternative)
            response.corrected_query = chosen.corrected
        else:
            response = answer(mine)
        response.suggestions = [
            _suggestion(reason, words, total, filters, open_only)
            for reason, words, total in chosen.offers
        ]
    if lexicon is not None and response.total == 0:
        # Near what the learner meant: the closest course name when one was found.
        meant = needs.candidates[0].q if needs is not None else q
        response.suggestions += [
            _discipline(code, lexicon.disciplines[code])
            for code in suggest.nearest_disciplines(meant, lexicon)
        ]
    return response


def _holds(answer: Mapping[str, Any], words: Sequence[str], first: int = 3) -> bool:
    """Whether one of the ``first`` hits has every one of ``words`` highlighted whole (in a
    title or its snippet): the query as typed found what it says, a correction would not."""
    if not words:
        return False
    for raw in answer.get("hits", [])[:first]:
        formatted = raw.get("_formatted") or {}
        texts = [formatted.get("title_zh"), formatted.get("title_en")]
        texts += formatted.get("descriptions") or []
        # Chinese is highlighted token by token: join neighbouring marks first.
        marked = " ".join(str(t) for t in texts if t).replace("\x03\x02", "")
        if all(f"\x02{word}\x03" in marked for word in words):
            return True
    return False


def _run(index: SearchIndex, uid: str, queries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    try:
        if len(queries) == 1:
            return [index.search(uid, queries[0])]
        return index.multi_search(uid, queries)
    except IndexNotFound:
        return [{} for _ in queries]  # nothing indexed yet: an empty catalogue, not an error


def _count(q: str, main: Mapping[str, Any], vocabulary: Vocabulary) -> dict[str, Any]:
    """A query counting the results of ``q`` under ``main``'s filters (no hits)."""
    query: dict[str, Any] = {"q": vocabulary.expand(q), "page": 1, "hitsPerPage": 0}
    if "filter" in main:
        query["filter"] = main["filter"]
    return query


def _total(answer: Mapping[str, Any]) -> int:
    return int(answer.get("totalHits", 0))


def _suggestion(
    reason: str,
    q: str,
    total: int,
    filters: Mapping[str, Sequence[str]] | None,
    open_only: bool,
) -> Suggestion:
    chosen = {name: list(values) for name, values in (filters or {}).items() if values}
    pairs = [("q", q), *((name, v) for name, values in chosen.items() for v in values)]
    if open_only:
        pairs.append(("open", "true"))
    if reason == "original":
        pairs.append(("correct", "false"))
    return Suggestion(
        query=q,
        total=total,
        reason=reason,
        filters=chosen,
        search_url=f"/api/v1/search?{urlencode(pairs)}",
    )


def _discipline(code: str, total: int) -> Suggestion:
    return Suggestion(
        query="",
        total=total,
        reason="discipline",
        filters={"subject": [code]},
        label=discipline_labels(code),
        search_url=f"/api/v1/search?{urlencode([('subject', code)])}",
    )


def _counts(
    q: str, filters: Mapping[str, Sequence[str]], open_only: bool, facet: str
) -> dict[str, Any]:
    """A query counting one facet's values (no hits) under ``filters``."""
    attribute = _OPEN_ATTRIBUTE if facet == "open" else FILTERS[facet].attribute
    query: dict[str, Any] = {"q": q, "limit": 0, "facets": [attribute]}
    expression = filter_expression(filters)
    if open_only:
        expression.append([OPEN_FILTER])
    if expression:
        query["filter"] = expression
    return query


@dataclass
class Overview:
    """What the home page shows of the catalogue."""

    total: int = 0
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    newest: list[Hit] = field(default_factory=list)


def overview(
    index: SearchIndex,
    uid: str,
    *,
    facets: Sequence[str],
    newest: int = 6,
    labels: Mapping[str, Labels] | None = None,
) -> Overview:
    """The catalogue's size, the counts of some facets (by filter name) and its newest
    courses; one multi-search."""
    # Every document has ``has_objects`` (true or false), and facet counts are exact where
    # hit counts stop at the index's maxTotalHits: its two counts add up to the catalogue.
    attributes = [FILTERS[name].attribute for name in facets]
    counts = {"q": "", "limit": 0, "facets": [*attributes, "has_objects"]}
    latest = {
        "q": "",
        "limit": newest,
        "sort": sort_expression("newest"),
        "attributesToRetrieve": HIT_ATTRIBUTES,
    }
    try:
        summary, recent = index.multi_search(uid, [counts, latest])
    except IndexNotFound:
        return Overview()
    held = (summary.get("facetDistribution") or {}).get("has_objects") or {}
    return Overview(
        total=sum(held.values()) or int(summary.get("estimatedTotalHits", 0)),
        facets=_facets(summary, labels),
        newest=[_hit(raw) for raw in recent.get("hits", [])],
    )


COUNTED: dict[str, tuple[str, bool]] = {
    "subject": ("discipline_codes", False),  # categories and disciplines, never capped
    "level": ("level", True),
    "type": ("type", True),
    "language": ("languages", False),
    "institution": ("institution_id", True),
    "license": ("license", True),
    "open": ("license_open", True),
    "source": ("source", True),
    "added": ("added_month", True),
}
"""What ``catalogue_counts`` counts: a name (a search filter's, ``open``, or ``added``, the
month a course was first harvested) → (document attribute, one value per course)."""


@dataclass
class FacetCount:
    """One facet over the whole catalogue.

    ``values``: most frequent first, at most ``MAX_VALUES_PER_FACET`` (``complete`` when
    fewer came back, so none was left out).  ``missing``: courses with no value.
    ``others``: courses whose value is not listed (0 when complete; ``None`` where a
    course may have several values, so the remainder cannot be told).
    """

    values: list[FacetValue] = field(default_factory=list)
    missing: int = 0
    complete: bool = True
    others: int | None = 0


@dataclass
class CatalogueCounts:
    """Every searchable course (``total``) counted by each facet of ``COUNTED``."""

    total: int = 0
    facets: dict[str, FacetCount] = field(default_factory=dict)


def catalogue_count_queries() -> dict[str, dict[str, Any]]:
    """The queries ``catalogue_counts`` sends (also used by the benchmark): ``""`` counts
    every facet; each facet's name counts the courses without a value."""
    # Every document has ``has_objects``: summing its two counts gives exact totals where
    # hit counts stop at the index's maxTotalHits.
    queries: dict[str, dict[str, Any]] = {
        "": {
            "q": "",
            "limit": 0,
            "facets": [*(attribute for attribute, _ in COUNTED.values()), "has_objects"],
        }
    }
    for name, (attribute, _) in COUNTED.items():
        if name == "open":
            continue  # every document is open or not
        queries[name] = {
            "q": "",
            "limit": 0,
            "facets": ["has_objects"],
            "filter": f"{attribute} IS NULL OR {attribute} IS EMPTY OR {attribute} NOT EXISTS",
        }
    return queries


def catalogue_counts(
    index: SearchIndex, uid: str, *, labels: Mapping[str, Labels] | None = None
) -> CatalogueCounts:
    """Counts of the whole catalogue by every facet of ``COUNTED``, with the courses that
    have no value for each; one multi-search of queries that return no hits.

    The counts are the search API's (the same index, no query, no filter): a value's count
    here is the count ``GET /api/v1/search`` gives it.  ``labels`` adds zh/en labels by
    name where the field has none of its own (institutions, sources, months).
    """
    queries = catalogue_count_queries()
    try:
        answers = index.multi_search(uid, list(queries.values()))
    except IndexNotFound:
        return CatalogueCounts()
    distributions = answers[0].get("facetDistribution") or {}
    total = _sum(distributions.get("has_objects"))
    lacking = {
        name: _sum((answer.get("facetDistribution") or {}).get("has_objects"))
        for name, answer in zip(list(queries)[1:], answers[1:], strict=True)
    }
    counts = CatalogueCounts(total=total)
    for name, (attribute, single) in COUNTED.items():
        distribution = distributions.get(attribute) or {}
        complete = len(distribution) < MAX_VALUES_PER_FACET
        absent = lacking.get(name, 0)
        listed = sum(distribution.values())
        counts.facets[name] = FacetCount(
            values=_labelled(name, distribution, labels),
            missing=absent,
            complete=complete,
            others=max(total - absent - listed, 0) if single else (0 if complete else None),
        )
    return counts


def _sum(distribution: Mapping[str, int] | None) -> int:
    return sum((distribution or {}).values())


def _labelled(
    name: str, distribution: Mapping[str, int], labels: Mapping[str, Labels] | None
) -> list[FacetValue]:
    if name in FILTERS or name == "open":
        return _facet(name, distribution, labels)
    label = (labels or {}).get(name) or (lambda _value: {})
    ordered = sorted(distribution.items(), key=lambda item: (-item[1], item[0]))
    return [FacetValue(value=value, count=count, label=label(value)) for value, count in ordered]


def _facet(
    name: str, distribution: Mapping[str, int], labels: Mapping[str, Labels] | None
) -> list[FacetValue]:
    if name == "open":
        return [
            FacetValue(value=value, count=count, label=_OPEN_LABELS.get(value, {}))
            for value, count in sorted(distribution.items(), reverse=True)
        ]
    values = facet_values(name, distribution, (labels or {}).get(name))
    return [FacetValue.model_validate(value) for value in values]


def _facets(
    answer: Mapping[str, Any], labels: Mapping[str, Labels] | None = None
) -> dict[str, list[FacetValue]]:
    distributions = answer.get("facetDistribution") or {}
    facets = {
        parameter: _facet(parameter, distribution, labels)
        for attribute, distribution in distributions.items()
        if (parameter := _PARAMETER_OF.get(attribute)) is not None
    }
    if _OPEN_ATTRIBUTE in distributions:
        facets["open"] = _facet("open", distributions[_OPEN_ATTRIBUTE], labels)
    return facets


def _response(
    q: str,
    page: int,
    per_page: int,
    answer: Mapping[str, Any],
    labels: Mapping[str, Labels] | None = None,
) -> SearchResponse:
    return SearchResponse(
        query=q,
        hits=[_hit(raw) for raw in answer.get("hits", [])],
        total=int(answer.get("totalHits", 0)),
        page=page,
        per_page=per_page,
        facets=_facets(answer, labels),
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
    params: dict[str, Any] = {
        "q": q,
        "limit": limit,
        "matchingStrategy": "last",
        "attributesToRetrieve": HIT_ATTRIBUTES,
    }
    if expression:
        params["filter"] = expression
    try:
        answer = index.search(uid, params)
    except IndexNotFound:
        return []
    return [_hit(raw) for raw in answer.get("hits", [])]


FIRST_HARVESTED_DESC = ["first_harvested:desc"]


def newest_ids(
    index: SearchIndex,
    uid: str,
    *,
    q: str = "",
    filters: Mapping[str, Sequence[str]] | None = None,
    open_only: bool = False,
    limit: int = 50,
    vocabulary: Vocabulary = BUILT_IN,
) -> list[str]:
    """Ids of the courses first harvested most recently that hold every word of ``q``
    and pass ``filters`` (as ``search`` reads them), newest first: a feed of new courses.

    Every word must match (not Meilisearch's default of dropping words until something
    does): ordered by date, a course matching one word of three would otherwise stand
    before better ones.  Abbreviations are written out as ``search`` does (a feed of 高数
    follows 高等数学).  Raises ``InvalidFilter`` and ``SearchError`` as ``search`` does.
    """
    expression = filter_expression(filters or {})
    if open_only:
        expression.append([OPEN_FILTER])
    params: dict[str, Any] = {
        "q": vocabulary.expand(q),
        "limit": limit,
        "sort": FIRST_HARVESTED_DESC,
        "matchingStrategy": "all",
        "attributesToRetrieve": ["id"],
    }
    if expression:
        params["filter"] = expression
    try:
        answer = index.search(uid, params)
    except IndexNotFound:
        return []
    return [str(raw["id"]) for raw in answer.get("hits", [])]


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


HIT_ATTRIBUTES = [
    "id",
    "title",
    "title_zh",
    "title_en",
    "descriptions",
    "description_languages",
    "institution",
    "institution_id",
    "institution_zh",
    "institution_en",
    "teachers",
    "subjects",
    "subject_codes",
    "level",
    "languages",
    "license",
    "license_open",
    "type",
    "has_objects",
    "url",
    "provenances",
]
"""What a hit is made of (``_hit``): Meilisearch sends these alone, not the documents'
search-only fields (pinyin, identifiers, keywords), which would make each answer several
times larger to send and to parse."""


@lru_cache(maxsize=8192)
def _checked_link(value: str) -> str | None:
    return http_url(value)


def _link(value: object) -> str | None:
    """``http_url`` of a hit's link, remembered: the same courses come back search after
    search, and checking a URL costs more than the rest of its hit."""
    return _checked_link(value) if isinstance(value, str) else None


def _hit(raw: dict[str, Any]) -> Hit:
    formatted = raw.get("_formatted") or {}
    snippets = formatted.get("descriptions") or []
    # Prefer the description in which the query was found.
    chosen = next((i for i, s in enumerate(snippets) if "\x02" in s), 0)
    snippet = snippets[chosen] if snippets else ""
    languages = raw.get("description_languages") or []
    snippet_language = languages[chosen] if snippets and len(languages) == len(snippets) else None
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
        description_language=snippet_language,
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
        has_files=bool(raw.get("has_objects")),
        url=_link(raw.get("url")),  # documents indexed before the URL rule may hold others
        api_url=f"/api/v1/resources/{raw['id']}",
        provenances=[
            HitProvenance(
                id=str(p["id"]),
                source=str(p.get("source") or ""),
                oai_identifier=str(p.get("oai_identifier") or ""),
                url=_link(p.get("url")),
                api_url=f"/api/v1/resources/{p['id']}",
            )
            for p in raw.get("provenances") or []
            if isinstance(p, dict) and p.get("id")
        ],
    )
