"""What the results page shows, worked out from the request and the search answer (no I/O).

Everything a learner chose is in the URL: the query, the filters (a filter repeated means
any of its values), the sort and the page.  ``SearchState`` reads them and writes the
links that change one thing (a facet value added or removed, a sort, a page), so each
state is shareable and the back button restores it.  Subjects are a tree: choosing a
discipline replaces its category (and the other way round), since one contains the other.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from urllib.parse import quote, urlencode

from app.search.index_settings import MAX_TOTAL_HITS
from app.search.query import SORTS, InvalidFilter, chosen_filters
from app.search.schemas import FacetValue, Hit, Suggestion
from app.web import i18n
from app.web.i18n import Text

PER_PAGE = 20
MAX_PAGE = MAX_TOTAL_HITS // PER_PAGE
FACETS = ("subject", "level", "type", "language", "institution", "license")
"""The facet groups the results page offers, in the order shown."""
PAGE_FILTERS = (*FACETS, "source", "teacher")
"""Filters the page accepts in its URL (``source`` and ``teacher``, which course pages link
to, have no group, only a chip)."""
SHOWN_SORTS = ("relevance", "newest", "title")
"""The sorts offered as links; the API's others are accepted in a URL too."""
FIRST_VALUES = 8
"""Facet values shown before "more"."""


class BadParameter(ValueError):
    """A parameter the page cannot use; names it."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


@dataclass(frozen=True)
class SearchState:
    """A results page's state, as its URL says it."""

    q: str = ""
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sort: str | None = None
    page: int = 1
    lang: str | None = None
    open_only: bool = False
    correct: bool = True  # false: the words as typed, never a correction of them

    @classmethod
    def of(
        cls,
        *,
        q: str,
        page: int,
        sort: str | None,
        filters: Mapping[str, Sequence[str]],
        lang: str | None,
        open_only: bool = False,
        correct: bool = True,
    ) -> SearchState:
        """The state of a URL's parameters; ``BadParameter`` for a value no filter or sort
        accepts, or a page past the last one the index can reach."""
        if sort is not None and sort not in SORTS:
            raise BadParameter("sort", f"sort must be one of {', '.join(SORTS)}")
        if page > MAX_PAGE:
            raise BadParameter("page", f"results are shown up to page {MAX_PAGE}")
        try:
            chosen = chosen_filters(filters, PAGE_FILTERS)
        except InvalidFilter as exc:
            raise BadParameter(exc.parameter, str(exc)) from exc
        return cls(
            q=q.strip(),
            filters=chosen,
            sort=sort,
            page=page,
            lang=lang,
            open_only=open_only,
            correct=correct,
        )

    @property
    def effective_sort(self) -> str:
        """Relevance orders nothing without words: an empty query lists the newest first."""
        return self.sort or ("relevance" if self.q else "newest")

    @property
    def filtered(self) -> bool:
        return bool(self.filters or self.open_only)

    def url(self) -> str:
        pairs: list[str] = []
        if self.q:
            pairs.append(_pair("q", self.q))
        for name in PAGE_FILTERS:
            pairs += [_pair(name, value) for value in self.filters.get(name, ())]
        if self.open_only:
            pairs.append("open=true")
        if not self.correct and self.q:
            pairs.append("correct=false")
        if self.sort is not None:
            pairs.append(_pair("sort", self.sort))
        if self.page > 1:
            pairs.append(f"page={self.page}")
        if self.lang:
            pairs.append(_pair("lang", self.lang))
        return "/search" + ("?" + "&".join(pairs) if pairs else "")

    def with_filter(self, name: str, values: Sequence[str]) -> SearchState:
        filters = {k: v for k, v in self.filters.items() if k != name}
        if values:
            filters[name] = tuple(values)
        ordered = {k: filters[k] for k in PAGE_FILTERS if k in filters}
        return replace(self, filters=ordered, page=1)

    def toggled_values(self, name: str, value: str) -> list[str]:
        """The values of filter ``name`` once ``value`` is removed if chosen, else added."""
        chosen = list(self.filters.get(name, ()))
        if value in chosen:
            return [v for v in chosen if v != value]
        if name == "subject":
            # A category contains its disciplines: keep neither above nor below the new one.
            chosen = [v for v in chosen if not (v.startswith(value) or value.startswith(v))]
        return [*chosen, value]

    def toggled(self, name: str, value: str) -> SearchState:
        """This state with ``value`` of filter ``name`` removed if chosen, else added."""
        return self.with_filter(name, self.toggled_values(name, value))

    def filter_urls(self, name: str) -> Callable[[Sequence[str]], str]:
        """A fast ``with_filter(name, values).url()`` for the many links of one facet."""
        before = replace(self, filters={k: v for k, v in self.filters.items() if k != name}, page=1)
        anchor = "\x00"  # stands for the facet's values in the URL written once
        template = before.with_filter(name, [anchor]).url()
        head, _, tail = template.partition(_pair(name, anchor))
        plain = before.url()

        def url(values: Sequence[str]) -> str:
            if not values:
                return plain
            return head + "&".join(_pair(name, value) for value in values) + tail

        return url

    def with_query(self, q: str, *, correct: bool = True) -> SearchState:
        return replace(self, q=q, page=1, correct=correct)

    def without_filters(self) -> SearchState:
        return replace(self, filters={}, open_only=False, page=1)

    def open_switched(self) -> SearchState:
        """This state with the open-licence switch turned the other way."""
        return replace(self, open_only=not self.open_only, page=1)

    def sorted_by(self, sort: str) -> SearchState:
        return replace(self, sort=sort, page=1)

    def at_page(self, page: int) -> SearchState:
        return replace(self, page=page)

    def hidden_fields(self) -> list[tuple[str, str]]:
        """What a new query from the search box keeps: the filters and the sort."""
        fields = [(name, value) for name in PAGE_FILTERS for value in self.filters.get(name, ())]
        if self.open_only:
            fields.append(("open", "true"))
        if self.sort is not None:
            fields.append(("sort", self.sort))
        return fields


