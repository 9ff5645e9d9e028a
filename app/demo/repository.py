"""The demo college repository: the demo corpus served by our one OAI-PMH provider.

``DemoStore`` keeps the records in memory in (datestamp, local id) order and is both the
provider's ``Repository`` (pages found by bisection; sets by the provider's own rules:
``source:<institution>``, ``subject:<category>[:<discipline>]``, ``level:<level>``) and
its ``Dissemination``: oai_dc and LOM as ``app.demo.xml`` renders them, the XML a
college's repository sends, never our writers' output.  ``DemoRepository`` is the
provider over such a store, with the demo's name, repository identifier and token key.
Transport (HTTP, compression) is the job of ``app.demo.server``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Protocol

from lxml import etree

from app.demo.corpus import REPOSITORY_IDENTIFIER, DemoRecord, institution_by_slug
from app.demo.xml import METADATA_FORMATS
from app.oai.provider import (
    Dissemination,
    FormatDescription,
    Item,
    Provider,
    Repository,
    SetFilter,
    SetsPresent,
    parse_set,
    set_specs,
)
from app.oai.tokens import TokenCodec, derive_key

REPOSITORY_NAME = "coursefed 演示课程资源库 / coursefed demo course repository"
ADMIN_EMAIL = "oai-admin@demo.coursefed.example"
IDENTIFIER_PREFIX = f"oai:{REPOSITORY_IDENTIFIER}:"
# The demo's records are public, so its tokens need no secret key: one fixed key lets any
# demo repository serving the same records continue any list.
_TOKEN_KEY = derive_key("coursefed demo repository")


def _item(local_id: str, record: DemoRecord) -> Item:
    # ``record`` holds what the provider reads for set membership; metadata comes from
    # the store's own renderers.
    return Item(
        id=local_id,
        source=record.institution_slug,
        deleted=record.deleted,
        updated_at=record.datestamp,
        record={"subjects": [{"code": record.subject_code}], "education_level": record.level},
    )


def _set_filters(item: Item) -> set[SetFilter]:
    """Every set filter that selects ``item``: its sets, their ancestors and groups."""
    filters: set[SetFilter] = set()
    for spec in set_specs(item):
        filters.add((spec.partition(":")[0], ""))
        parsed = parse_set(spec)
        if parsed is not None:
            filters.add(parsed)
    return filters


class DemoStore:
    """Demo records in memory: the provider's ``Repository`` and ``Dissemination``."""

    def __init__(self, records: Iterable[DemoRecord]) -> None:
        self._records: dict[str, DemoRecord] = {}
        for record in records:
            local_id = record.identifier.removeprefix(IDENTIFIER_PREFIX)
            if local_id == record.identifier:
                raise ValueError(f"record identifiers must start with {IDENTIFIER_PREFIX}")
            if local_id in self._records:
                raise ValueError("record identifiers must be unique")
            self._records[local_id] = record
        self._items = sorted(
            (_item(local_id, record) for local_id, record in self._records.items()),
            key=lambda item: (item.updated_at, item.id),
        )
        self._by_id = {item.id: item for item in self._items}
        self._keys = [(item.updated_at, item.id) for item in self._items]
        # Positions of the items each set filter selects, in order, so that a page and
        # a count are found by bisection instead of a scan of every record.
        self._members: dict[SetFilter, list[int]] = {}
        for position, item in enumerate(self._items):
            for set_filter in _set_filters(item):
                self._members.setdefault(set_filter, []).append(position)
        slugs = sorted({record.institution_slug for record in self._records.values()})
        self._sets = SetsPresent(
            sources=[(slug, _institution_name(slug)) for slug in slugs],
            levels=sorted({record.level for record in self._records.values()}),
            subject_codes=sorted({record.subject_code for record in self._records.values()}),
        )

    # ------------------------------------------------------------ Repository

    def get(self, resource_id: str, *, with_raw: bool) -> Item | None:
        return self._by_id.get(resource_id)

    def earliest(self) -> datetime | None:
        return self._items[0].updated_at if self._items else None

    def _span(
        self,
        low: datetime | None,
        high: datetime | None,
        set_filter: SetFilter | None,
        after: tuple[datetime, str] | None,
    ) -> tuple[Sequence[int], int, int]:
        """The positions of the matching items are ``members[start:stop]``."""
        first = 0 if low is None else bisect_left(self._keys, (low, ""))
        if after is not None:
            first = max(first, bisect_right(self._keys, after))
        last = len(self._keys) if high is None else bisect_left(self._keys, (high, ""))
        if set_filter is None:
            return range(len(self._keys)), first, max(first, last)
        members = self._members.get(set_filter, [])
        return members, bisect_left(members, first), bisect_left(members, last)

    def page(
        self,
        low: datetime | None,
        high: datetime | None,
        set_filter: SetFilter | None,
        after: tuple[datetime, str] | None,
        limit: int,
        *,
        with_raw: bool,
    ) -> list[Item]:
        members, start, stop = self._span(low, high, set_filter, after)
        return [self._items[position] for position in members[start : min(stop, start + limit)]]

    def count(
        self,
        low: datetime | None,
        high: datetime | None,
        set_filter: SetFilter | None,
        after: tuple[datetime, str] | None,
    ) -> int:
        _, start, stop = self._span(low, high, set_filter, after)
        return stop - start

    def sets(self) -> SetsPresent:
        return self._sets

    # ------------------------------------------------------------ Dissemination

    def formats(self) -> Sequence[FormatDescription]:
        return list(METADATA_FORMATS.values())

    def metadata(self, item: Item, prefix: str) -> tuple[etree._Element, etree._Element | None]:
        return METADATA_FORMATS[prefix].render(self._records[item.id]), None


class RecordStore(Repository, Dissemination, Protocol):
    """What a demo repository serves from: ``DemoStore`` or any store like it."""


def _institution_name(slug: str) -> str:
    institution = institution_by_slug(slug)
    return f"{institution.name_zh} / {institution.name_en}"


class DemoRepository(Provider):
    """The OAI-PMH provider over ``records``; ``handle`` turns request arguments into a response.

    ``base_url`` may be left empty for a repository handed to ``DemoRepositoryServer``,
    which fills in the URL it serves on (a port is only known once bound).  ``store``
    serves another store than records in memory (e.g. a benchmark's records on disk).
    """

    def __init__(
        self,
        records: Iterable[DemoRecord] = (),
        base_url: str = "",
        page_size: int = 100,
        *,
        compression: Sequence[str] = (),
        clock: Callable[[], datetime] | None = None,
        store: RecordStore | None = None,
    ) -> None:
        store = DemoStore(records) if store is None else store
        super().__init__(
            store,
            TokenCodec(_TOKEN_KEY),
            base_url,
            page_size=page_size,
            repository_identifier=REPOSITORY_IDENTIFIER,
            repository_name=REPOSITORY_NAME,
            admin_email=ADMIN_EMAIL,
            compression=compression,
            clock=clock,
            dissemination=store,
        )

    def serve(self, records: Iterable[DemoRecord]) -> None:
        """From now on serve ``records`` instead: records appear, change or vanish."""
        store = DemoStore(records)
        self.repository = self.dissemination = store
