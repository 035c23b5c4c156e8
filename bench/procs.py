"""Servers: started as a user would, healthy before use, their CPU time and memory read."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# PostgreSQL needs a secret key (webhook secrets, console sessions); the bench brings its own.
os.environ.setdefault(
    "INVOICING_SECRET_KEY", "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
)
_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Server:
    name: str
    workers: int
    port: int
    process: "subprocess.Popen[bytes]"
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def invoicing_command() -> list[str]:
    """The `invoicing` script next to this Python (the venv's), else `python -m invoicing`."""
    script = Path(sys.executable).parent / "invoicing"
    return [str(script)] if script.exists() else [sys.executable, "-m", "invoicing"]


def cli(args: list[str], database_url: str, cwd: Path) -> str:
    env = {**os.environ, "INVOICING_DATABASE_URL": database_url}
    done = subprocess.run(
        [*invoicing_command(), *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"invoicing {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_service(
    database_url: str, workers: int, cwd: Path, env: dict[str, str] | None = None
) -> Server:
    port = free_port()
    command = [*invoicing_command(), "serve", "--port", str(port), "--workers", str(workers)]
    return _start("service", command, database_url, workers, port, cwd, env or {})


def start_reference(database_url: str, workers: int, cwd: Path) -> Server:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.reference:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--no-server-header",
        "--log-level",
        "warning",
    ]
    pythonpath = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return _start(
        "reference", command, database_url, workers, port, cwd, {"PYTHONPATH": pythonpath}
    )


def _start(
    name: str,
    command: list[str],
    database_url: str,
    workers: int,
    port: int,
    cwd: Path,
    extra_env: dict[str, str],
) -> Server:
    log = cwd / f"{name}-{workers}w-{port}.log"
    env = {**os.environ, "INVOICING_DATABASE_URL": database_url, **extra_env}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(name, workers, port, process, log)
    try:
        wait_healthy(server)
    except BaseException:
        stop(server)
        raise
    return server


def wait_healthy(server: Server, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited:\n{server.log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{server.url}/health", timeout=2) as response:
                if response.status == 200:
                    # With several workers, give every one of them time to bind and start.
                    time.sleep(0.5 * server.workers)
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{server.name} did not become healthy:\n{server.log.read_text()[-3000:]}")


def stop(server: Server) -> None:
    """SIGTERM to the server's own process group (it was started in a new session), then SIGKILL."""
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()
    with contextlib.suppress(ProcessLookupError):  # workers a crashed supervisor left behind
        os.killpg(server.process.pid, signal.SIGKILL)


def tree(root: int) -> list[int]:
    """The process and all its descendants (uvicorn's workers are children of the supervisor)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_seconds(pids: list[int], *, reaped: bool = False) -> float:
    """utime + stime of the processes, in seconds; with `reaped`, also their waited-for
    children's (cutime + cstime), which leave the process table when they end."""
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])
        if reaped:
            total += int(fields[13]) + int(fields[14])
    return total / _TICKS


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds of `root` and its descendants, including those that have ended: read twice,
    around a run, the difference is what the tree spent in it, even when a process of it ends
    meanwhile (an idle render process the pool replaces: a fixed list of pids lost its time,
    and a stored PDF's CPU per request came out negative)."""
    return cpu_seconds(tree(root), reaped=True)


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
        except OSError:
            continue
    return total


@dataclass
class MemorySampler:
    """Samples the summed RSS of a process tree every `interval` seconds in a thread."""

    pids: list[int]
    interval: float = 0.25
    samples: list[tuple[float, int]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> "MemorySampler":
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        started = time.monotonic()
        while True:
            self.samples.append((time.monotonic() - started, rss_bytes(self.pids)))
            if self._stop.wait(self.interval):
                break

    @property
    def peak(self) -> int:
        return max((rss for _, rss in self.samples), default=0)
