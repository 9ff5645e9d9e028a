"""Hypothesis strategies for profile records (``CourseResource``, ``ResourceRecord``).

``course_resources()`` draws records in the profile's *normal form*: what a reader
produces, so what every writer must give back unchanged.  That means

* text is cleaned (``clean_text``: NFC, single spaces, no control or invisible
  characters); descriptions are paragraphs joined by a blank line, each paragraph
  free of HTML and entities (``clean_html_text`` leaves it as it is); subject labels too;
* language maps are keyed by normalised tags (``zh``, ``en`` ... ``und``), never
  ``zxx``/``mul``; ``languages`` holds normalised tags or values no tag stands for,
  never ``und``;
* lists hold no duplicates (case-insensitively for free text), no empty strings, and
  keywords no ``;`` (readers split keyword lists on it);
* dates are ISO 8601 or free text, never a Chinese date (readers rewrite ``2019年3月``);
  ``created`` is not repeated in ``dates``;
* controlled values come from ``metadata.vocabularies``; durations are ISO 8601 in upper
  case; numbers are finite and not negative; e-mails are addresses; course codes look
  like codes (``CS101``, ``MATH 2031``);
* a licence's SPDX id and URL are sometimes ones its text does not show (a source said
  so elsewhere): a writer has to carry them, not recompute them.

``messy_course_resources()`` relaxes all of that (raw whitespace, HTML, ``zh-CN`` keys,
``2019年3月``, duplicates in other case ...) for properties that must hold for any
record, such as "the writer's output is valid LOM".

Tests of every format may import these strategies; keep them free of LOM specifics.
"""

from __future__ import annotations

import string
from datetime import UTC, date

from hypothesis import strategies as st

from metadata.profile import (
    Contributor,
    CourseResource,
    DigitalObjectRef,
    License,
    Provenance,
    Relation,
    ResourceRecord,
    Subject,
)
from metadata.vocabularies import (
    DISCIPLINE_CATALOGUE,
    DISCIPLINE_CATEGORIES,
    DISCIPLINES,
    EDUCATION_LEVELS,
    RESOURCE_TYPES,
)
from metadata.xmlutil import clean_html_text, clean_text

LANGUAGE_KEYS = ("zh", "en", "fr", "de", "ja", "ko", "es", "ru", "und")
"""Keys of language maps: the catalogue is zh/en, but sources bring others."""

LANGUAGES = ("zh", "en", "fr", "de", "ja", "es", "ru", "ar", "zxx", "mul")
UNRECOGNISED_LANGUAGES = ("Klingon", "Chinese and English", "Old English", "x-none")

_LATIN = string.ascii_letters + "éèüöçñàÉ"
_PUNCTUATION = " ,.-:()!?'/&<>+#%·，。、：“”《》（）—"
_CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
_CHARACTERS = st.one_of(
    st.sampled_from(_LATIN), _CJK, st.sampled_from(string.digits), st.sampled_from(_PUNCTUATION)
)


def texts(*, min_size: int = 1, max_size: int = 30) -> st.SearchStrategy[str]:
    """Short cleaned text, mixing CJK, Latin, digits and punctuation."""
    return st.text(_CHARACTERS, min_size=min_size, max_size=max_size).map(clean_text).filter(bool)


def _html_free(text: str) -> bool:
    return clean_html_text(text) == text


def paragraphs() -> st.SearchStrategy[str]:
    """A description paragraph in normal form (no HTML, no entity, nothing to unescape)."""
    return texts(max_size=80).filter(_html_free)


def descriptions() -> st.SearchStrategy[str]:
    return st.lists(paragraphs(), min_size=1, max_size=3).map("\n\n".join)


