"""One render pool per `invoicing serve --workers N`, through real servers and real processes:
every server process renders through the same render processes (as many as configured, wherever
they are on the host), started by the first PDF and not before; the queue bounds, the per-token
limit and the time limit hold across server processes; the pool outlives a server process's
restart, and not the server (stopped or killed)."""

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path

import pytest

from invoicing.db.migrate import upgrade
from tests.documents.processes import (
    Api,
    Process,
    descendants,
    huge_pdf,
    invoice_pdf,
    kill_all,
    running,
    stat_fields,
    wait_until,
)
from tests.servers import Server, _env, free_port, make_token

pytestmark = pytest.mark.slow

TOO_MANY = b'{"success":false,"message":"Too many requests"}'
BUSY = b'{"success":false,"message":"The document renderer is busy, please retry"}'
TOO_LONG = b'{"success":false,"message":"The document took too long to render"}'


class Workers(Server):
    """`invoicing serve --workers N`."""

    def __init__(self, database_url: str, workdir: Path, workers: int, **env: str) -> None:
        super().__init__(database_url, workdir, **env)
        self.workers = workers

    def launch(self) -> None:
        assert self.process is None, "already running"
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        self.port = free_port()
        command = ["serve", "--port", str(self.port), "--workers", str(self.workers)]
        with (
            open(self.workdir / f"server-{self.starts}.stdout", "wb") as out,
            open(self.stderr_path, "wb") as err,
        ):
            self.process = subprocess.Popen(
                [sys.executable, "-m", "invoicing", *command],
                env=_env(self.database_url, **self.env),
                cwd=self.workdir,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
            )

    @property
    def master(self) -> int:
        assert self.process is not None
        return self.process.pid


def _argv(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]
    except OSError:
        return []


def _process(pid: int) -> Process | None:
    fields = stat_fields(pid)
    return None if fields is None else (pid, int(fields[19]))


def _parent(pid: int) -> int:
    fields = stat_fields(pid)
    assert fields is not None, pid
    return int(fields[1])


