"""Connections (issue: 1,100 idle or half-sent requests made the service unreachable): every phase
in which the server waits for the client has a deadline, connections are capped per process, and a
client hanging up mid-upload is a disconnect (499), not a 500. All over real sockets, against a real
server with short timeouts."""

import json
import resource
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from invoicing.db.migrate import upgrade
from tests.servers import Server, make_token

pytestmark = pytest.mark.slow

HEADER_TIMEOUT = 1.0
BODY_TIMEOUT = 1.5
KEEP_ALIVE = 1
SLACK = 1.5  # scheduling, the server's 0.1 s ticks, a loaded test machine
TIMEOUTS = {
    "INVOICING_HEADER_TIMEOUT": str(HEADER_TIMEOUT),
    "INVOICING_BODY_TIMEOUT": str(BODY_TIMEOUT),
    "INVOICING_KEEP_ALIVE_TIMEOUT": str(KEEP_ALIVE),
}


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, Path]:
    """A SQLite database (connection handling does not depend on the backend) and a token."""
    tmp_path = tmp_path_factory.mktemp("connections")
    url = f"sqlite:///{tmp_path / 'invoicing.db'}"
    upgrade(url)
    return url, make_token(url, name="connections"), tmp_path


@pytest.fixture(scope="module")
def served(database: tuple[str, str, Path]) -> Iterator[tuple[Server, str]]:
    url, secret, tmp_path = database
    with Server(url, tmp_path / "server", **TIMEOUTS) as server:
        yield server, secret


