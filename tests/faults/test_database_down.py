"""Database trouble: PostgreSQL behind a TCP proxy that the test cuts (connections
reset and refused) or stalls (connections open but silent). While it is down, /health answers 503
and the API a clean 503 envelope, each within a bounded time; once it is back, the same server
process recovers without a restart, and failed creates consumed no invoice number. On SQLite, a
write lock held beyond the busy timeout is a 503 envelope as well, never a 500."""

import contextlib
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from invoicing.db.migrate import upgrade
from tests import conftest as root
from tests.faults.conftest import fresh_postgres_database
from tests.helpers import order_body
from tests.servers import Server, make_token

pytestmark = pytest.mark.slow

UNAVAILABLE = {"success": False, "message": "The database is unavailable, please retry"}
BOUND = 10.0  # seconds within which the server must answer while the database is away
DB_TIMEOUT = 2.0  # the server's INVOICING_DB_TIMEOUT here (5 s by default)
# Each answer within about one database timeout (not two: a timed-out connection is dropped
# rather than released after waiting for its cancel request).
ONE_TIMEOUT = DB_TIMEOUT + 1.5
TIMES: list[tuple[str, float]] = []


class Proxy:
    """A TCP proxy on 127.0.0.1 to `upstream`, which can be cut (reset and refuse), stalled
    (accept and hold connections, forward nothing) and restored."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self.state = "open"
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._closed = False

    def start(self) -> "Proxy":
        self._listen()
        return self

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._spawn(self._accept, listener)

    def _spawn(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            self._track(client)
            if self.state == "stalled":
                continue  # held open, never answered
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            self._track(server)
            for source, target in ((client, server), (server, client)):
                self._spawn(self._pump, source, target)

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        source.settimeout(0.1)
        while True:
            if self.state == "stalled":
                time.sleep(0.05)
                if source.fileno() == -1:
                    return
                continue
            try:
                data = source.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                data = b""
            if not data:
                break
            if self.state == "stalled":
                continue  # stalled while this recv waited: swallowed (restore resets the pair)
            try:
                target.sendall(data)
            except OSError:
                break
        for sock in (source, target):
            self._close(sock)

    def _close(self, sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
        with self._lock:
            self._sockets.discard(sock)

    def _drop_all(self) -> None:
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            if self.state != "stalled":
                # Reset, as when the database host goes away.
                with contextlib.suppress(OSError):
                    sock.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                    )
            self._close(sock)

    def cut(self) -> None:
        """Every connection reset, new ones refused."""
        self.state = "cut"
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        self._drop_all()

    def stall(self) -> None:
        """Connections stay open but nothing goes through, new ones are accepted and ignored."""
        self.state = "stalled"

    def restore(self) -> None:
        if self.state == "stalled":
            self._drop_all()  # what was in flight is lost, as after a network partition
        self.state = "open"
        if self._listener is None:
            self._listen()

    def close(self) -> None:
        self.state = "cut"
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        self._drop_all()
        for thread in self._threads:
            thread.join(2)


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[tuple[Server, str, Proxy]]:
    """A server whose PostgreSQL database is reached only through the proxy."""
    direct, drop = fresh_postgres_database()
    proxy = Proxy(("127.0.0.1", 5432))
    try:
        host = root.POSTGRES_URL.split("@", 1)[1].split("/", 1)[0]
        upstream_host, _, upstream_port = host.rpartition(":")
        proxy.upstream = (upstream_host, int(upstream_port or 5432))
        proxy.start()
        upgrade(direct)
        secret = make_token(direct, name="down")
        via_proxy = direct.replace(f"@{host}/", f"@127.0.0.1:{proxy.port}/")
        # A shorter database timeout than the default 5 s keeps the test quick; the bound holds
        # for any timeout well under it.
        server = Server(
            via_proxy, tmp_path / "server", INVOICING_DB_TIMEOUT=str(DB_TIMEOUT)
        ).start()
        try:
            yield server, secret, proxy
        finally:
            server.stop()
    finally:
        proxy.close()
        drop()


def _timed(call: Any) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def _while_down(client: httpx.Client, order_id: str) -> None:
    """/health and the API give a clean 503 within the bound."""
    response, took = _timed(lambda: client.get("/health"))
    TIMES.append(("GET /health", round(took, 2)))
    assert response.status_code == 503 and took < min(BOUND, ONE_TIMEOUT), (response.text, took)
    assert response.json()["success"] is False
    for method, path, body in (
        ("GET", "/orders", None),
        ("GET", f"/orders/{order_id}", None),
        ("POST", "/invoices", {"orderId": order_id}),
        ("POST", "/orders", order_body()),
    ):
        response, took = _timed(lambda m=method, p=path, b=body: client.request(m, p, json=b))
        TIMES.append((f"{method} {path}", round(took, 2)))
        assert response.status_code == 503, (method, path, response.status_code, response.text)
        assert response.json() == UNAVAILABLE
        assert took < min(BOUND, ONE_TIMEOUT), (method, path, took)


def _recovers(client: httpx.Client) -> None:
    deadline = time.monotonic() + BOUND
    while client.get("/health").status_code != 200:
        assert time.monotonic() < deadline, "no recovery without a restart"
        time.sleep(0.2)


def test_postgres_unreachable_then_back(proxied: tuple[Server, str, Proxy]) -> None:
    server, secret, proxy = proxied
    with httpx.Client(base_url=server.url, headers={"accessToken": secret}, timeout=30) as client:
        orders = [client.post("/orders", json=order_body()).json()["data"] for _ in range(3)]
        first = client.post("/invoices", json={"orderId": orders[0]["id"]})
        assert first.status_code == 201 and first.json()["data"]["entityId"] == "1"

        proxy.cut()
        _while_down(client, orders[1]["id"])
        proxy.restore()
        _recovers(client)
        second = client.post("/invoices", json={"orderId": orders[1]["id"]})
        assert second.status_code == 201, second.text
        assert second.json()["data"]["entityId"] == "2"  # the failed attempts took no number

        print(f"\nwhile cut: {TIMES}")
        TIMES.clear()
        proxy.stall()
        _while_down(client, orders[2]["id"])
        print(f"while stalled: {TIMES}")
        proxy.restore()
        _recovers(client)
        third = client.post("/invoices", json={"orderId": orders[2]["id"]})
        assert third.status_code == 201, third.text
        assert third.json()["data"]["entityId"] == "3"
        assert (
            client.get(f"/invoices/{first.json()['data']['id']}").json()["data"]
            == first.json()["data"]
        )
    assert '"status":500' not in server.logs()


def test_sqlite_locked_beyond_the_busy_timeout_is_a_503(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'invoicing.db'}"
    upgrade(url)
    secret = make_token(url, name="locked")
    with (
        Server(url, tmp_path / "server", INVOICING_DB_TIMEOUT="1") as server,
        httpx.Client(base_url=server.url, headers={"accessToken": secret}, timeout=30) as client,
    ):
        order = client.post("/orders", json=order_body()).json()["data"]
        blocker = sqlite3.connect(tmp_path / "invoicing.db", isolation_level=None)
        try:
            blocker.execute("BEGIN IMMEDIATE")  # the one write lock, held
            response, took = _timed(lambda: client.post("/invoices", json={"orderId": order["id"]}))
            assert response.status_code == 503 and response.json() == UNAVAILABLE, response.text
            assert took < BOUND
            assert client.get(f"/orders/{order['id']}").status_code == 200  # reads go on (WAL)
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        response = client.post("/invoices", json={"orderId": order["id"]})
        assert response.status_code == 201 and response.json()["data"]["entityId"] == "1"
    assert '"status":500' not in server.logs()
