"""What the gateway puts on the wire to Meilisearch, seen by a relay between the two.

Asked for gzip, Meilisearch writes compressed answers in small pieces that stall on
Nagle's algorithm and the delayed ACK (tens of ms per search on loopback). The gateway
asks for identity encoding; this guard checks every answer size a search page has.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest

from app.search.gateway import SearchIndex, SearchUnavailable
from app.settings import Settings

pytestmark = pytest.mark.services


def messages(stream: bytes) -> list[tuple[dict[str, str], bytes, bytes]]:
    """The HTTP/1.1 messages of one direction of a connection: (headers, head line, body);
    bodies by Content-Length (what Meilisearch and the SDK send)."""
    found = []
    while stream:
        head, _, rest = stream.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        pairs = (line.split(":", 1) for line in lines[1:] if ":" in line)
        headers = {name.strip().lower(): value.strip() for name, value in pairs}
        size = int(headers.get("content-length", "0"))
        found.append((headers, lines[0].encode("latin-1"), rest[:size]))
        stream = rest[size:]
    return found


@dataclass
class Exchange:
    """One request and its answer."""

    request_headers: dict[str, str]
    request_line: str
    response_headers: dict[str, str]
    body_size: int


@dataclass
class Connection:
    request: bytes = b""
    response: bytes = b""

    def exchanges(self) -> list[Exchange]:
        requests, responses = messages(self.request), messages(self.response)
        return [
            Exchange(sent, line.decode("latin-1"), received, len(body))
            for (sent, line, _), (received, _, body) in zip(requests, responses, strict=False)
        ]


@dataclass
class Relay:
    """Forwards loopback TCP connections to Meilisearch and keeps a copy of each one."""

    upstream: tuple[str, int]
    connections: list[Connection] = field(default_factory=list)

    @property
    def exchanges(self) -> list[Exchange]:
        return [exchange for c in self.connections for exchange in c.exchanges()]

    def __post_init__(self) -> None:
        self.sockets: list[socket.socket] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                downstream, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(downstream,), daemon=True).start()

    def _relay(self, downstream: socket.socket) -> None:
        exchange = Connection()
        self.connections.append(exchange)
        self.sockets.append(downstream)
        with downstream, socket.create_connection(self.upstream, timeout=10) as upstream:
            # As the client does: a request's head and body are not held back by Nagle.
            upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            answer = threading.Thread(
                target=self._pipe, args=(upstream, downstream, exchange, "response")
            )
            answer.start()
            self._pipe(downstream, upstream, exchange, "request")
            answer.join(timeout=10)

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket, exchange: Connection, side: str) -> None:
        try:
            while chunk := source.recv(65536):
                setattr(exchange, side, getattr(exchange, side) + chunk)
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def drop(self) -> None:
        """Close every connection, as a restarted Meilisearch would."""
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def live(live_services: Settings) -> Settings:
    """The session's Meilisearch with an index of the test's own (no database needed)."""
    return live_services.model_copy(update={"meili_index": f"wire-{uuid.uuid4().hex[:12]}"})


@pytest.fixture
def relay(live: Settings) -> Iterator[Relay]:
    parts = urlsplit(live.resolved_meili_url)
    relay = Relay((parts.hostname or "127.0.0.1", parts.port or 7700))
    yield relay
    relay.close()


def test_every_answer_size_comes_uncompressed(live: Settings, relay: Relay) -> None:
    uid = live.meili_index
    direct = SearchIndex.from_settings(live)
    direct.create_index(uid, {"filterableAttributes": ["id"]})
    documents = [{"id": f"d{n:03d}", "text": "课程资源 course " * 18} for n in range(60)]
    direct.wait_for_task(direct.add_documents(uid, documents))

    gateway = SearchIndex(relay.url, live.meili_key.get_secret_value())
    sizes = []
    for hits in (1, 2, 4, 8, 16, 32, 44):
        answer = gateway.search(uid, {"q": "course", "limit": hits})
        assert len(answer["hits"]) == hits
        exchange = [e for e in relay.exchanges if "/search" in e.request_line][-1]
        sent, received = exchange.request_headers, exchange.response_headers
        assert sent["accept-encoding"] == "identity", sent
        assert "content-encoding" not in received, received
        assert exchange.body_size == int(received["content-length"])
        sizes.append(exchange.body_size)
    assert min(sizes) <= 512 and max(sizes) >= 16 * 1024, sizes
    # One kept-alive connection carried them all: no connection set up per search.
    assert len(relay.connections) == 1
    direct.delete_index(uid)


def test_every_call_of_the_gateway_asks_for_identity(live: Settings, relay: Relay) -> None:
    gateway = SearchIndex(relay.url, live.meili_key.get_secret_value())
    uid = live.meili_index
    gateway.ensure_index(uid, {"filterableAttributes": ["id"]})
    gateway.wait_for_task(gateway.add_documents(uid, [{"id": "a"}, {"id": "b"}]))
    gateway.wait_for_task(gateway.delete_documents(uid, ["a"]))
    assert gateway.document_count(uid) == 1
    assert [doc["id"] for doc in gateway.iter_documents(uid, ["id"])] == ["b"]
    assert gateway.health() == "available"
    gateway.delete_index(uid)
    assert len(relay.exchanges) >= 10
    for exchange in relay.exchanges:
        assert exchange.request_headers["accept-encoding"] == "identity"
        assert exchange.request_headers["user-agent"].count("coursefed") == 1
    deletes = [e for e in relay.exchanges if e.request_line.startswith("DELETE ")]
    assert deletes, "the index was deleted"
    for exchange in deletes:
        # A body Meilisearch leaves unread makes it close the connection after answering.
        assert int(exchange.request_headers.get("content-length", "0")) == 0


def test_a_closed_connection_is_opened_again(live: Settings, relay: Relay) -> None:
    """Meilisearch restarted (or closed an idle connection): the next search still works."""
    uid = live.meili_index
    gateway = SearchIndex(relay.url, live.meili_key.get_secret_value())
    gateway.ensure_index(uid, {"filterableAttributes": ["id"]})
    gateway.wait_for_task(gateway.add_documents(uid, [{"id": "a", "text": "course"}]))
    assert gateway.search(uid, {"q": "course"})["hits"]
    opened = len(relay.connections)
    relay.drop()
    time.sleep(0.2)
    assert gateway.search(uid, {"q": "course"})["hits"]
    assert len(relay.connections) == opened + 1
    gateway.delete_index(uid)


def test_a_read_on_a_connection_closed_meanwhile_is_sent_again() -> None:
    """The server closes a kept-alive connection as the next GET goes out on it (an idle
    timeout's race): the GET is sent again on a new connection, and answered."""
    listener = socket.create_server(("127.0.0.1", 0))
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 24\r\n\r\n"
    answer += b'{"status": "available"}\n'
    connections: list[int] = []

    def serve() -> None:
        for number in range(2):
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            connections.append(number)
            with connection:
                connection.recv(65536)
                connection.sendall(answer)
                if number == 0:
                    connection.recv(65536)  # the second request: closed without an answer
                    continue
                with contextlib.suppress(OSError):
                    while connection.recv(65536):
                        pass

    threading.Thread(target=serve, daemon=True).start()
    gateway = SearchIndex(f"http://127.0.0.1:{listener.getsockname()[1]}", "key", timeout=5)
    assert gateway.health() == "available"
    assert gateway.health() == "available"
    assert connections == [0, 1]
    gateway.close()
    listener.close()


def test_a_garbled_answer_is_unavailable_not_a_traceback() -> None:
    """A server that is not Meilisearch answers on the port: the work is retried later."""
    listener = socket.create_server(("127.0.0.1", 0))

    def answer_garbage() -> None:
        for _ in range(3):
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n{nope")
            connection.close()

    threading.Thread(target=answer_garbage, daemon=True).start()
    gateway = SearchIndex(f"http://127.0.0.1:{listener.getsockname()[1]}", "key", timeout=5)
    with pytest.raises(SearchUnavailable):
        gateway.search("courses", {"q": "x"})
    listener.close()


def test_deletions_are_batched_with_the_additions_around_them(live: Settings) -> None:
    """A sync sends additions and deletions in turn.  Deleted by id, Meilisearch batches
    them with the additions queued around them; deleted by filter, each would end a batch,
    and at scale every small batch rewrites the index's largest postings."""
    uid = live.meili_index
    with SearchIndex.from_settings(live) as index:
        index.ensure_index(uid, {"filterableAttributes": ["id"]})
        busy = [{"id": f"b{n}", "text": "课程资源 course " * 40} for n in range(20_000)]
        index.add_documents(uid, busy)  # Meilisearch is at work while the rest is queued
        queued = []
        for n in range(6):
            queued.append(index.add_documents(uid, [{"id": f"d{n}", "text": "new"}]))
            queued.append(index.delete_documents(uid, [f"b{n}", "never-indexed"]))
        index.wait_for_task(queued[-1], timeout=120)
        assert index.document_count(uid) == 20_000
        batches = index.client.get_batches({"indexUids": uid, "limit": 100}).results
        index.delete_index(uid)
    documents = [b for b in batches if {"documentAdditionOrUpdate", "documentDeletion"}
                 & set(b.stats["types"])]  # fmt: skip
    assert len(documents) <= 3, [b.stats["types"] for b in documents]
