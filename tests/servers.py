"""Real server processes for the tests that need them: `invoicing serve` as a subprocess on a
free port, stopped politely (SIGTERM) or killed (SIGKILL), and access tokens made by the CLI."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

STARTUP_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVOICING_")}
    env["INVOICING_DATABASE_URL"] = database_url
    env["INVOICING_SECRET_KEY"] = "test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
    env["PYTHONUNBUFFERED"] = "1"
    # Documents are made on request only, unless a test asks for them ahead of time: renders in
    # the background would change what the render tests measure.
    env["INVOICING_RENDER_AHEAD"] = "false"
    env.update(extra)
    return env


def cli(database_url: str, *args: str, cwd: Path | None = None) -> str:
    """Run `python -m invoicing ARGS`; its stdout."""
    result = subprocess.run(
        [sys.executable, "-m", "invoicing", *args],
        env=_env(database_url),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, f"invoicing {' '.join(args)} failed:\n{result.stderr}"
    return result.stdout


def make_token(database_url: str, name: str = "x", type: str = "admin") -> str:
    """A new access token's secret (the last line of `invoicing tokens create`)."""
    return (
        cli(database_url, "tokens", "create", "--name", name, "--type", type)
        .strip()
        .splitlines()[-1]
    )


def token_id(database_url: str, name: str) -> str:
    """The id of the (first) live token called `name`, from `invoicing tokens list`."""
    for row in cli(database_url, "tokens", "list").splitlines():
        fields = row.split(None, 3)
        if len(fields) == 4 and fields[3] == name:
            return fields[0]
    raise AssertionError(f"no token named {name}")


class Server:
    """`python -m invoicing serve --port PORT` in `workdir`, with its output in files there."""

    def __init__(self, database_url: str, workdir: Path, **env: str) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.env = env
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stderr_path(self) -> Path:
        return self.workdir / f"server-{self.starts}.stderr"

    def logs(self) -> str:
        """Everything every run of this server wrote to stderr and stdout."""
        parts = []
        for path in sorted(self.workdir.glob("server-*.std*")):
            parts.append(path.read_text(errors="replace"))
        return "".join(parts)

    def start(self) -> "Server":
        self.launch()
        self.wait_healthy()
        return self

    def launch(self) -> None:
        """Start the process without waiting for it to answer (see `wait_healthy`)."""
        assert self.process is None, "already running"
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        self.port = free_port()
        with (
            open(self.workdir / f"server-{self.starts}.stdout", "wb") as out,
            open(self.stderr_path, "wb") as err,
        ):
            self.process = subprocess.Popen(
                [sys.executable, "-m", "invoicing", "serve", "--port", str(self.port)],
                env=_env(self.database_url, **self.env),
                cwd=self.workdir,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
            )

    def wait_healthy(self, timeout: float = STARTUP_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        assert self.process is not None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"server exited with {self.process.returncode}:\n{self.stderr_path.read_text()}"
                )
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.kill()
        raise AssertionError(f"server not healthy within {timeout} s:\n{self.logs()}")

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, then wait (SIGKILL if it does not exit in time); the exit code."""
        return self._end(signal.SIGTERM, timeout)

    def kill(self) -> int:
        """SIGKILL: the process dies at once, mid-whatever it was doing."""
        return self._end(signal.SIGKILL, 10.0)

    def _end(self, sig: int, timeout: float) -> int:
        process, self.process = self.process, None
        if process is None:
            return 0
        if process.poll() is None:
            process.send_signal(sig)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait(10)

    def __enter__(self) -> "Server":
        return self.start() if self.process is None else self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start_all(servers: list[Server]) -> list[Server]:
    """Start several servers at once (their startups overlap)."""
    for server in servers:
        server.launch()
    for server in servers:
        server.wait_healthy()
    return servers


class Clients:
    """One httpx.Client per thread (and per base URL), all closed at the end."""

    def __init__(self, secret: str, timeout: float = 30.0) -> None:
        self.secret = secret
        self.timeout = timeout
        self._local = threading.local()
        self._all: list[httpx.Client] = []
        self._lock = threading.Lock()

    def get(self, base_url: str) -> httpx.Client:
        clients: dict[str, httpx.Client] | None = getattr(self._local, "clients", None)
        if clients is None:
            clients = self._local.clients = {}
        client = clients.get(base_url)
        if client is None:
            client = httpx.Client(
                base_url=base_url, headers={"accessToken": self.secret}, timeout=self.timeout
            )
            clients[base_url] = client
            with self._lock:
                self._all.append(client)
        return client

    def close(self) -> None:
        with self._lock:
            for client in self._all:
                client.close()
            self._all.clear()

    def __enter__(self) -> "Clients":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def list_all(client: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every row of a list endpoint, page by page."""
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {"limit": 100, **params, **({"cursor": cursor} if cursor else {})}
        response = client.get(path, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        rows.extend(body["data"])
        cursor = body["nextCursor"]
        if cursor is None:
            return rows


def concurrently(
    calls: list[Callable[[], httpx.Response]], workers: int = 24
) -> list[httpx.Response]:
    """Run every call from a thread pool, released together by a barrier per batch."""
    barrier = threading.Barrier(min(workers, len(calls)))

    def go(call: Callable[[], httpx.Response], index: int) -> httpx.Response:
        if index < barrier.parties:
            barrier.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(go, calls, range(len(calls))))
