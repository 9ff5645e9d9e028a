"""A demo repository that misbehaves on purpose, the way real repositories do."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence

from app.demo.corpus import DemoRecord
from app.demo.repository import DemoRepository

OAI_ERROR = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
    b"<responseDate>2026-01-01T00:00:00Z</responseDate><request>http://x/oai</request>"
    b'<error code="%s">%s</error></OAI-PMH>'
)


class FaultyRepository(DemoRepository):
    """``DemoRepository`` plus the quirks a harvester must survive.

    - ``expire_token_at``: the token request after that many pages answers
      ``badResumptionToken`` once (an expired token mid-list).
    - ``day_granularity``: Identify says ``YYYY-MM-DD`` and a ``from``/``until`` with a
      time answers ``badArgument``, as such repositories do.
    - ``deleted_record``: what Identify announces (``no`` for reconciliation tests).
    - ``broken``: identifiers whose record is sent with an undefined entity.
    - ``delay``: seconds to wait before every answer (a slow repository).
    - ``hidden``: identifiers left out of every list (records that vanished).
    """

    def __init__(
        self,
        records: Iterable[DemoRecord],
        *,
        page_size: int = 50,
        expire_token_at: int | None = None,
        day_granularity: bool = False,
        deleted_record: str = "persistent",
        broken: Sequence[str] = (),
        delay: float = 0.0,
        hidden: Sequence[str] = (),
        formats: Sequence[str] | None = None,
    ) -> None:
        self._all = list(records)
        self._hidden = set(hidden)
        super().__init__([r for r in self._all if r.identifier not in self._hidden], "", page_size)
        self.expire_token_at = expire_token_at
        self.day_granularity = day_granularity
        self.deleted_record = deleted_record
        self.broken = set(broken)
        self.delay = delay
        self.listed_formats = formats
        self.token_requests = 0
        self.bad_arguments = 0
        self._lock = threading.Lock()

    def hide(self, identifiers: Iterable[str]) -> None:
        """From now on, list every record except these (and those hidden before)."""
        self._hidden |= set(identifiers)
        self.serve([r for r in self._all if r.identifier not in self._hidden])

    def reveal_all(self) -> None:
        """From now on, list every record again (new records appear)."""
        self._hidden.clear()
        self.hide(())

    def handle(self, params: Mapping[str, Sequence[str]]) -> bytes:
        if self.delay:
            time.sleep(self.delay)
        flat = {k: v if isinstance(v, str) else v[0] for k, v in params.items()}
        if "resumptionToken" in flat:
            with self._lock:
                self.token_requests += 1
                expire = self.token_requests == self.expire_token_at
            if expire:
                return OAI_ERROR % (b"badResumptionToken", b"the token has expired")
        if self.day_granularity and any("T" in flat.get(k, "") for k in ("from", "until")):
            self.bad_arguments += 1
            return OAI_ERROR % (b"badArgument", b"this repository has day granularity")
        body = super().handle(params)
        if flat.get("verb") == "Identify":
            body = body.replace(
                b"<deletedRecord>persistent</deletedRecord>",
                b"<deletedRecord>%s</deletedRecord>" % self.deleted_record.encode(),
            )
            if self.day_granularity:
                body = body.replace(b"YYYY-MM-DDThh:mm:ssZ", b"YYYY-MM-DD")
                body = re.sub(rb"(<earliestDatestamp>\d{4}-\d\d-\d\d)T[^<]*", rb"\1", body)
        if flat.get("verb") == "ListMetadataFormats" and self.listed_formats is not None:
            for prefix in (b"oai_dc", b"lom"):
                if prefix.decode() not in self.listed_formats:
                    body = re.sub(
                        rb"<metadataFormat><metadataPrefix>%s</metadataPrefix>.*?</metadataFormat>"
                        % prefix,
                        b"",
                        body,
                        flags=re.DOTALL,
                    )
        for identifier in self.broken:
            marker = f"<identifier>{identifier}</identifier>".encode()
            start = body.find(marker)
            if start >= 0:
                # The first element after the header gets text with an undefined entity.
                metadata = body.find(b"<metadata>", start)
                if metadata >= 0:
                    body = body[: metadata + 10] + b"&bogus;" + body[metadata + 10 :]
        return body