def _connect(server: Server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def _read_until_closed(sock: socket.socket, limit: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and when that was (seconds
    from now); fails if it is still open after `limit` seconds."""
    started = time.monotonic()
    received = b""
    while True:
        sock.settimeout(max(0.01, limit - (time.monotonic() - started)))
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        except TimeoutError:
            raise AssertionError(f"still open after {limit} s; received {received!r}") from None
        if not chunk:
            return received, time.monotonic() - started
        received += chunk


def _read_response(sock: socket.socket, limit: float) -> bytes:
    """One response (its head and Content-Length bytes of body), within `limit` seconds."""
    sock.settimeout(limit)
    raw = b""
    while b"\r\n\r\n" not in raw or len(raw.partition(b"\r\n\r\n")[2]) < int(
        _response(raw)[1]["content-length"]
    ):
        chunk = sock.recv(65536)
        assert chunk, f"closed after {raw!r}"
        raw += chunk
    return raw


def _response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines)
    return int(status_line.split()[1]), headers, body


def _trickle(sock: socket.socket, data: bytes, every: float) -> threading.Thread:
    """Send `data` a byte at a time in the background, until it is sent or the server closes."""

    def run() -> None:
        for byte in data:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                return
            time.sleep(every)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _post_head(secret: str | None, length: int, request_id: str = "") -> bytes:
    lines = [
        "POST /orders HTTP/1.1",
        "Host: test",
        "Content-Type: application/json",
        f"Content-Length: {length}",
    ]
    if secret:
        lines.append(f"accessToken: {secret}")
    if request_id:
        lines.append(f"X-Request-ID: {request_id}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_an_idle_connection_is_closed_after_the_header_timeout(served: tuple[Server, str]) -> None:
    server, _ = served
    with _connect(server) as sock:
        received, took = _read_until_closed(sock, HEADER_TIMEOUT + SLACK)
    assert received == b""  # nothing was asked, nothing is answered
    assert took >= HEADER_TIMEOUT - 0.2


def test_headers_trickled_byte_by_byte_get_408(served: tuple[Server, str]) -> None:
    server, _ = served
    with _connect(server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\n")
        _trickle(sock, b"X-Slow: " + b"a" * 100, every=0.1)  # would take 10 s
        raw, took = _read_until_closed(sock, HEADER_TIMEOUT + SLACK)
    status, headers, body = _response(raw)
    assert status == 408
    assert headers["connection"] == "close"
    assert json.loads(body) == {
        "success": False,
        "message": "Request headers were not received in time",
    }
    assert took >= HEADER_TIMEOUT - 0.2


def test_a_later_requests_headers_are_timed_from_its_own_first_byte(
    served: tuple[Server, str],
) -> None:
    """Not from the connection's opening: the head's deadline moves with each request."""
    server, _ = served
    with _connect(server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
        assert _response(_read_response(sock, SLACK))[0] == 200
        time.sleep(HEADER_TIMEOUT * 0.6)  # within the keep-alive timeout
        sock.sendall(b"GET /health HTTP/1.1\r\n")
        _trickle(sock, b"X-Slow: " + b"a" * 100, every=0.1)
        raw, took = _read_until_closed(sock, HEADER_TIMEOUT + SLACK)
    assert _response(raw)[0] == 408
    assert took >= HEADER_TIMEOUT - 0.2


def test_headers_over_64_kib_get_431(served: tuple[Server, str]) -> None:
    """The HTTP parser buffers a request's headers without limit (measured before this: 200 MB of
    headers, 200 MB more memory, no answer), so the server counts them."""
    server, _ = served
    with _connect(server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: test\r\n")
        try:
            for _ in range(20):  # 160 KiB, sent faster than the header timeout
                sock.sendall(b"X-Pad: " + b"a" * 8192 + b"\r\n")
        except OSError:
            pass  # the server may answer and close before all of it is sent
        raw, _ = _read_until_closed(sock, HEADER_TIMEOUT)
    status, _, body = _response(raw)
    assert status == 431
    assert json.loads(body) == {"success": False, "message": "Request headers too large"}


def test_a_body_trickled_in_time_per_byte_but_not_in_total_gets_408(
    served: tuple[Server, str],
) -> None:
    """Each byte comes well within any per-chunk timeout; the whole body does not come in time."""
    server, secret = served
    with _connect(server) as sock:
        sock.sendall(_post_head(secret, 1000))
        _trickle(sock, b"{" + b" " * 999, every=0.1)  # would take 100 s
        started = time.monotonic()
        raw = _read_response(sock, BODY_TIMEOUT + SLACK)
        took = time.monotonic() - started
    status, _, body = _response(raw)
    assert status == 408
    assert json.loads(body) == {
        "success": False,
        "message": "Request body was not received in time",
    }
    assert BODY_TIMEOUT - 0.2 <= took <= BODY_TIMEOUT + SLACK


def test_a_body_trickled_after_the_answer_does_not_hold_the_connection(
    served: tuple[Server, str],
) -> None:
    """Without a token the answer (401) comes before the body is read; a client that then keeps
    trickling the body it announced is cut off after the keep-alive timeout."""
    server, _ = served
    with _connect(server) as sock:
        sock.sendall(_post_head(None, 1000))
        _trickle(sock, b" " * 1000, every=0.1)
        raw, took = _read_until_closed(sock, KEEP_ALIVE + SLACK)
    assert _response(raw)[0] == 401
    assert took >= KEEP_ALIVE - 0.2


def test_a_body_sent_whole_after_the_answer_leaves_the_connection_open(
    served: tuple[Server, str],
) -> None:
    """Once the body announced has come, however late, the connection serves the next requests
    for as long as they keep coming, past the keep-alive timeout counted from that answer."""
    server, _ = served
    with _connect(server) as sock:
        sock.sendall(_post_head(None, 2))
        assert _response(_read_response(sock, SLACK))[0] == 401  # before the body was read
        sock.sendall(b"{}")
        started = time.monotonic()
        while time.monotonic() - started < KEEP_ALIVE * 2:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
            assert _response(_read_response(sock, SLACK))[0] == 200
            time.sleep(KEEP_ALIVE / 4)


def test_an_idle_keep_alive_connection_is_closed(served: tuple[Server, str]) -> None:
    server, _ = served
    with _connect(server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
        raw, took = _read_until_closed(sock, KEEP_ALIVE + SLACK)
    assert _response(raw)[0] == 200
    assert took >= KEEP_ALIVE - 0.2


@contextmanager
def _open_files_limit(limit: int) -> Iterator[None]:
    """Processes started inside inherit this soft limit on open files (the common default)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_an_attack_leaves_a_normal_client_served_within_a_bound(
    database: tuple[str, str, Path],
) -> None:
    """The attack that took the service down: 1,100 idle connections (more than the default
    1,000 allowed per process, more than the 1,024 files a process may open by default), a
    header trickle and a body trickle. A normal client, retrying when refused, is served within
    the header timeout and slack."""
    url, secret, tmp_path = database
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < 1300:
        pytest.skip(f"the test needs more than its hard limit of {hard} open files")
    server = Server(url, tmp_path / "attacked", **TIMEOUTS)
    with _open_files_limit(1024):
        server.launch()
    server.wait_healthy()
    attack: list[socket.socket] = []
    try:
        for _ in range(1100):
            attack.append(_connect(server))
        slow_headers = _connect(server)
        attack.append(slow_headers)
        slow_headers.sendall(b"GET /orders HTTP/1.1\r\n")
        _trickle(slow_headers, b"X-Slow: " + b"a" * 100, every=0.1)
        slow_body = _connect(server)
        attack.append(slow_body)
        slow_body.sendall(_post_head(secret, 1000))
        _trickle(slow_body, b" " * 1000, every=0.1)

        started = time.monotonic()
        deadline = started + HEADER_TIMEOUT + 2 * SLACK
        outcomes: list[str] = []
        while time.monotonic() < deadline:
            try:
                response = httpx.get(f"{server.url}/health", timeout=1)
                outcomes.append(str(response.status_code))
                if response.status_code == 200:
                    break
            except httpx.HTTPError as error:
                outcomes.append(type(error).__name__)
            time.sleep(0.1)
        assert outcomes[-1:] == ["200"], outcomes
        assert set(outcomes[:-1]) <= {"503"}, outcomes  # refused politely, if at all
    finally:
        for sock in attack:
            sock.close()
        server.stop()


def test_a_client_hanging_up_mid_upload_is_a_disconnect_not_a_500(
    served: tuple[Server, str],
) -> None:
    server, secret = served
    with _connect(server) as sock:
        sock.sendall(_post_head(secret, 1000, request_id="hung-up-mid-upload"))
        sock.sendall(b'{"custome')  # 10 of the 1000 bytes announced
    deadline = time.monotonic() + 5
    line = None
    while line is None:
        assert time.monotonic() < deadline, server.logs()
        time.sleep(0.05)
        text = server.stderr_path.read_text()
        lines = [json.loads(x) for x in text.splitlines() if x.startswith("{")]
        access = [x for x in lines if x["logger"] == "invoicing.access"]
        line = next((x for x in access if x["request_id"] == "hung-up-mid-upload"), None)
    assert line["status"] == 499
    logs = server.stderr_path.read_text()
    assert "unhandled error" not in logs
    assert "Traceback" not in logs
    metrics = httpx.get(f"{server.url}/metrics").text
    assert 'invoicing_requests_total{method="POST",route="/orders",status="499"} 1.0' in metrics
    assert 'status="500"' not in metrics
