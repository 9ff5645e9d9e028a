"""Re-check the source links of stored objects, so learners see a dead original link.

Each round asks a random sample of links not checked for ``objects_check_days`` (so no
college gets every link asked at once), each distinct URL once, under the fetcher's
address policy and per-host limit.  A transient failure (timeout, 5xx) keeps the
previous mark: the link is asked again in a later round.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy.engine import Engine

from app.clock import utcnow
from app.db import session_scope
from app.objects import repository
from app.objects.download import DownloadFailed, ObjectRefused, object_client, probe
from app.objects.fetcher import strictest
from app.settings import Settings
from harvesters.net import AddressPolicy


@dataclass
class LinkReport:
    checked: int = 0
    marks: Counter[str] = field(default_factory=Counter)
    broken: list[str] = field(default_factory=list)
    unknown: int = 0  # transient failure: asked again later

    def lines(self) -> list[str]:
        lines = [
            f"{self.checked} source links checked: {self.marks['ok']} ok, "
            f"{self.marks['broken']} broken, {self.unknown} not reachable now"
        ]
        lines += [f"broken: {url}" for url in self.broken]
        return lines


async def check_links(engine: Engine, settings: Settings, *, sample: int) -> LinkReport:
    """Check up to ``sample`` links due for a check; returns what was found."""
    before = utcnow() - timedelta(days=settings.objects_check_days)
    with session_scope(engine) as session:
        rows = repository.links_to_check(session, before, sample)
        policies = repository.source_policies(session, {row.source_id for row in rows})
    by_url: dict[str, list[int]] = {}
    sources: dict[str, list[int | None]] = {}
    for row in rows:
        assert row.id is not None  # noqa: S101 - rows read from the table
        by_url.setdefault(row.url, []).append(row.id)
        sources.setdefault(row.url, []).append(row.source_id)
    report = LinkReport()
    hosts: dict[str, asyncio.Semaphore] = {}
    policy = settings.address_policy()
    total_timeout = settings.objects_timeout * 2

    async def check(client: httpx.AsyncClient, url: str) -> None:
        host = (urlsplit(url).hostname or "").lower()
        limit = hosts.setdefault(host, asyncio.Semaphore(settings.objects_host_concurrency))
        async with limit:
            permitted = policy.permitting(allow_private=strictest(policies, sources[url])[0])
            mark = await _mark(client, url, policy=permitted, total_timeout=total_timeout)
        report.checked += 1
        if mark is None:
            report.unknown += 1
            return
        report.marks[mark] += 1
        if mark == "broken":
            report.broken.append(url)
        with session_scope(engine) as session:
            repository.mark_links(session, by_url[url], mark, utcnow())

    async with object_client(policy, timeout=settings.objects_timeout) as client:
        await asyncio.gather(*(check(client, url) for url in by_url))
    return report


async def _mark(
    client: httpx.AsyncClient, url: str, *, policy: AddressPolicy, total_timeout: float
) -> str | None:
    """``ok``, ``broken``, or None when the answer says nothing lasting."""
    try:
        status = await probe(url, client=client, policy=policy, total_timeout=total_timeout)
    except ObjectRefused:
        return "broken"  # e.g. now redirected somewhere we may not go
    except DownloadFailed as failed:
        return None if failed.retryable else "broken"
    if 200 <= status < 300:
        return "ok"
    if status in {408, 429} or status >= 500:
        return None
    return "broken"
