"""The Meilisearch index settings, chosen deliberately (see docs/architecture.md)."""

from __future__ import annotations

from typing import Any

# Order is ranking: a match in a title outranks one in keywords, subjects, the
# institution's names, the teachers, then the description.
SEARCHABLE = ["titles", "keywords", "subjects", "institution_names", "teachers", "descriptions"]
FILTERABLE = [
    "id",  # deletions go by filter
    "subject_codes",
    "level",
    "languages",
    "institution_id",
    "institution_names",  # the filter also takes a school's name
    "license",
    "license_open",
    "type",
    "source",
    "has_objects",
    "teachers",
    "identifiers",  # course pages resolve relations through them
    "discipline_codes",  # the statistics count categories and disciplines by them
    "added_month",  # and courses added per month
]
SORTABLE = ["modified", "title"]
DISPLAYED = [
    "id",
    "title",
    "title_zh",
    "title_en",
    "subjects",
    "subject_codes",
    "institution",
    "institution_id",
    "institution_zh",
    "institution_en",
    "teachers",
    "descriptions",
    "level",
    "languages",
    "license",
    "license_open",
    "type",
    "source",
    "url",
    "has_objects",
    "modified",
    "content_hash",
]

# Common bilingual pairs, so an English query finds Chinese courses and back.
SYNONYM_PAIRS = [
    ("计算机", "computer"),
    ("数学", "mathematics"),
    ("物理", "physics"),
    ("数据", "data"),
    ("软件", "software"),
    ("经济", "economics"),
    ("管理", "management"),
    ("医学", "medicine"),
    ("教育", "education"),
    ("工程", "engineering"),
]

MAX_TOTAL_HITS = 10_000
MAX_VALUES_PER_FACET = 200
"""How many values a facet returns: the most frequent ones (``sortFacetValuesBy`` count).
Sorted by name, as Meilisearch does by default, a facet with more values than this would
keep the first ones alphabetically: 6-digit discipline codes pushed categories 06 to 14 out
of the subject facet, and institution ids late in the alphabet never counted."""


def index_settings() -> dict[str, Any]:
    synonyms: dict[str, list[str]] = {}
    for zh, en in SYNONYM_PAIRS:
        synonyms.setdefault(zh, []).append(en)
        synonyms.setdefault(en, []).append(zh)
    return {
        # An explicit sort (newest, title) comes first when asked for; without one the
        # sort rule does nothing and relevance decides.  Equally relevant courses are
        # ordered by id, so every mirror answers a query in the same order (otherwise
        # ties follow the order documents happened to be indexed in).
        "rankingRules": ["sort", "words", "typo", "proximity", "attribute", "exactness", "id:asc"],
        "searchableAttributes": SEARCHABLE,
        "filterableAttributes": FILTERABLE,
        "sortableAttributes": SORTABLE,
        "displayedAttributes": DISPLAYED,
        "synonyms": synonyms,
        "stopWords": [],
        "typoTolerance": {"enabled": True},
        "pagination": {"maxTotalHits": MAX_TOTAL_HITS},
        "faceting": {
            "maxValuesPerFacet": MAX_VALUES_PER_FACET,
            "sortFacetValuesBy": {"*": "count"},
        },
    }
