"""The Meilisearch gateway: the only module that speaks to Meilisearch, through its SDK.

Vendor failures are translated where they enter: connection problems and server errors
become ``SearchUnavailable`` (retry later), refused requests and failed tasks
``SearchError``, a missing index ``IndexNotFound``.
"""

from __future__ import annotations

import json
import secrets
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import meilisearch
import requests
from meilisearch._httprequests import HttpRequests
from meilisearch.errors import (
    MeilisearchApiError,
    MeilisearchCommunicationError,
    MeilisearchTimeoutError,
)
from meilisearch.index import Index
from meilisearch.models.task import TaskInfo
from requests.adapters import HTTPAdapter, Retry

from app.settings import Settings

# Asked for gzip, Meilisearch streams compressed chunks in small writes that stall on
# Nagle's algorithm and the client's delayed ACK. Its answers are small: ask for them
# uncompressed (tests/app/test_search_wire.py holds the guard).
HEADERS = {"Accept-Encoding": "identity"}
CLIENT_AGENT = "coursefed"
# How often a waited-for task is polled: indexing a harvest page takes tens of ms.
TASK_POLL_MS = 10
# Documents read per request when a whole index is read: a million courses in 100 requests
# of a few MB each (the lexicon's fields only).
DOCUMENTS_PAGE = 10_000


def _covers(current: Any, wanted: Any) -> bool:
    """Whether ``current`` already has every value of ``wanted`` (extra keys allowed)."""
    if isinstance(wanted, dict):
        return isinstance(current, dict) and all(
            _covers(current.get(key), value) for key, value in wanted.items()
        )
    return bool(current == wanted)


class _KeptAlive(HttpRequests):
    """The SDK's requests over one keep-alive ``requests.Session``.

    The SDK sends each request with ``requests.post`` and the like, which opens and closes
    a connection every time; under load that was half of a search's time in our process.
    Everything else (bodies, headers, errors, models) stays the SDK's.  The session trusts
    no environment: Meilisearch is reached directly, not through ``HTTP_PROXY``.
    """

    def __init__(self, http: HttpRequests, session: requests.Session) -> None:
        self.config, self.headers, self.session = http.config, http.headers, session

    def get(self, path: str) -> Any:
        return self.send_request(self.session.get, path)

    def post(self, path: str, body: Any = None, content_type: str | None = "application/json",
             *, serializer: type[json.JSONEncoder] | None = None) -> Any:  # fmt: skip
        return self.send_request(self.session.post, path, body, content_type, serializer=serializer)

    def put(self, path: str, body: Any = None, content_type: str | None = "application/json",
            *, serializer: type[json.JSONEncoder] | None = None) -> Any:  # fmt: skip
        return self.send_request(self.session.put, path, body, content_type, serializer=serializer)

    def patch(
        self, path: str, body: Any = None, content_type: str | None = "application/json"
    ) -> Any:
        return self.send_request(self.session.patch, path, body, content_type)

    def delete(self, path: str, body: Any = None) -> Any:
        if body is None:  # the SDK would send "null", which Meilisearch leaves unread
            return self.send_request(self._delete_without_body, path)
        return self.send_request(self.session.delete, path, body)

    def _delete_without_body(self, url: str, *, data: str, **options: Any) -> requests.Response:
        """A DELETE without the SDK's ``null`` body.  Meilisearch answers such a request
        before the body is read, then closes the connection, which the next request on it
        would find closed."""
        return self.session.delete(url, **options)


def _session() -> requests.Session:
    """A keep-alive session to Meilisearch.

    A GET on a connection Meilisearch has just closed (it closes idle ones after a few
    seconds) is sent again once, on a new connection; other methods are not, as their
    request may have been received.
    """
    session = requests.Session()
    session.trust_env = False
    retry = Retry(
        total=1, connect=1, read=1, status=0, other=0, redirect=0, allowed_methods={"GET"}
    )
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.mount("https://", HTTPAdapter(max_retries=retry))
    return session


def _kept_alive(sdk: meilisearch.Client | Index, session: requests.Session) -> None:
    """Send ``sdk``'s requests, and its task handler's, over ``session``."""
    sdk.http = _KeptAlive(sdk.http, session)
    sdk.task_handler.http = _KeptAlive(sdk.task_handler.http, session)


