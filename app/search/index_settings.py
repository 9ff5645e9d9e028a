"""The Meilisearch index settings, chosen deliberately (see docs/architecture.md)."""

from __future__ import annotations

from typing import Any

from metadata.abbreviations import BUILT_IN, SUBJECT_PAIRS, Vocabulary

# Order is ranking, in order of meaning: a match in a title outranks one in the course
# code, keywords, subjects, the institution's names, the description, then the teachers
# (a teacher surnamed 高 must not bring a course before one titled 高等数学).  The titles in
# pinyin come last of all, so a pinyin match never outranks a course matching in its own
# words.
SEARCHABLE = [
    "titles",
    "course_codes",
    "keywords",
    "subjects",
    "institution_names",
    "descriptions",
    "teachers",
    "title_pinyin",
]
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
# ``first_harvested`` orders the feeds of new courses (app.publication), no sort of the API.
# In alphabetical order, as Meilisearch answers them: settings are re-sent when they differ.
SORTABLE = ["first_harvested", "modified", "title"]
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
    "description_languages",
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
    "provenances",
]

# Common bilingual pairs, so an English query finds Chinese courses and back; with the
# abbreviations learners type (高数 → 高等数学), maintained in ``metadata.abbreviations``.
SYNONYM_PAIRS = SUBJECT_PAIRS

MAX_TOTAL_HITS = 10_000
MAX_VALUES_PER_FACET = 200
"""How many values a facet returns: the most frequent ones (``sortFacetValuesBy`` count).
Sorted by name, as Meilisearch does by default, a facet with more values than this would
keep the first ones alphabetically: 6-digit discipline codes pushed categories 06 to 14 out
of the subject facet, and institution ids late in the alphabet never counted."""


def index_settings(vocabulary: Vocabulary = BUILT_IN) -> dict[str, Any]:
    """The settings of the search index; ``vocabulary`` gives its synonyms (the built-in
    one with an admin's file added, ``Settings.search_vocabulary``)."""
    return {
        # An explicit sort (newest, title) comes first when asked for; without one the
        # sort rule does nothing and relevance decides.  Equally relevant courses are
        # ordered by id, so every mirror answers a query in the same order (otherwise
        # ties follow the order documents happened to be indexed in).  Words matched whole
        # (exactness) count before the attribute they are found in: on the judged queries
        # of bench.relevance a teacher's name is then found first, and no kind loses.
        "rankingRules": ["sort", "words", "typo", "proximity", "exactness", "attribute", "id:asc"],
        "searchableAttributes": SEARCHABLE,
        "filterableAttributes": FILTERABLE,
        "sortableAttributes": SORTABLE,
        "displayedAttributes": DISPLAYED,
        "synonyms": vocabulary.synonyms(),
        "stopWords": [],
        "typoTolerance": {"enabled": True},
        "pagination": {"maxTotalHits": MAX_TOTAL_HITS},
        "faceting": {
            "maxValuesPerFacet": MAX_VALUES_PER_FACET,
            "sortFacetValuesBy": {"*": "count"},
        },
    }