@lru_cache(maxsize=4096)
def _pair(name: str, value: str) -> str:
    """``name=value`` as a query string has it (a page writes dozens of links)."""
    return urlencode([(name, value)])


# --- facets -------------------------------------------------------------------------------


@dataclass
class FacetLink:
    value: str
    label: Text
    count: int
    chosen: bool
    href: str
    children: list[FacetLink] = field(default_factory=list)


@dataclass
class FacetGroup:
    name: str
    links: list[FacetLink]

    @property
    def _shown(self) -> int:
        # Hiding one or two values behind "more" saves nothing.
        return len(self.links) if len(self.links) <= FIRST_VALUES + 2 else FIRST_VALUES

    @property
    def first(self) -> list[FacetLink]:
        return self.links[: self._shown]

    @property
    def more(self) -> list[FacetLink]:
        return self.links[self._shown :]

    @property
    def chosen(self) -> bool:
        return any(link.chosen or any(c.chosen for c in link.children) for link in self.links)


def guessed(text: str, lang: str) -> Text:
    """A text of unknown language, with the language it reads as when not ``lang``."""
    return i18n.foreign(Text(text, i18n.guessed_language(text)), lang)


def value_label(name: str, value: str, labels: Mapping[str, str], lang: str) -> Text:
    """A filter value as words in the page's language ``lang``, or in its own language,
    which the ``Text`` then names (its ``lang`` is empty for the page's language)."""
    if name == "subject":
        return Text(i18n.discipline_name(value, lang), "")
    if name == "level":
        return Text(i18n.level_name(value, lang), "")
    if name == "type":
        return Text(i18n.type_name(value, lang), "")
    if name == "language":
        return Text(i18n.language_name(value, lang), "")
    if labels:
        return i18n.foreign(i18n.pick(labels, lang), lang)
    return guessed(value, lang)


