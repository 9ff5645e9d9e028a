"""Benchmark: how well search finds what a learner means, on judged queries, ours vs defaults.

The judged queries live in ``bench/relevance_queries.json``: Chinese course names, common
abbreviations (高数, 线代, 大物 ...), English, mixed Chinese and English, typos, pinyin in
full and as initials, course codes, teachers' names, a school with a course, and queries
with filters, each with
graded judgments of which demo courses answer it (3: the course asked for, 2: clearly
relevant, 1: related).  Judgments name courses by stable properties of the generated
records, never by the engine's answers: ``course:<zh stem>`` (every record of that course,
in either language; ``@zh``/``@en`` narrows to one; ``#<institution slug>`` to one school),
``teacher:<name>`` (a creator), ``code:<course code>`` and ``record:<course-NNNNN>``.  A
record takes the highest grade of the judgments it matches.

The demo catalogue is loaded as ``coursefed demo`` loads it; each query goes through our
search service (``app.search.service.search``, as ``GET /api/v1/search`` calls it) and
through a second index holding the same documents (made by the indexer's own mapping)
with Meilisearch's default settings, only the attributes the filtered queries need made
filterable.  Metrics, per category and overall:

* nDCG@10, graded, with gain 2^rel - 1 and a log2(rank + 1) discount (Burges et al.,
  "Learning to Rank using Gradient Descent", ICML 2005; Järvelin & Kekäläinen, "Cumulated
  gain-based evaluation of IR techniques", ACM TOIS 20(4), 2002).  The ideal ranking is
  every judged course of the corpus that passes the query's filters, best grade first;
* MRR: the mean of 1/rank of the first relevant hit (grade >= 2) in the top 10, 0 if none;
* zero-result rate: queries answered with no hit at all;
* missed: queries whose corpus holds a relevant course (grade >= 2) but whose top 10 holds
  none.

Targets (ours): nDCG@10 >= 0.90, MRR >= 0.85, no query missed.

Run: ``python -m bench.relevance [--records 2400] [--worst 15] [--json FILE]``; the JSON
holds every query's outcome by both engines, to compare two settings query by query.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.catalogue import repository
from app.catalogue.service import resource_id_for
from app.db import make_engine, session_scope
from app.demo.corpus import COURSES, INSTITUTIONS, DemoRecord, generate_corpus
from app.demo.run import DEMO_SLUG, demo_catalogue
from app.search import service
from app.search.gateway import SearchIndex
from app.search.indexer import documents_for
from app.search.query import FILTERS, filter_expression
from app.services.manager import services_down, services_up
from app.services.ports import free_port, service_ports
from app.settings import Settings
from bench.search_page import pad, shown_width

QUERIES_FILE = Path(__file__).with_name("relevance_queries.json")
K = 10
RELEVANT = 2
"""The grade from which a hit counts as relevant for MRR and for a missed query."""
TARGETS = {"ndcg": 0.90, "mrr": 0.85}
CATEGORIES = (
    "zh_full",
    "abbreviation",
    "english",
    "mixed",
    "typo",
    "pinyin",
    "pinyin_initials",
    "course_code",
    "teacher",
    "school",
    "filtered",
)
JUDGED_FILTERS = ("subject", "level", "language")
"""The filters a judged query may use: each can be checked on a demo record directly."""
SELECTOR_KINDS = ("course", "teacher", "code", "record")


# -- the judged set --------------------------------------------------------------------------


@dataclass(frozen=True)
class JudgedQuery:
    id: str
    category: str
    q: str
    judged: dict[str, int]  # selector → grade
    filters: dict[str, list[str]] = field(default_factory=dict)
    note: str = ""


def load_queries(path: Path = QUERIES_FILE) -> list[JudgedQuery]:
    """The judged queries of ``path``; raises ``ValueError`` for a malformed entry."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    queries = []
    for entry in raw["queries"]:
        query = JudgedQuery(
            id=entry["id"],
            category=entry["category"],
            q=entry["q"],
            judged={str(k): int(v) for k, v in entry["judged"].items()},
            filters={name: list(values) for name, values in entry.get("filters", {}).items()},
            note=entry.get("note", ""),
        )
        if query.category not in CATEGORIES:
            raise ValueError(f"{query.id}: unknown category {query.category!r}")
        if not query.judged or any(g not in (1, 2, 3) for g in query.judged.values()):
            raise ValueError(f"{query.id}: grades must be 1, 2 or 3")
        if not any(g >= RELEVANT for g in query.judged.values()):
            raise ValueError(f"{query.id}: no course judged {RELEVANT} or better")
        for name in query.filters:
            if name not in JUDGED_FILTERS:
                raise ValueError(f"{query.id}: filter {name!r} is not one of {JUDGED_FILTERS}")
        for selector in query.judged:
            parse_selector(selector)  # raises for a malformed one
        queries.append(query)
    ids = [q.id for q in queries]
    if len(ids) != len(set(ids)):
        raise ValueError("query ids must be unique")
    return queries