def language_maps(
    values: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[dict[str, str]]:
    strings = values if values is not None else texts()
    return st.dictionaries(st.sampled_from(LANGUAGE_KEYS), strings, max_size=3)


def distinct_texts(
    values: st.SearchStrategy[str], *, max_size: int = 4
) -> st.SearchStrategy[list[str]]:
    return st.lists(values, max_size=max_size, unique_by=str.casefold)


# --- identifiers, URLs, dates, durations ------------------------------------------------

_HOSTS = (
    "mooc.example.edu.cn",
    "www.icourse163.example.org",
    "open.example.ac.uk",
    "localhost:8080",
)
_SEGMENT = st.text(string.ascii_lowercase + string.digits + "-_", min_size=1, max_size=10)
_FILE = st.builds(
    "{}.{}".format,
    st.one_of(_SEGMENT, st.sampled_from(["第1讲", "lecture%201", "课件"])),
    st.sampled_from(["pdf", "mp4", "pptx", "zip", "html", "mp3"]),
)


def urls() -> st.SearchStrategy[str]:
    """http(s) URLs: landing pages, files (``.pdf``, ``.mp4``), queries, CJK paths."""
    path = st.lists(st.one_of(_SEGMENT, _FILE), min_size=0, max_size=3).map("/".join)
    query = st.one_of(st.just(""), st.builds("?id={}".format, st.integers(0, 10**6)))
    return st.builds(
        "{}://{}/{}{}".format,
        st.sampled_from(["http", "https"]),
        st.sampled_from(_HOSTS),
        path,
        query,
    )


def identifiers() -> st.SearchStrategy[str]:
    return st.one_of(
        urls(),
        st.builds("oai:example.edu.cn:{}".format, st.integers(1, 10**6)),
        st.builds("urn:uuid:{}".format, st.uuids()),
        st.just("ISBN 978-7-302-12345-6"),
        texts(max_size=12),
    )


ISO_DURATIONS = ("PT1H30M", "PT45M", "P1D", "PT72H", "PT0H14M54S", "P1Y2M3DT4H5M6.5S", "PT32H")
NON_LOM_DURATIONS = ("P2W", "PT1.5H")  # ISO 8601, but refused by the LOM binding's pattern


def durations() -> st.SearchStrategy[str]:
    generated = st.builds(
        lambda h, m: f"PT{h}H{m}M" if m else f"PT{h}H", st.integers(0, 200), st.integers(0, 59)
    )
    return st.one_of(st.sampled_from(ISO_DURATIONS + NON_LOM_DURATIONS), generated)


def dates() -> st.SearchStrategy[str]:
    """ISO 8601 dates and date-times of every precision, and free text dates."""
    day = st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 12, 31))
    return st.one_of(
        day.map(lambda d: d.isoformat()),
        day.map(lambda d: d.isoformat()[:7]),
        day.map(lambda d: str(d.year)),
        day.map(lambda d: f"{d.isoformat()}T08:30:00Z"),
        day.map(lambda d: f"{d.isoformat()}T08:16:14.0-05:00"),
        st.sampled_from(["Spring 2019", "2019 秋季学期", "circa 1990"]),
    )


# --- controlled and semi-controlled values ---------------------------------------------

MIME_TYPES = (
    "video/mp4",
    "application/pdf",
    "text/html",
    "application/zip",
    "audio/mpeg",
    "image/png",
    "application/vnd.ms-powerpoint",
)
ROLES = (
    "author",
    "publisher",
    "instructor",
    "contributor",
    "editor",
    "script writer",
    "content provider",
    "unknown",
    "validator",
    "graphical designer",
)
AUDIENCES = (
    "本科",
    "高职",
    "higher education",
    "school",
    "training",
    "cegep",
    "18",
    "20-26",
    "teacher",
    "learner",
    "继续教育",
    "Undergraduate (Lower Division)",
)
RESOURCE_TYPE_VALUES = (
    "lecture",
    "narrative text",
    "网络课程",
    "视频类素材",
    "tutoriel",
    "exercise",
    "slide",
    "web course",
    "课件",
    "InteractiveResource",
)
RELATION_KINDS = ("ispartof", "haspart", "references", "isbasedon", "requires", "isPartOf")
SCHEMES = (
    DISCIPLINE_CATALOGUE,
    "http://www.oclc.org/dewey/",
    "职业教育专业目录",
    "http://eureka.ntic.org/vdex/eureka_main_themes_voc.xml",
)
LICENSE_TEXTS = (
    "CC BY 4.0",
    "CC BY-NC-SA 4.0",
    "知识共享 署名-非商业性使用 4.0 国际许可协议",
    "https://creativecommons.org/licenses/by-sa/4.0/",
    "知识共享 署名 4.0（https://creativecommons.org/licenses/by/4.0/）",
    "All rights reserved",
    "版权所有，仅供学习使用",
    "Creative Commons Paternité 2.5 Canada",
)

_SEPARATOR_FREE = texts(max_size=20).filter(lambda t: ";" not in t and "；" not in t)


def emails() -> st.SearchStrategy[str]:
    local = st.text(string.ascii_lowercase + string.digits + "._", min_size=1, max_size=10)
    return st.builds(
        "{}@{}".format, local.filter(lambda s: s[0] != "."), st.sampled_from(_HOSTS[:3])
    )


def names() -> st.SearchStrategy[str]:
    """People and organisations, with the characters vCard must escape (, ; \\)."""
    return st.one_of(
        st.sampled_from(
            [
                "王伟",
                "李明",
                "Anna Maria Rossi",
                "清华大学",
                "O'Brien, Pat",
                "A; B",
                "back\\slash",
                "深圳职业技术学院 计算机工程学院",
            ]
        ),
        texts(max_size=40),
        st.text(_CHARACTERS | st.sampled_from(",;\\"), min_size=1, max_size=100)
        .map(clean_text)
        .filter(bool),
    )


