"""What the client adds to a call, next to raw httpx: N `client.invoices.get(id)` against
`httpx.Client.get(...)` + `response.json()`, on the same server and invoice, in one process.

    .venv/bin/python clients/python/bench_overhead.py [--calls 2000]
    .venv/bin/python clients/python/bench_overhead.py --url http://127.0.0.1:8000 --token inv_...

Without --url it starts `python -m invoicing serve` on a fresh SQLite database in a temporary
directory (the service must be installed in this interpreter). The two ways alternate in blocks
of 100 calls, so that both see the same server and machine state; it reports the median and p90
wall time per call and the CPU time of this (the calling) process per call. It also times the
client's own work on a response already received (parsing the JSON with exact decimals into the
typed model, and the raw `response.json()` it replaces), without the network.
"""

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from invoicing_client import Client, Invoice, _core

BLOCK = 100


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def local_server() -> Iterator[tuple[str, str]]:
    """A fresh `invoicing serve` on SQLite: (url, admin token)."""
    directory = Path(tempfile.mkdtemp(prefix="client-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVOICING_")}
    env |= {
        "INVOICING_DATABASE_URL": f"sqlite:///{directory / 'bench.db'}",
        "INVOICING_LOG_LEVEL": "warning",
    }
    run = [sys.executable, "-m", "invoicing"]
    subprocess.run([*run, "migrate"], env=env, check=True, capture_output=True, cwd=directory)
    made = subprocess.run(
        [*run, "tokens", "create", "--name", "bench", "--type", "admin"],
        env=env, check=True, capture_output=True, text=True, cwd=directory,
    )  # fmt: skip
    token = made.stdout.strip().splitlines()[-1]
    port = free_port()
    server = subprocess.Popen(
        [*run, "serve", "--port", str(port)],
        env=env, cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.1)
        yield url, token
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
        shutil.rmtree(directory, ignore_errors=True)


def measure(call: Callable[[], Any], samples: list[float]) -> float:
    """One block of calls: each call's wall time appended to `samples`; the block's CPU time."""
    cpu = time.process_time()
    for _ in range(BLOCK):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return time.process_time() - cpu


def per_call(seconds: float, calls: int) -> float:
    return seconds / calls * 1e6


def run(url: str, token: str, calls: int) -> None:
    with Client(url, token) as client:
        order = client.orders.create(
            customer={"name": "Bench GmbH", "email": "bench@example.com"},
            line_items=[
                {"name": f"Item {n}", "quantity": n, "unit_price": Decimal("19.99"),
                 "tax_rate": 19}
                for n in range(1, 4)
            ],
        )  # fmt: skip
        invoice = client.invoices.create(order_id=order.id)
        http = httpx.Client(headers={"Authorization": f"Bearer {token}"})
        raw_url = f"{url}/invoices/{invoice.id}"

        def raw() -> Any:
            return http.get(raw_url).json()

        def typed() -> Invoice:
            return client.invoices.get(invoice.id)

        for _ in range(3):  # warm up both (connections, caches)
            measure(raw, [])
            measure(typed, [])
        wall: dict[str, list[float]] = {"raw httpx + .json()": [], "invoicing_client": []}
        cpu = dict.fromkeys(wall, 0.0)
        for _ in range(max(1, calls // BLOCK)):
            cpu["raw httpx + .json()"] += measure(raw, wall["raw httpx + .json()"])
            cpu["invoicing_client"] += measure(typed, wall["invoicing_client"])
        http.close()

        # The client's own work on a response already received.
        response = client._transport.send(_core.get(f"/invoices/{invoice.id}"))
        offline = {
            "response.json()": lambda: response.json(),
            "exact JSON + Invoice model": lambda: _core.data(response, Invoice),
        }
        parse: dict[str, float] = {}
        for name, work in offline.items():
            samples: list[float] = []
            for _ in range(max(1, calls // BLOCK)):
                measure(work, samples)
            parse[name] = statistics.median(samples) * 1e6

    done = len(wall["invoicing_client"])
    print(f"{done} calls each of GET /invoices/{{id}} ({len(response.content)} bytes), {url}")
    print(f"{'':24} {'median µs':>10} {'p90 µs':>10} {'CPU µs/call':>12}")
    for name, samples in wall.items():
        ordered = sorted(samples)
        p90 = ordered[int(len(ordered) * 0.9)] * 1e6
        print(
            f"{name:24} {statistics.median(samples) * 1e6:10.0f} {p90:10.0f} "
            f"{per_call(cpu[name], done):12.0f}"
        )
    raw_name, typed_name = list(wall)
    extra_wall = (statistics.median(wall[typed_name]) - statistics.median(wall[raw_name])) * 1e6
    extra_cpu = per_call(cpu[typed_name] - cpu[raw_name], done)
    print(f"{'client overhead':24} {extra_wall:10.0f} {'':>10} {extra_cpu:12.0f}")
    print("parsing a received response (median µs):")
    for name, value in parse.items():
        print(f"  {name:30} {value:8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--url", help="a running service (default: start one on SQLite)")
    parser.add_argument("--token", help="an access token for --url")
    options = parser.parse_args()
    if options.url:
        if not options.token:
            parser.error("--url needs --token")
        run(options.url, options.token, options.calls)
        return
    with local_server() as (url, token):
        run(url, token, options.calls)


if __name__ == "__main__":
    main()