class SearchError(Exception):
    """Meilisearch answered, but refused or failed the request."""


class SearchUnavailable(SearchError):
    """Meilisearch could not be reached; the work is retried later."""


class IndexNotFound(SearchError):
    """The index does not exist yet (nothing has been indexed)."""


class SearchIndex:
    """The operations coursefed needs from Meilisearch, with errors of its own."""

    def __init__(self, url: str, api_key: str, *, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._api_key = api_key
        # The SDK keeps its request headers in one dict that it edits per request, so a
        # client is never shared between threads: each thread gets its own, with its own
        # keep-alive session and its index handles.
        self._local = threading.local()

    @classmethod
    def from_settings(cls, settings: Settings) -> SearchIndex:
        return cls(
            settings.resolved_meili_url,
            settings.meili_key.get_secret_value(),
            timeout=settings.meili_timeout,
        )

    @property
    def client(self) -> meilisearch.Client:
        client: meilisearch.Client | None = getattr(self._local, "client", None)
        if client is None:
            client = meilisearch.Client(
                self.url,
                self._api_key,
                timeout=self.timeout,  # type: ignore[arg-type]  # requests takes seconds as float
                client_agents=(CLIENT_AGENT,),
                custom_headers=HEADERS,
            )
            session = _session()
            _kept_alive(client, session)
            self._local.client, self._local.session, self._local.indexes = client, session, {}
        return client

    def index(self, uid: str) -> Index:
        """This thread's SDK handle of index ``uid`` (no request is sent)."""
        client = self.client
        indexes: dict[str, Index] = self._local.indexes
        handle = indexes.get(uid)
        if handle is None:
            handle = indexes[uid] = client.index(uid)
            _kept_alive(handle, self._local.session)
        return handle

    def close(self) -> None:
        """Close this thread's connection and forget its client."""
        session = self._local.__dict__.pop("session", None)
        if session is not None:
            session.close()
        self._local.__dict__.pop("client", None)
        self._local.__dict__.pop("indexes", None)

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except MeilisearchApiError as exc:
            if exc.status_code >= 500:
                raise SearchUnavailable(f"Meilisearch answered {exc.status_code}") from exc
            error = IndexNotFound if exc.code == "index_not_found" else SearchError
            raise error(f"{exc.code}: {exc.message}" if exc.code else exc.message) from exc
        except (MeilisearchCommunicationError, MeilisearchTimeoutError) as exc:
            raise SearchUnavailable(f"Meilisearch at {self.url} is unreachable") from exc
        except requests.RequestException as exc:  # a broken answer the SDK passes through
            raise SearchUnavailable(f"Meilisearch at {self.url} answered badly") from exc

    def wait_for_task(
        self, task: TaskInfo, timeout: float = 120.0, *, poll_ms: int = TASK_POLL_MS
    ) -> None:
        """Block until a task has finished, asking every ``poll_ms``; raise ``SearchError``
        if it failed."""
        uid = task.task_uid
        with self._translated():
            try:
                done = self.client.wait_for_task(
                    uid, timeout_in_ms=int(timeout * 1000), interval_in_ms=poll_ms
                )
            except MeilisearchTimeoutError as exc:
                raise SearchUnavailable(f"task {uid} still running after {timeout:.0f} s") from exc
        if done.status != "succeeded":
            detail = (done.error or {}).get("message", "no detail")
            raise SearchError(f"task {uid} {done.status}: {detail}")

    # -- operations ------------------------------------------------------------------------

    def health(self) -> str:
        with self._translated():
            return str(self.client.health().get("status", "unknown"))

    def index_exists(self, uid: str) -> bool:
        try:
            with self._translated():
                self.client.get_raw_index(uid)
        except IndexNotFound:
            return False
        return True

    def ensure_index(self, uid: str, settings: dict[str, Any]) -> None:
        """Create the index if needed and apply its settings (idempotent).

        A new index is built under a temporary name and renamed into place, so searches
        never see it without its settings (filterable attributes, ranking, synonyms).
        """
        if not self.index_exists(uid):
            staging = f"{uid}-new-{secrets.token_hex(4)}"
            self.create_index(staging, settings)
            self.rename_index(staging, uid)
            return
        with self._translated():
            current = self.index(uid).get_settings()
        # Synonyms exactly: one an admin removed from the file must go from the index too.
        synonyms_differ = "synonyms" in settings and current.get("synonyms") != settings["synonyms"]
        if synonyms_differ or not _covers(current, settings):
            with self._translated():
                task = self.index(uid).update_settings(settings)
            self.wait_for_task(task)

    def create_index(self, uid: str, settings: dict[str, Any]) -> None:
        with self._translated():
            created = self.client.create_index(uid, {"primaryKey": "id"})
        self.wait_for_task(created)
        with self._translated():
            task = self.index(uid).update_settings(settings)
        self.wait_for_task(task)

    def rename_index(self, uid: str, new_uid: str) -> None:
        """Atomically give index ``uid`` the name ``new_uid`` (which must not exist)."""
        with self._translated():
            task = self.client.swap_indexes([{"indexes": [uid, new_uid], "rename": True}])
        self.wait_for_task(task)

    def swap_indexes(self, uid: str, other: str) -> None:
        """Atomically exchange two indexes' contents and settings."""
        with self._translated():
            task = self.client.swap_indexes([{"indexes": [uid, other]}])
        self.wait_for_task(task)

    def delete_index(self, uid: str) -> None:
        with self._translated():
            task = self.client.delete_index(uid)
        self.wait_for_task(task)

    def index_uids(self) -> list[str]:
        with self._translated():
            indexes: Any = self.client.get_raw_indexes({"limit": 10_000})
        return [entry["uid"] for entry in indexes["results"]]

    def index_marker(self, uid: str) -> str:
        """When the index was last written to (its ``updatedAt``): what changes with it."""
        with self._translated():
            return str(self.client.get_raw_index(uid).get("updatedAt", ""))

    def add_documents(self, uid: str, documents: list[dict[str, Any]]) -> TaskInfo:
        with self._translated():
            return self.index(uid).add_documents(documents, primary_key="id")

    def delete_documents(self, uid: str, ids: list[str]) -> TaskInfo:
        """Delete by ids (``documents/delete-batch``), not by filter: Meilisearch batches a
        deletion by ids with the additions queued around it, while a deletion by filter
        stops every batch, so a journal of adds and removals became one small batch after
        another, each rewriting the index's largest postings.  The SDK warns that it may
        drop ids here one day; Meilisearch documents the route, and the tests use it."""
        with self._translated(), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return self.index(uid).delete_documents(ids)

    def search(self, uid: str, params: dict[str, Any]) -> dict[str, Any]:
        query = params.get("q") or ""
        options = {key: value for key, value in params.items() if key != "q"}
        with self._translated():
            return dict(self.index(uid).search(query, options))

    def multi_search(self, uid: str, queries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Several searches of one index in one request; their answers in the same order."""
        with self._translated():
            answer = self.client.multi_search([{"indexUid": uid, **query} for query in queries])
        return [dict(result) for result in answer["results"]]

    def iter_documents(
        self, uid: str, fields: list[str], *, batch: int = DOCUMENTS_PAGE
    ) -> Iterator[dict[str, Any]]:
        """Every document of an index, ``fields`` only, read ``batch`` at a time (for the
        lexicon of suggestions and checks: paging a changing index is not an export).

        The SDK asks ``POST /indexes/{uid}/documents/fetch``.  Unsorted, Meilisearch walks
        its internal document ids and skips ``offset`` of them without reading those
        documents, so a late page costs little more than an early one; its ``sort`` of
        documents (since 1.16) would sort them all for every page, and the primary key is
        not sortable.  Large pages keep the requests few instead.
        """
        offset = 0
        while True:
            with self._translated():
                page = self.index(uid).get_documents(
                    {"limit": batch, "offset": offset, "fields": fields}
                )
            for document in page.results:
                yield dict(document)
            offset += batch
            if offset >= page.total or len(page.results) < batch:
                return

    def settings_updates(self, uid: str) -> int:
        """How many settings updates the index has received (for checks and tests)."""
        with self._translated():
            tasks = self.client.get_tasks(
                {"indexUids": [uid], "types": ["settingsUpdate"], "limit": 0}
            )
        return int(tasks.total)

    def document_count(self, uid: str) -> int:
        with self._translated():
            return int(self.index(uid).get_stats().number_of_documents)