def facet_groups(
    state: SearchState, facets: Mapping[str, Sequence[FacetValue]], lang: str
) -> list[FacetGroup]:
    """The facet groups with their values, counts and links; empty groups left out."""
    groups = []
    for name in FACETS:
        values = list(facets.get(name, ()))
        chosen = state.filters.get(name, ())
        present = {v.value for v in values}
        # A chosen value the answer no longer counts stays visible, to be removed.
        values += [FacetValue(value=v, count=0) for v in chosen if v not in present]
        url = state.filter_urls(name)
        links = [_link(state, name, value, lang, url) for value in values]
        if name == "subject":
            links = _subject_tree(links, chosen)
        if links:
            groups.append(FacetGroup(name, links))
    return groups


def _link(
    state: SearchState,
    name: str,
    value: FacetValue,
    lang: str,
    url: Callable[[Sequence[str]], str],
) -> FacetLink:
    return FacetLink(
        value=value.value,
        label=value_label(name, value.value, value.label, lang),
        count=value.count,
        chosen=value.value in state.filters.get(name, ()),
        href=url(state.toggled_values(name, value.value)),
    )


def _subject_tree(links: list[FacetLink], chosen: Sequence[str]) -> list[FacetLink]:
    """Categories (2 digits), most courses first; under a category that is chosen or has a
    chosen discipline, its disciplines (4 digits), most courses first."""
    order = lambda link: (-link.count, link.value)  # noqa: E731
    categories = sorted((link for link in links if len(link.value) == 2), key=order)
    disciplines = sorted((link for link in links if len(link.value) == 4), key=order)
    for category in categories:
        if any(c.startswith(category.value) for c in chosen):
            category.children = [d for d in disciplines if d.value.startswith(category.value)]
    return categories


# --- chips, sorts, pages ------------------------------------------------------------------


@dataclass
class Chip:
    name: str
    label: Text
    remove_href: str


def chips(state: SearchState, facets: Mapping[str, Sequence[FacetValue]], lang: str) -> list[Chip]:
    """One removable chip per chosen filter value, and one for the open-licence switch
    (its label is the template's: ``name`` "open")."""
    labels = {(name, v.value): v.label for name, values in facets.items() for v in values}
    chosen = [
        Chip(
            name=name,
            label=value_label(name, value, labels.get((name, value), {}), lang),
            remove_href=state.toggled(name, value).url(),
        )
        for name in PAGE_FILTERS
        for value in state.filters.get(name, ())
    ]
    if state.open_only:
        chosen.append(
            Chip(name="open", label=Text("", ""), remove_href=state.open_switched().url())
        )
    return chosen


@dataclass
class OpenSwitch:
    """The "open licences only" switch: whether it is on, how many courses it keeps."""

    on: bool
    count: int
    href: str


def open_switch(state: SearchState, facets: Mapping[str, Sequence[FacetValue]]) -> OpenSwitch:
    counts = {v.value: v.count for v in facets.get("open", ())}
    return OpenSwitch(state.open_only, counts.get("true", 0), state.open_switched().url())


@dataclass
class SortLink:
    sort: str
    href: str
    current: bool


def sort_links(state: SearchState) -> list[SortLink]:
    shown = [s for s in SHOWN_SORTS if s != "relevance" or state.q]
    return [SortLink(s, state.sorted_by(s).url(), s == state.effective_sort) for s in shown]


@dataclass
class Pages:
    current: int
    last: int
    numbers: list[int | None]  # None: a gap
    first_number: int  # the number of the page's first result, counted across pages

    def href(self, state: SearchState, page: int) -> str:
        return state.at_page(page).url()