def contributors() -> st.SearchStrategy[Contributor]:
    return st.builds(
        Contributor,
        name=names(),
        role=st.sampled_from(ROLES),
        organization=st.none() | names(),
        email=st.none() | emails(),
    )


def subjects() -> st.SearchStrategy[Subject]:
    code = (
        st.none()
        | st.sampled_from(sorted(DISCIPLINES) + sorted(DISCIPLINE_CATEGORIES))
        | st.sampled_from(["080901", "510201", "9.6.1", "374", "EUREKA_ROOT"])
    )
    label = language_maps(texts(max_size=20).filter(_html_free))
    return st.builds(
        Subject, code=code, scheme=st.none() | st.sampled_from(SCHEMES), label=label
    ).filter(lambda s: bool(s.code or s.label))


def licenses() -> st.SearchStrategy[License]:
    """Licences: often as a reader would recognise them, sometimes not (SPDX id or URL given
    without a trace in the text)."""
    text = st.one_of(st.sampled_from(LICENSE_TEXTS), texts())
    spdx = st.none() | st.sampled_from(["CC-BY-4.0", "CC-BY-NC-SA-4.0", "CC0-1.0", "MIT"])
    return st.builds(License, spdx=spdx, url=st.none() | urls(), text=text)


def digital_objects() -> st.SearchStrategy[DigitalObjectRef]:
    return st.builds(
        DigitalObjectRef,
        url=urls(),
        format=st.none() | st.sampled_from(MIME_TYPES),
        size=st.none() | st.integers(0, 10**10),
        duration=st.none() | durations(),
        name=st.none() | st.one_of(_FILE, texts(max_size=20)),
    )


def course_codes() -> st.SearchStrategy[str]:
    """Course codes as colleges write them: ``CS101``, ``MATH 2031``, ``080901-03``."""
    return st.one_of(
        st.sampled_from(["CS101", "MATH 2031", "080901-03", "JLU0812487"]),
        st.from_regex(r"[A-Z]{2,5}[ -]?[0-9]{3,6}(-[0-9]{2})?", fullmatch=True),
    )


def relations() -> st.SearchStrategy[Relation]:
    return st.builds(
        Relation,
        kind=st.none() | st.sampled_from(RELATION_KINDS),
        target=st.one_of(urls(), texts()),
    )


def numbers() -> st.SearchStrategy[float | None]:
    return (
        st.none()
        | st.floats(0, 10_000, allow_nan=False, allow_infinity=False)
        | st.integers(0, 400).map(float)
    )


# --- records -----------------------------------------------------------------------------


def _subject_key(subject: Subject) -> object:
    return (subject.code, subject.scheme, tuple(sorted(subject.label.items())))


def _contributor_key(contributor: Contributor) -> object:
    return (contributor.name, contributor.role, contributor.organization, contributor.email)


def _relation_key(relation: Relation) -> object:
    return (relation.kind, relation.target)


@st.composite
def course_resources(draw: st.DrawFn) -> CourseResource:
    """A ``CourseResource`` in normal form (see the module docstring)."""
    created = draw(st.none() | dates())
    other_dates = draw(st.lists(dates(), max_size=3, unique=True))
    languages = draw(
        st.lists(
            st.sampled_from(LANGUAGES) | st.sampled_from(UNRECOGNISED_LANGUAGES),
            max_size=3,
            unique=True,
        )
    )
    return CourseResource(
        title=draw(language_maps()),
        description=draw(language_maps(descriptions())),
        keywords=draw(distinct_texts(_SEPARATOR_FREE, max_size=5)),
        subjects=draw(st.lists(subjects(), max_size=4, unique_by=_subject_key)),
        languages=languages,
        education_level=draw(st.none() | st.sampled_from(sorted(EDUCATION_LEVELS))),
        audiences=draw(distinct_texts(st.sampled_from(AUDIENCES) | texts(max_size=15))),
        resource_type=draw(st.none() | st.sampled_from(sorted(RESOURCE_TYPES))),
        resource_types=draw(
            distinct_texts(st.sampled_from(RESOURCE_TYPE_VALUES) | texts(max_size=15))
        ),
        course_code=draw(st.none() | course_codes()),
        learning_time=draw(st.none() | durations()),
        class_hours=draw(numbers()),
        credits=draw(numbers()),
        institution=draw(st.none() | names()),
        contributors=draw(st.lists(contributors(), max_size=5, unique_by=_contributor_key)),
        license=draw(st.none() | licenses()),
        cost=draw(st.none() | st.booleans()),
        created=created,
        modified=draw(st.none() | dates()),
        dates=[d for d in other_dates if d != created],
        formats=draw(distinct_texts(st.sampled_from(MIME_TYPES), max_size=3)),
        objects=draw(st.lists(digital_objects(), max_size=3)),
        identifiers=draw(st.lists(identifiers(), max_size=3, unique=True)),
        url=draw(st.none() | urls()),
        relations=draw(st.lists(relations(), max_size=3, unique_by=_relation_key)),
        sources=draw(distinct_texts(texts(), max_size=2)),
        coverage=draw(distinct_texts(texts(max_size=15), max_size=2)),
    )


