"""A one-page PDF's latency while another token's huge PDFs are requested and abandoned.

`python -m bench.pdf_starvation [--abandoned 0 2 10]`: starts `invoicing serve` on a temporary
SQLite database; for each N, one token requests the PDF of a 500-line invoice (long, unbroken
line names: the slowest invoice the API accepts) N times at once and closes each connection a
second later; then a second token fetches a one-page PDF, and the time it takes is printed, with
the render processes that were replaced meanwhile (killed renders) and their memory.
"""

import argparse
import json
import socket
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from bench import procs

HUGE_LINES = 500


def _request(url: str, secret: str, method: str = "GET", body: Any = None) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={"accessToken": secret, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=900) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _invoice(base: str, secret: str, lines: list[dict[str, Any]]) -> str:
    order = {"customer": {"name": "Acme"}, "currency": "USD", "lineItems": lines}
    status, body = _request(f"{base}/orders", secret, "POST", order)
    assert status == 201, body
    order_id = json.loads(body)["data"]["id"]
    status, body = _request(f"{base}/invoices", secret, "POST", {"orderId": order_id})
    assert status == 201, body
    invoice_id: str = json.loads(body)["data"]["id"]
    return invoice_id


def _abandon(port: int, secret: str, path: str, count: int, after: float) -> None:
    """`count` requests sent at once on their own connections, all closed `after` seconds later."""
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\naccessToken: {secret}\r\n\r\n".encode()
        )
        sockets.append(sock)
    time.sleep(after)
    for sock in sockets:
        sock.close()


def _render_processes(server: procs.Server) -> set[int]:
    return set(procs.tree(server.process.pid)) - {server.process.pid}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pdf_starvation", description=__doc__)
    parser.add_argument("--abandoned", type=int, nargs="+", default=[0, 2, 10])
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pdf-starvation-") as directory:
        cwd = Path(directory)
        url = f"sqlite:///{cwd / 'invoicing.db'}"
        procs.cli(["migrate"], url, cwd)
        attacker, victim = (
            procs.cli(["tokens", "create", "--name", name, "--type", "admin"], url, cwd)
            .strip()
            .splitlines()[-1]
            for name in ("attacker", "victim")
        )
        server = procs.start_service(url, 1, cwd)
        try:
            base = server.url
            heavy = {"quantity": 1, "unitPrice": 1, "taxRate": 0, "sku": "S" * 100}
            huge = _invoice(
                base, attacker, [{"name": "W" * 500, **heavy} for _ in range(HUGE_LINES)]
            )
            small = _invoice(
                base, victim, [{"name": "Widget", "quantity": 1, "unitPrice": 1, "taxRate": 0}]
            )
            _request(f"{base}/invoices/{small}/pdf", victim)  # warm
            print(f"{'abandoned':>9}  {'one-page PDF':>12}  status  processes replaced  RSS MB")
            for count in options.abandoned:
                before = _render_processes(server)
                _abandon(server.port, attacker, f"/invoices/{huge}/pdf", count, after=1.0)
                started = time.perf_counter()
                status, _ = _request(f"{base}/invoices/{small}/pdf", victim)
                latency = time.perf_counter() - started
                time.sleep(3)  # let replaced processes come back before counting them
                after = _render_processes(server)
                rss = procs.rss_bytes(sorted(after)) / 2**20
                print(
                    f"{count:>9}  {latency:>10.2f} s  {status:>6}  "
                    f"{len(before - after):>18}  {rss:>6.0f}",
                    flush=True,
                )
        finally:
            procs.stop(server)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
