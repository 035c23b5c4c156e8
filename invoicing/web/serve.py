"""The server process: `python -m invoicing.web.serve HOST PORT WORKERS KEEP_ALIVE`, which
`invoicing serve` becomes once it has prepared everything (settings, secret key, migrations, the
first token, the banner).

`invoicing serve` replaces itself with this (`os.execv`: the same process id, signals and
environment, a fresh interpreter), so that a server process holds uvicorn and the app only: not the
command line (Typer), nor Alembic, SQLAlchemy and Mako, which the migrations loaded (issue 15: ~40
MB of the serving process). uvicorn's `--workers` processes re-import this module (multiprocessing's
spawn imports the parent's main module), so they start as lean. The app's settings travel in the
environment (`invoicing.web.server.configure` wrote the command line's there)."""

import sys

# uvicorn imports watchfiles (and anyio) for `--reload`, which `serve` never uses: 1.0 MB of the 27
# of the supervisor of `--workers N` (which imports nothing else of anyio's), 0.7 MB of a server.
# None in sys.modules makes that import fail, which uvicorn provides for (it would reload by
# polling). Only where this module is the server (`-m`; uvicorn's workers import it as
# `__mp_main__`), not wherever it is imported.
if __name__ in ("__main__", "__mp_main__") and "watchfiles" not in sys.modules:
    sys.modules["watchfiles"] = None  # type: ignore[assignment]

import uvicorn


def command(host: str, port: int, workers: int, keep_alive: int) -> list[str]:
    """The argv `invoicing serve` execs into; `-P`: the working directory is not put first on
    sys.path (a directory holding an `invoicing` or `uvicorn` of its own must not be imported).
    The settings it needs come as arguments: with `--workers N` this process only supervises,
    and reading the settings would keep pydantic-settings resident in it (12 MB of its 38)."""
    return [
        sys.executable,
        "-P",
        "-m",
        "invoicing.web.serve",
        host,
        str(port),
        str(workers),
        str(keep_alive),
    ]


def run(host: str, port: int, workers: int, keep_alive: int) -> None:
    uvicorn.run(
        "invoicing.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        http="invoicing.web.server:HttpProtocol",
        # No WebSocket route: uvicorn then never imports its WebSocket protocols (`websockets`).
        ws="none",
        timeout_keep_alive=keep_alive,
        access_log=False,
        server_header=False,
        log_level="warning",
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    host, port, workers, keep_alive = sys.argv[1:5]
    run(host, int(port), int(workers), int(keep_alive))