_STEMS = {course.zh: course for course in COURSES}
_SCHOOLS = {institution.slug for institution in INSTITUTIONS}


@functools.cache
def course_of(record: DemoRecord) -> str:
    """The course a demo record is of, by its zh stem: the longest stem its title starts
    with in the record's language (``大学物理实验（上）`` is 大学物理实验, not 大学物理)."""
    best = ""
    found = ""
    for course in COURSES:
        stem = course.zh if record.language == "zh" else course.en
        if record.title.startswith(stem) and len(stem) > len(best):
            best, found = stem, course.zh
    if not found:
        raise ValueError(f"{record.local_id}: no course stem in {record.title!r}")
    return found


@dataclass(frozen=True)
class Selector:
    kind: str
    value: str
    language: str | None = None
    institution: str | None = None


def parse_selector(text: str) -> Selector:
    """``course:高等数学@zh#jianglan-univ``, ``teacher:高伟``, ``code:JLU0701123``,
    ``record:course-00042``."""
    kind, sep, rest = text.partition(":")
    if not sep or kind not in SELECTOR_KINDS or not rest:
        raise ValueError(f"bad selector {text!r}")
    if kind != "course":
        return Selector(kind, rest)
    rest, _, institution = rest.partition("#")
    value, _, language = rest.partition("@")
    if value not in _STEMS:
        raise ValueError(f"bad selector {text!r}: no course {value!r} in the demo corpus")
    if language not in ("", "zh", "en"):
        raise ValueError(f"bad selector {text!r}: language must be zh or en")
    if institution and institution not in _SCHOOLS:
        raise ValueError(f"bad selector {text!r}: no institution {institution!r}")
    return Selector(kind, value, language or None, institution or None)


def matches(selector: Selector, record: DemoRecord, course: str) -> bool:
    if selector.kind == "course":
        return (
            course == selector.value
            and selector.language in (None, record.language)
            and selector.institution in (None, record.institution_slug)
        )
    if selector.kind == "teacher":
        return selector.value in record.creators
    if selector.kind == "code":
        return record.course_code == selector.value
    return record.local_id == selector.value


def passes(record: DemoRecord, filters: Mapping[str, Sequence[str]]) -> bool:
    """Whether a record passes a judged query's filters (values of one filter ORed)."""
    for name, values in filters.items():
        if name == "subject":
            ok = any(record.subject_code.startswith(value) for value in values)
        elif name == "level":
            ok = record.level in values
        else:
            ok = record.language in values
        if not ok:
            return False
    return True


def searchable(corpus: Sequence[DemoRecord]) -> list[DemoRecord]:
    return [record for record in corpus if not record.deleted]


