"""Benchmark: normalising harvested pages against the raw XML parser, in one run.

Realistic OAI-PMH pages (100 records each) come from the demo repository, in memory:
``oai_dc`` and ``lom`` ListRecords, following resumption tokens.  Then, per format:

* ceiling: ``lxml.etree.fromstring`` of each page and a walk over its records'
  metadata, nothing else;
* ours: ``harvesters.oai.records.parse_page`` (hardened parser, raw bytes per record)
  plus ``metadata.readers.read_record`` and ``metadata.validate.validate`` per record.

Prints records/s (median of ``--repeat`` runs) and ours/ceiling; the target is ≥ 25%.
``parse_page`` alone is timed too: it bounds what faster readers can reach.  The
readers' memo caches are emptied before each run, so every run is a first harvest.

A second table says where the time of one record goes, in µs, next to the budget the
target leaves (4 × the ceiling's time): ``parse_page``; a bare walk over every element
of the record's metadata reading its tag, text and attributes (the least any reader of
the record must do); building the profile model from finished values, validated
(``model_validate``) and unvalidated (``model_construct``); and what remains of the
budget for the crosswalk itself once the unavoidable parts are paid.
Run: ``python -m bench.normalize [--records 5000] [--repeat 5] [--profile oai_dc]``.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time
from collections.abc import Callable, Sequence

from lxml import etree

from app.demo.corpus import generate_corpus
from app.demo.repository import DemoRepository
from harvesters.oai.records import parse_page
from metadata import languages, vcard, xmlutil
from metadata.profile import CourseResource
from metadata.readers import UnsupportedFormat, lom, oai_dc, read_record, recognise_license
from metadata.readers.oai_dc import level_of, type_of
from metadata.validate import validate

OAI = "{http://www.openarchives.org/OAI/2.0/}"
FORMATS = ("oai_dc", "lom")
TARGET = 0.25


def build_pages(records: int, prefix: str) -> list[bytes]:
    """Every ListRecords page of the demo repository for ``prefix``, as served."""
    repository = DemoRepository(generate_corpus(records), page_size=100)
    pages: list[bytes] = []
    params: dict[str, list[str]] = {"verb": ["ListRecords"], "metadataPrefix": [prefix]}
    while True:
        page = repository.handle(params)
        pages.append(page)
        token = etree.fromstring(page).findtext(f".//{OAI}resumptionToken")
        if not token:
            return pages
        params = {"verb": ["ListRecords"], "resumptionToken": [token]}


def ceiling(pages: list[bytes]) -> int:
    """Parse each page with plain lxml and touch every record's metadata element."""
    count = 0
    for data in pages:
        root = etree.fromstring(data)
        for record in root.iter(f"{OAI}record"):
            metadata = record.find(f"{OAI}metadata")
            if metadata is not None and len(metadata):
                count += 1
    return count


def pages_only(pages: list[bytes]) -> int:
    """Our harvester's page parsing alone (no reading)."""
    return sum(
        1
        for data in pages
        for record in parse_page(data, verb="ListRecords").records
        if record.metadata is not None
    )


def ours(prefix: str) -> Callable[[list[bytes]], int]:
    def run(pages: list[bytes]) -> int:
        count = 0
        for data in pages:
            for record in parse_page(data, verb="ListRecords").records:
                if record.metadata is None:
                    continue
                resource, _ = read_record(record.metadata, prefix)
                validate(resource)
                count += 1
        return count

    return run


def element_walk(pages: list[bytes]) -> int:
    """Tag, text and attributes of every element of every record: what any reader reads."""
    count = 0
    for data in pages:
        for record in parse_page(data, verb="ListRecords").records:
            if record.metadata is None:
                continue
            for element in record.metadata.iter():
                _ = (element.tag, element.text, element.attrib and element.items())
            count += 1
    return count


def per_record_us(run: Callable[[], int], repeat: int) -> float:
    """Median µs per record of ``run`` (which returns how many records it did)."""
    times = []
    for _ in range(repeat):
        cold_caches()
        start = time.perf_counter()
        count = run()
        times.append((time.perf_counter() - start) / count * 1e6)
    return statistics.median(times)