def pools(master: int) -> set[Process]:
    """Every running pool of this serve on the host, wherever it is in the process tree."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit() and _argv(int(entry))[2:5] == [
            "-m",
            "invoicing.documents.pool",
            str(master),
        ]:  # python -P -m invoicing.documents.pool MASTER ...
            process = _process(int(entry))
            if process is not None and running(process):
                found.add(process)
    return found


def render_processes(master: int) -> set[Process]:
    """Every running render process of this serve: under its server processes or its pools."""
    roots = [master, *(pid for pid, _ in pools(master))]
    return {
        process
        for root in roots
        for process in descendants(root)
        if running(process) and "invoicing.documents.worker" in _argv(process[0])
    }


def workers(master: int) -> list[int]:
    return [
        pid
        for pid, _ in descendants(master)
        if "--multiprocessing-fork" in _argv(pid) and "resource_tracker" not in str(_argv(pid))
    ]


def _worker_of(server: Workers, connection: socket.socket) -> int | None:
    """The server process that accepted `connection` (None until one has)."""
    ours = f"0100007F:{server.port:04X}", f"0100007F:{connection.getsockname()[1]:04X}"
    inodes = [
        row.split()[9]
        for row in Path("/proc/net/tcp").read_text().splitlines()[1:]
        if tuple(row.split()[1:3]) == ours
    ]
    for pid in workers(server.master):
        with suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with suppress(OSError):
                    if os.readlink(f"/proc/{pid}/fd/{fd}") in {f"socket:[{i}]" for i in inodes}:
                        return pid
    return None


def connections(api: Api, each: int = 1) -> dict[int, list[socket.socket]]:
    """`each` open connections to every server process, by its pid (closed by `api.close()`)."""
    server = api.server
    assert isinstance(server, Workers)
    found: dict[int, list[socket.socket]] = {}
    for _ in range(200):
        if len(found) == server.workers and all(len(c) == each for c in found.values()):
            return found
        connection = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        deadline = time.monotonic() + 5
        while (worker := _worker_of(server, connection)) is None and time.monotonic() < deadline:
            time.sleep(0.02)
        mine = found.setdefault(worker, []) if worker is not None else []
        if len(mine) < each:
            mine.append(connection)
            api.held.append(connection)
        else:
            connection.close()
    raise AssertionError(f"connections did not reach every server process: {found}")


def send(connection: socket.socket, path: str, api: Api) -> None:
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\naccessToken: {api.secret}\r\n\r\n"
    connection.sendall(request.encode())


def get(connection: socket.socket, path: str, api: Api) -> tuple[int, bytes]:
    """GET `path` over `connection`: the status and the body."""
    client = http.client.HTTPConnection("127.0.0.1", api.server.port, timeout=30)
    client.sock = connection
    client.request("GET", path, headers={"accessToken": api.secret})
    response = client.getresponse()
    return response.status, response.read()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., tuple[Workers, Api]]]:
    """`serve(**env)`: a running `invoicing serve --workers 2` on a new database, and an admin's
    client for it."""
    url = f"sqlite:///{tmp_path / 'invoicing.db'}"
    upgrade(url)
    secret = make_token(url, name="pool")
    started: list[tuple[Workers, Api]] = []

    def start(**env: str) -> tuple[Workers, Api]:
        server = Workers(url, tmp_path / f"server-{len(started)}", 2, **env).start()
        started.append((server, Api(server, secret)))
        return started[-1]

    yield start
    for server, api in started:
        api.close()
        if server.process is None:
            continue
        master = server.master
        leftovers = render_processes(master) | pools(master) | descendants(master)
        server.stop()
        kill_all({p for p in leftovers if running(p)})


def test_every_server_process_renders_through_one_pool_started_by_the_first_pdf(serve) -> None:
    server, admin = serve(INVOICING_RENDER_PROCESSES="3")
    paths = [invoice_pdf(admin) for _ in range(4)]
    time.sleep(1)
    assert pools(server.master) == set() and render_processes(server.master) == set()

    by_worker = connections(admin)
    for (worker, (connection,)), path in zip(by_worker.items(), paths, strict=False):
        status, pdf = get(connection, path, admin)
        assert status == 200 and pdf.startswith(b"%PDF-"), worker
    (pool,) = pools(server.master)
    # Sized by configuration: 2 small, 1 large; every one of them the pool's, none elsewhere.
    assert wait_until(lambda: len(render_processes(server.master)) == 3, 10)
    assert render_processes(server.master) <= descendants(pool[0])

    # A large render whose client left, on the server process that did not start the pool: its
    # render process is killed and replaced.
    before = render_processes(server.master)
    starter = _parent(pool[0])
    (other, (connection,)), *_ = [item for item in connections(admin).items() if item[0] != starter]
    send(connection, huge_pdf(admin), admin)
    time.sleep(1)
    connection.close()
    assert wait_until(lambda: not before <= render_processes(server.master), 2), other
    assert wait_until(lambda: len(before - render_processes(server.master)) == 1, 10)
    assert wait_until(lambda: len(render_processes(server.master)) == 3, 10)

    # The server process that started the pool dies; uvicorn starts another; the pool stays.
    before = render_processes(server.master)
    os.kill(starter, signal.SIGKILL)
    assert wait_until(
        lambda: len(workers(server.master)) == 2 and starter not in workers(server.master), 30
    )
    for worker, (connection,) in connections(admin).items():
        status, pdf = get(connection, invoice_pdf(admin), admin)
        assert status == 200 and pdf.startswith(b"%PDF-"), worker
    assert pools(server.master) == {pool}
    assert render_processes(server.master) == before


def test_the_limits_hold_across_server_processes(serve) -> None:
    _, admin = serve(INVOICING_PDF_QUEUE_LIMIT="1")
    assert admin.get(invoice_pdf(admin, 51)).status_code == 200  # the large lane is up
    huge = huge_pdf(admin)
    greedy = admin.new_token("greedy")
    (a, a2), (b, b2) = connections(admin, each=2).values()
    send(a, huge, greedy)  # renders
    send(b, huge, greedy)  # waits: the lane's queue is full
    time.sleep(0.5)
    # Two renders of the token's, one in each server process: a third in either is one too many.
    assert get(a2, huge, greedy) == (429, TOO_MANY)
    # Another token's waits nowhere: the one queue is full, whichever server process asks.
    assert get(b2, huge, admin.new_token("late")) == (503, BUSY)


def test_the_time_limit_holds_in_every_server_process(serve) -> None:
    server, admin = serve(INVOICING_PDF_RENDER_TIMEOUT="1")
    assert admin.get(invoice_pdf(admin)).status_code == 200  # starts the pool
    assert wait_until(lambda: len(render_processes(server.master)) == 2, 10)
    before = render_processes(server.master)
    for (connection,) in connections(admin).values():
        started = time.monotonic()
        assert get(connection, huge_pdf(admin), admin) == (504, TOO_LONG)
        assert time.monotonic() - started < 4
    assert wait_until(lambda: len(render_processes(server.master)) == 2, 10)
    assert len(before - render_processes(server.master)) == 1  # the large one, replaced


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
def test_the_pool_ends_with_the_server(serve, stop: int) -> None:
    server, admin = serve()
    for _ in range(2):
        assert admin.get(invoice_pdf(admin, 51)).status_code == 200
    processes = pools(server.master) | render_processes(server.master)
    assert len(processes) == 3
    assert server.process is not None
    tree = descendants(server.master)
    server.process.send_signal(stop)
    server.process.wait(timeout=15)
    try:
        assert wait_until(lambda: not any(running(p) for p in processes), 5)
    finally:
        kill_all(tree)  # uvicorn's server processes outlive a master killed outright
