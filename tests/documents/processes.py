"""What the render tests need to look at real processes (through /proc: psutil is not a
dependency) and to hold requests open over real sockets."""

import os
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.helpers import create_invoice, create_order, line
from tests.servers import Server

# Identifies a process across PID reuse: (pid, start time in clock ticks since boot).
Process = tuple[int, int]


def stat_fields(pid: int) -> list[str] | None:
    """/proc/PID/stat after the command name: [state, ppid, ...]; None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def descendants(root: int) -> set[Process]:
    children: dict[int, list[Process]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := stat_fields(int(entry))) is not None:
            children.setdefault(int(fields[1]), []).append((int(entry), int(fields[19])))
    found: set[Process] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child[0])
    return found


def running(process: Process) -> bool:
    """Still there and not a zombie (a zombie has ended; only its exit status is left)."""
    fields = stat_fields(process[0])
    return fields is not None and int(fields[19]) == process[1] and fields[0] != "Z"


def maps(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


def render_processes(server: Server) -> set[Process]:
    assert server.process is not None
    return {p for p in descendants(server.process.pid) if running(p)}


def kill_all(processes: set[Process]) -> None:
    for process in processes:
        if running(process):
            os.kill(process[0], signal.SIGKILL)


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


class Api:
    """A token's client on a server, as tests/helpers.py expects (`api.post(path, json=...)`).
    Every token made from it shares its list of held connections, closed by `close()`."""

    def __init__(
        self, server: Server, secret: str, held: list[socket.socket] | None = None
    ) -> None:
        self.server = server
        self.secret = secret
        self.held = [] if held is None else held

    def request(self, method: str, path: str, timeout: float = 30, **kwargs: Any) -> httpx.Response:
        headers = {"accessToken": self.secret}
        return httpx.request(
            method, self.server.url + path, headers=headers, timeout=timeout, **kwargs
        )

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def new_token(self, name: str) -> "Api":
        """Another token (another caller) on the same server."""
        response = self.post("/tokens", json={"name": name, "type": "api"})
        assert response.status_code == 201, response.text
        return Api(self.server, response.json()["data"]["token"], self.held)

    def hold(self, path: str) -> socket.socket:
        """GET `path` on a connection of its own and never read the answer: close it to leave."""
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
        request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\naccessToken: {self.secret}\r\n\r\n"
        sock.sendall(request.encode())
        self.held.append(sock)
        return sock

    def close(self) -> None:
        for sock in self.held:
            sock.close()


def invoice_pdf(api: Api, lines: int = 1, name: str = "Widget", sku: str | None = None) -> str:
    """The PDF path of a new invoice with `lines` lines named `name`."""
    items = [line(f"{name}", 1, "1.5", 0, **({"sku": sku} if sku else {})) for _ in range(lines)]
    invoice = create_invoice(api, create_order(api, lineItems=items)["id"])
    return f"/invoices/{invoice['id']}/pdf"


def huge_pdf(api: Api) -> str:
    """The slowest PDF the API allows: 500 lines with 500-character unbroken names (11-13 s
    to render alone on the test machine, bench/pdf_sizes.py)."""
    return invoice_pdf(api, 500, name="W" * 500, sku="S" * 100)