def floors(prefix: str, pages: list[bytes], repeat: int) -> tuple[str, ...]:
    """One row of the where-the-time-goes table (µs per record)."""
    elements = [
        r.metadata
        for p in pages
        for r in parse_page(p, verb="ListRecords").records
        if r.metadata is not None
    ]
    dumps = [read_record(element, prefix)[0].model_dump() for element in elements]

    def validated() -> int:
        for dump in dumps:
            CourseResource.model_validate(dump)
        return len(dumps)

    def constructed() -> int:
        for dump in dumps:
            CourseResource.model_construct(**dump)
        return len(dumps)

    ceiling_us = per_record_us(lambda: ceiling(pages), repeat)
    parse_us = per_record_us(lambda: pages_only(pages), repeat)
    walk_us = per_record_us(lambda: element_walk(pages), repeat) - parse_us
    validate_us = per_record_us(validated, repeat)
    construct_us = per_record_us(constructed, repeat)
    ours_us = per_record_us(lambda: ours(prefix)(pages), repeat) - parse_us
    budget = ceiling_us / TARGET
    left = budget - parse_us - walk_us - construct_us
    return (
        prefix,
        f"{ceiling_us:.1f}",
        f"{budget:.1f}",
        f"{parse_us:.1f}",
        f"{walk_us:.1f}",
        f"{validate_us:.1f} / {construct_us:.1f}",
        f"{left:.1f}",
        f"{ours_us:.1f}",
    )


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


def cold_caches() -> None:
    """Empty the readers' memo caches: each repetition runs as a new harvest would."""
    caches = (level_of, type_of, oai_dc._subject_parts, recognise_license, vcard.parse_vcard)
    tag_tables = (xmlutil.split_tag, lom._lom_names)
    for cached in (*caches, *tag_tables, languages._normalise_language):
        cached.cache_clear()
    lom._NUMBER_NAMES.clear()


def median_rate(run: Callable[[list[bytes]], int], pages: list[bytes], repeat: int) -> float:
    rates = []
    for _ in range(repeat):
        cold_caches()
        start = time.perf_counter()
        count = run(pages)
        rates.append(count / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", choices=FORMATS, help="print a cProfile of ours instead")
    args = parser.parse_args()

    pages = {prefix: build_pages(args.records, prefix) for prefix in FORMATS}
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(ours(args.profile), pages[args.profile])
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        return

    rows = []
    for prefix, data in pages.items():
        records = ceiling(data)
        size = sum(map(len, data)) / len(data) / 1024
        plain = median_rate(ceiling, data, args.repeat)
        parsing = median_rate(pages_only, data, args.repeat)
        start = (prefix, f"{len(data)}", f"{records}", f"{size:.0f}", f"{plain:,.0f}",
                 f"{parsing:,.0f} ({parsing / plain:.0%})")  # fmt: skip
        try:
            ours(prefix)(data[:1])
        except UnsupportedFormat as exc:
            rows.append((*start, f"n/a ({exc})", "", ""))
            continue
        mine = median_rate(ours(prefix), data, args.repeat)
        ratio = mine / plain
        verdict = "ok" if ratio >= TARGET else f"below {TARGET:.0%}"
        rows.append((*start, f"{mine:,.0f}", f"{ratio:.1%}", verdict))

    header = ("format", "pages", "records", "KiB/page", "ceiling rec/s",
              "parse_page only rec/s", "ours rec/s", "ours/ceiling",
              f"target ≥{TARGET:.0%}")  # fmt: skip
    print(f"median of {args.repeat} runs; ceiling = lxml.etree.fromstring + record walk;")
    print("ours = parse_page + read_record + validate; caches emptied before each run")
    print_table(header, rows)

    print("\nwhere the time of one record goes, µs (medians):")
    print_table(
        ("format", "ceiling", "budget (ceiling ÷ 25%)", "parse_page", "element walk",
         "model validate / construct", "left for the crosswalk", "ours: read + validate"),
        [floors(prefix, data, args.repeat) for prefix, data in pages.items()],
    )  # fmt: skip


if __name__ == "__main__":
    main()