@st.composite
def resource_records(draw: st.DrawFn) -> ResourceRecord:
    """A stored record: a normal-form description plus an id and (maybe) provenance."""
    resource = draw(course_resources())
    provenance = draw(
        st.none()
        | st.builds(
            Provenance,
            source=st.sampled_from(["szpt", "icourse", "demo"]),
            oai_identifier=st.builds("oai:example.edu.cn:{}".format, st.integers(1, 10**6)),
            datestamp=st.just("2024-05-06T07:08:09Z"),
            metadata_prefix=st.sampled_from(["lom", "oai_dc"]),
            harvested_at=st.datetimes(timezones=st.just(UTC)),
            raw_sha256=st.text("0123456789abcdef", min_size=64, max_size=64),
        )
    )
    record_id = draw(st.text(string.ascii_lowercase + string.digits, min_size=8, max_size=16))
    return ResourceRecord(id=record_id, provenance=provenance, **resource.model_dump())


# --- messy records -----------------------------------------------------------------------

_RAW = st.lists(
    st.one_of(
        _CHARACTERS,
        st.sampled_from([" ", "\t", "\n", "\u00a0", "\u200b", ";", "；", "&amp;", "<b>", "</p>"]),
    ),
    max_size=30,
).map("".join)
MESSY_LANGUAGE_KEYS = ("zh-CN", "zh_CN", "en-US", "eng", "中文", "x-none", "zxx", "", "und", "en")
MESSY_DATES = ("2019年3月", "2019年3月5日", " 2020-01-01 ", "2024-01-01T12:00:00Z", "")


@st.composite
def messy_course_resources(draw: st.DrawFn) -> CourseResource:
    """Records no reader would produce: raw text, odd keys, duplicates, empty strings."""
    raw_map = st.dictionaries(st.sampled_from(MESSY_LANGUAGE_KEYS), _RAW, max_size=3)
    raw_list = st.lists(_RAW, max_size=4)
    maybe = st.none() | _RAW
    people = st.builds(Contributor, name=_RAW, role=_RAW, organization=maybe, email=maybe)
    files = st.builds(
        DigitalObjectRef,
        url=_RAW,
        format=maybe,
        size=st.none() | st.integers(-5, 10**6),
        duration=maybe | st.sampled_from(["pt1h", "P", "PT"]),
        name=maybe,
    )
    return CourseResource(
        title=draw(raw_map),
        description=draw(raw_map),
        keywords=draw(raw_list),
        subjects=draw(
            st.lists(st.builds(Subject, code=maybe, scheme=maybe, label=raw_map), max_size=3)
        ),
        languages=draw(st.lists(st.sampled_from(MESSY_LANGUAGE_KEYS) | _RAW, max_size=3)),
        education_level=draw(maybe),
        audiences=draw(raw_list),
        resource_type=draw(maybe),
        resource_types=draw(raw_list),
        course_code=draw(maybe),
        learning_time=draw(maybe | st.sampled_from(["pt1h", "P", "PT", "P2W"])),
        class_hours=draw(st.none() | st.floats(allow_nan=False)),
        credits=draw(st.none() | st.floats(allow_nan=False)),
        institution=draw(maybe),
        contributors=draw(st.lists(people, max_size=3)),
        license=draw(st.none() | st.builds(License, spdx=maybe, url=maybe, text=_RAW)),
        cost=draw(st.none() | st.booleans()),
        created=draw(st.none() | st.sampled_from(MESSY_DATES) | _RAW),
        modified=draw(maybe),
        dates=draw(st.lists(st.sampled_from(MESSY_DATES) | _RAW, max_size=3)),
        formats=draw(raw_list),
        objects=draw(st.lists(files, max_size=3)),
        identifiers=draw(raw_list),
        url=draw(maybe),
        relations=draw(st.lists(st.builds(Relation, kind=maybe, target=_RAW), max_size=3)),
        sources=draw(raw_list),
        coverage=draw(raw_list),
    )