def grades(query: JudgedQuery, corpus: Sequence[DemoRecord]) -> dict[str, int]:
    """Each judged record of ``corpus`` that passes the query's filters → its grade, by
    OAI identifier."""
    selectors = [(parse_selector(text), grade) for text, grade in query.judged.items()]
    found: dict[str, int] = {}
    for record in searchable(corpus):
        if not passes(record, query.filters):
            continue
        course = course_of(record)
        grade = max((g for s, g in selectors if matches(s, record, course)), default=0)
        if grade:
            found[record.identifier] = grade
    return found


def unmatched_selectors(query: JudgedQuery, corpus: Sequence[DemoRecord]) -> list[str]:
    """Selectors of ``query`` no searchable record of ``corpus`` matches (filters aside)."""
    records = [(record, course_of(record)) for record in searchable(corpus)]
    return [
        text
        for text in query.judged
        if not any(matches(parse_selector(text), r, course) for r, course in records)
    ]


# -- metrics ---------------------------------------------------------------------------------


def dcg(relevances: Sequence[int], k: int = K) -> float:
    """Discounted cumulative gain: sum of (2^rel - 1) / log2(rank + 1) over the first k."""
    return sum((2**rel - 1) / math.log2(rank + 1) for rank, rel in enumerate(relevances[:k], 1))


def ndcg(ranked: Sequence[int], judged: Sequence[int], k: int = K) -> float:
    """nDCG@k of the grades of the hits in rank order, against the ideal ordering of every
    judged grade; 1.0 when nothing is judged relevant (nothing could be found)."""
    ideal = dcg(sorted(judged, reverse=True), k)
    if ideal == 0:
        return 1.0
    return dcg(ranked, k) / ideal


def reciprocal_rank(ranked: Sequence[int], k: int = K, threshold: int = RELEVANT) -> float:
    """1/rank of the first hit with a grade of at least ``threshold`` in the top k, else 0."""
    for rank, rel in enumerate(ranked[:k], 1):
        if rel >= threshold:
            return 1.0 / rank
    return 0.0


def missed(ranked: Sequence[int], judged: Sequence[int], k: int = K) -> bool:
    """The corpus holds a relevant course but the top k holds none."""
    return any(g >= RELEVANT for g in judged) and not any(g >= RELEVANT for g in ranked[:k])


@dataclass
class Outcome:
    """One query's answer by one engine."""

    query: JudgedQuery
    ndcg: float
    rr: float
    zero: bool
    missed: bool
    top: list[str]  # titles of the first hits


@dataclass
class Summary:
    count: int
    ndcg: float
    mrr: float
    zero_rate: float
    missed: int


def summarise(outcomes: Sequence[Outcome]) -> Summary:
    n = len(outcomes)
    if n == 0:
        return Summary(0, 0.0, 0.0, 0.0, 0)
    return Summary(
        count=n,
        ndcg=sum(o.ndcg for o in outcomes) / n,
        mrr=sum(o.rr for o in outcomes) / n,
        zero_rate=sum(o.zero for o in outcomes) / n,
        missed=sum(o.missed for o in outcomes),
    )


def evaluate(
    query: JudgedQuery,
    judged: Mapping[str, int],
    hit_ids: Sequence[str],
    total: int,
    top: list[str],
) -> Outcome:
    """``hit_ids``: OAI identifiers of the hits in rank order."""
    ranked = [judged.get(hit, 0) for hit in hit_ids]
    values = list(judged.values())
    return Outcome(
        query=query,
        ndcg=ndcg(ranked, values),
        rr=reciprocal_rank(ranked),
        zero=total == 0,
        missed=missed(ranked, values),
        top=top,
    )


# -- running ---------------------------------------------------------------------------------

Engine = Callable[[JudgedQuery], tuple[list[str], int, list[str]]]
"""A query → (resource ids of the top K hits, total hits, their titles)."""


def ours(index: SearchIndex, uid: str) -> Engine:
    def run(query: JudgedQuery) -> tuple[list[str], int, list[str]]:
        answer = service.search(index, uid, q=query.q, page=1, per_page=K, filters=query.filters)
        return [h.id for h in answer.hits], answer.total, [h.title for h in answer.hits]

    return run