def pages(total: int, page: int, per_page: int = PER_PAGE, around: int = 2) -> Pages:
    """Page numbers to offer: the first, the last, and ``around`` either side of this one."""
    reachable = min(total, MAX_TOTAL_HITS)
    last = max(1, math.ceil(reachable / per_page))
    shown = sorted({1, last, *range(max(1, page - around), min(last, page + around) + 1)})
    numbers: list[int | None] = []
    for number in shown:
        if numbers and number - (numbers[-1] or 0) > 1:
            numbers.append(None)
        numbers.append(number)
    return Pages(page, last, numbers, (page - 1) * per_page + 1)


def leaf_subjects(codes: Sequence[str]) -> list[str]:
    """The most specific of a course's discipline codes (a category only when it is all)."""
    return [c for c in codes if not any(o != c and o.startswith(c) for o in codes)]


# --- help when a search finds little ------------------------------------------------------


@dataclass
class Offer:
    """Another search offered on the page (``app.search.suggest``): a close spelling
    (``spelling``), the learner's own words back (``original``) or a discipline."""

    reason: str
    query: str
    label: Text
    total: int
    href: str


def offers(state: SearchState, suggestions: Sequence[Suggestion], lang: str) -> list[Offer]:
    """The page's links for the search answer's suggestions, in its order."""
    found = []
    for suggestion in suggestions:
        if suggestion.reason == "discipline":
            code = suggestion.filters["subject"][0]
            target = SearchState(filters={"subject": (code,)}, lang=state.lang)
            label = value_label("subject", code, suggestion.label, lang)
        else:
            target = state.with_query(suggestion.query, correct=suggestion.reason != "original")
            label = guessed(suggestion.query, lang)
        found.append(
            Offer(suggestion.reason, suggestion.query, label, suggestion.total, target.url())
        )
    return found


# --- course cards -------------------------------------------------------------------------


@dataclass
class Card:
    """A course as a result card shows it, in the page's language; every ``Text`` names
    its language only when it is not the page's."""

    href: str
    title: Text
    title_marked: str  # the title with <mark>s (escaped), or "" when none came back
    facts: list[Text]
    has_files: bool
    teachers: list[Text]
    snippet: Text  # with <mark>s, escaped
    subjects: list[tuple[str, str]]  # (search link, name)


def institution_name(hit: Hit, lang: str) -> Text:
    """The course's school: its authority name in the page's language, else the other one,
    else as the record names it."""
    names = {"zh": hit.institution_zh or "", "en": hit.institution_en or ""}
    if any(names.values()):
        return i18n.foreign(i18n.pick(names, lang), lang)
    return guessed(hit.institution or hit.institution_id or "", lang)


def snippet_language(hit: Hit) -> str:
    """The snippet's language: as its record states it, else as its words read."""
    stated = hit.description_language
    if stated and stated != "und":
        return stated
    return i18n.guessed_language(hit.description)


def card(hit: Hit, lang: str) -> Card:
    marked_lang = lang if hit.titles_marked.get(lang) else next(iter(hit.titles_marked), "")
    title_lang = marked_lang or i18n.guessed_language(hit.title)
    facts = [institution_name(hit, lang)] if hit.institution or hit.institution_id else []
    if hit.level:
        facts.append(Text(i18n.level_name(hit.level, lang), ""))
    if hit.type:
        facts.append(Text(i18n.type_name(hit.type, lang), ""))
    facts += [Text(i18n.language_name(code, lang), "") for code in hit.languages]
    return Card(
        href=f"/courses/{quote(hit.id, safe='')}",
        title=i18n.foreign(Text(hit.title if not marked_lang else "", title_lang), lang),
        title_marked=hit.titles_marked.get(marked_lang, "") if marked_lang else "",
        facts=facts,
        has_files=hit.has_files,
        teachers=[guessed(name, lang) for name in hit.teachers],
        snippet=i18n.foreign(Text(hit.description, snippet_language(hit)), lang),
        subjects=[
            (f"/search?{_pair('subject', code)}", i18n.discipline_name(code, lang))
            for code in leaf_subjects(hit.subject_codes)
        ],
    )
