"""Per-host politeness: bounded requests in flight, starts spaced apart."""

from __future__ import annotations

import asyncio
import itertools
import time

from harvesters.oai.politeness import polite


def test_no_more_than_the_allowed_requests_are_in_flight_per_host() -> None:
    active = peak = 0

    async def request(host: str) -> None:
        nonlocal active, peak
        async with polite(host, concurrency=2):
            active += 1
            peak = max(peak, active)
            await asyncio.sleep(0.02)
            active -= 1

    async def main() -> None:
        await asyncio.gather(*(request("bounded.example") for _ in range(8)))

    asyncio.run(main())
    assert peak == 2


def test_requests_to_one_host_start_at_least_the_delay_apart() -> None:
    starts: list[float] = []

    async def request() -> None:
        async with polite("slow.example", concurrency=5, delay=0.05):
            starts.append(time.monotonic())

    async def main() -> None:
        await asyncio.gather(*(request() for _ in range(4)))

    asyncio.run(main())
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(gap >= 0.045 for gap in gaps), gaps


def test_other_hosts_do_not_wait() -> None:
    async def main() -> float:
        async with polite("a.example", concurrency=1, delay=10):
            start = time.monotonic()
            async with polite("b.example", concurrency=1, delay=10):
                return time.monotonic() - start

    assert asyncio.run(main()) < 0.1