def defaults(index: SearchIndex, uid: str) -> Engine:
    def run(query: JudgedQuery) -> tuple[list[str], int, list[str]]:
        params: dict[str, Any] = {"q": query.q, "limit": K, "attributesToRetrieve": ["id", "title"]}
        expression = filter_expression(query.filters)
        if expression:
            params["filter"] = expression
        answer = index.search(uid, params)
        hits = answer.get("hits", [])
        total = int(answer.get("estimatedTotalHits", answer.get("totalHits", 0)))
        return [h["id"] for h in hits], total, [str(h.get("title", "")) for h in hits]

    return run


def filterable_for(queries: Sequence[JudgedQuery]) -> list[str]:
    """The attributes the filtered queries filter on (and nothing else)."""
    names = {name for query in queries for name in query.filters}
    return sorted({a for name in names for a in (FILTERS[name].attribute, *FILTERS[name].also)})


def build_defaults_index(
    settings: Settings, index: SearchIndex, uid: str, filterable: list[str]
) -> int:
    """A second index of the same documents the indexer makes, with Meilisearch's defaults
    (only ``filterable`` set); returns how many documents it holds."""
    if index.index_exists(uid):
        index.delete_index(uid)
    index.create_index(uid, {"filterableAttributes": filterable})
    engine = make_engine(settings)
    count = 0
    after = ""
    slugs: dict[int, str] = {}
    try:
        while True:
            with session_scope(engine) as session:
                rows = repository.live_resources_after(session, after, 1000)
                documents = documents_for(session, rows, slugs)
            if not rows:
                break
            index.wait_for_task(index.add_documents(uid, documents))
            count += len(documents)
            after = rows[-1].id
    finally:
        engine.dispose()
    return count


def run_queries(
    queries: Sequence[JudgedQuery], corpus: Sequence[DemoRecord], engine: Engine
) -> list[Outcome]:
    oai_of = {resource_id_for(DEMO_SLUG, r.identifier): r.identifier for r in corpus}
    outcomes = []
    for query in queries:
        ids, total, titles = engine(query)
        hit_ids = [oai_of.get(resource_id, resource_id) for resource_id in ids]
        outcomes.append(evaluate(query, grades(query, corpus), hit_ids, total, titles[:3]))
    return outcomes


def report(
    queries: Sequence[JudgedQuery],
    our: Sequence[Outcome],
    theirs: Sequence[Outcome],
    *,
    records: int,
    worst: int,
) -> bool:
    """Prints the table, the worst queries and the targets; True when every target is met."""
    header = (
        "category",
        "n",
        "nDCG@10 ours",
        "defaults",
        "MRR ours",
        "defaults",
        "zero ours",
        "defaults",
        "missed ours",
        "defaults",
    )
    rows: list[tuple[str, ...]] = []
    groups = [(c, [i for i, q in enumerate(queries) if q.category == c]) for c in CATEGORIES]
    groups.append(("all", list(range(len(queries)))))
    for name, members in groups:
        if not members:
            continue
        a = summarise([our[i] for i in members])
        b = summarise([theirs[i] for i in members])
        rows.append(
            (
                name,
                str(a.count),
                f"{a.ndcg:.3f}",
                f"{b.ndcg:.3f}",
                f"{a.mrr:.3f}",
                f"{b.mrr:.3f}",
                f"{a.zero_rate:.0%}",
                f"{b.zero_rate:.0%}",
                str(a.missed),
                str(b.missed),
            )
        )
    print_table(header, rows)

    print(f"\nWorst {worst} queries (ours, lowest nDCG@10 first):")
    pairs = sorted(zip(our, theirs, strict=True), key=lambda p: (p[0].ndcg, p[0].rr, p[0].query.id))
    worst_rows = [
        (
            o.query.id,
            label(o.query),
            f"{o.ndcg:.2f}",
            f"{o.rr:.2f}",
            f"{d.ndcg:.2f}",
            " / ".join(o.top) or "(no results)",
        )
        for o, d in pairs[:worst]
    ]
    print_table(("id", "query", "nDCG", "RR", "defaults nDCG", "first hits"), worst_rows)

    total = summarise(our)
    checks = [
        (f"nDCG@10 >= {TARGETS['ndcg']:.2f}", total.ndcg >= TARGETS["ndcg"], f"{total.ndcg:.3f}"),
        (f"MRR >= {TARGETS['mrr']:.2f}", total.mrr >= TARGETS["mrr"], f"{total.mrr:.3f}"),
        ("no judged query missed from the top 10", total.missed == 0, f"{total.missed} missed"),
    ]
    print(
        f"\n{len(queries)} judged queries over {records} demo records; relevant means "
        f"grade >= {RELEVANT}; defaults = the same documents with Meilisearch's default settings."
    )
    for target, ok, value in checks:
        print(f"  target {target}: {'pass' if ok else 'FAIL'} ({value})")
    return all(ok for _, ok, _ in checks)


def label(query: JudgedQuery) -> str:
    """The query as typed, with its filters."""
    return query.q + "".join(f" {k}={','.join(v)}" for k, v in query.filters.items())


def as_json(our: Sequence[Outcome], theirs: Sequence[Outcome], records: int) -> dict[str, Any]:
    """Every query's outcome by both engines, to compare two runs query by query."""

    def one(outcome: Outcome) -> dict[str, Any]:
        return {
            "ndcg": round(outcome.ndcg, 4),
            "rr": round(outcome.rr, 4),
            "zero": outcome.zero,
            "missed": outcome.missed,
            "top": outcome.top,
        }

    return {
        "records": records,
        "ours": vars(summarise(our)),
        "defaults": vars(summarise(theirs)),
        "queries": [
            {
                "id": o.query.id,
                "category": o.query.category,
                "q": label(o.query),
                "ours": one(o),
                "defaults": one(d),
            }
            for o, d in zip(our, theirs, strict=True)
        ],
    }


def print_table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(shown_width(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print(" | ".join(pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip())


def run(settings: Settings, records: int, worst: int, json_path: Path | None = None) -> bool:
    corpus = generate_corpus(records)
    queries = []
    for query in load_queries():
        if unmatched := unmatched_selectors(query, corpus):
            print(f"note: {query.id}: {', '.join(unmatched)} not in {records} records")
        if any(g >= RELEVANT for g in grades(query, corpus).values()):
            queries.append(query)
        else:
            print(f"note: {query.id} left out: nothing relevant in {records} records")
    index = SearchIndex.from_settings(settings)
    uid = settings.meili_index
    default_uid = f"{uid}-defaults"
    with demo_catalogue(settings, count=records, fetch_limit=0):
        held = build_defaults_index(settings, index, default_uid, filterable_for(queries))
        print(f"{held} documents in both indexes\n")
        our = run_queries(queries, corpus, ours(index, uid))
        theirs = run_queries(queries, corpus, defaults(index, default_uid))
    if json_path is not None:
        text = json.dumps(as_json(our, theirs, records), ensure_ascii=False, indent=1)
        json_path.write_text(text + "\n", encoding="utf-8")
    return report(queries, our, theirs, records=records, worst=worst)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2400)
    parser.add_argument("--worst", type=int, default=15, help="how many worst queries to list")
    parser.add_argument(
        "--json", type=Path, default=None, help="also write every query's outcome to this file"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="coursefed-bench-") as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            scheduler=False,
            port=free_port(),
            meili_url=None,
            s3_endpoint=None,
            **service_ports(),
        )
        services_up(settings)
        try:
            run(settings, args.records, args.worst, args.json)
        finally:
            services_down(settings)


if __name__ == "__main__":
    main()
