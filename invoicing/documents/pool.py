"""The render pool: `python -m invoicing.documents.pool OWNER SOCKET CONFIG`.

One per `invoicing serve` (OWNER is its pid: uvicorn's master, or the server itself when it runs
alone), shared by all its server processes through a Unix socket: two lanes of render processes
(invoicing.documents.lane), so the queue bounds, the per-token limit and the time limit hold for
the whole serve. The first server process that needs a PDF starts it (invoicing.documents.renderer);
it ends with OWNER, not with the server process that started it, which may be restarted.

One connection per render: the server process sends `(document, token)` and reads one frame,
`("pdf", bytes)` or `("error", exception)`. Closing the connection early cancels the render
(the client left), with the lane's rules: a small one is finished, a large one killed.
"""

import asyncio
import contextlib
import functools
import hashlib
import json
import logging
import os
import pickle
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

from invoicing.core.errors import RENDERER_BUSY, AppError, ServiceUnavailable
from invoicing.core.lifetime import exit_with
from invoicing.documents.lane import Lane
from invoicing.documents.model import InvoiceDocument
from invoicing.documents.process import RenderFailed
from invoicing.documents.worker import HEADER_SIZE, encode, frame_length

log = logging.getLogger("invoicing.documents")

READY = b"ready\n"  # written to stdout once the socket listens
# The token of renders ahead of time (invoicing.documents.ahead): they take a process only while
# one is idle, and give it up to a request that would otherwise wait, whichever server process
# of the serve they come from.
AHEAD_TOKEN = "render-ahead"


@dataclass(frozen=True)
class PoolConfig:
    processes: int = 2
    small_document_lines: int = 50
    time_limit: float = 60.0
    queue_limit: int = 10
    per_token: int = 2

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "PoolConfig":
        return cls(**json.loads(text))

    @property
    def fingerprint(self) -> str:
        """Server processes configured differently (tests in one process) get pools of their own."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:12]


async def read_frame(reader: asyncio.StreamReader) -> Any:
    """The next frame's message; IncompleteReadError if the other end closed first."""
    header = await reader.readexactly(HEADER_SIZE)
    return pickle.loads(await reader.readexactly(frame_length(header)))


class RenderPool:
    def __init__(self, config: PoolConfig) -> None:
        def lane(name: str, processes: int, finish_abandoned: bool) -> Lane:
            return Lane(
                name,
                processes=processes,
                queue_limit=config.queue_limit,
                per_token=config.per_token,
                time_limit=config.time_limit,
                finish_abandoned=finish_abandoned,
            )

        self._small_document_lines = config.small_document_lines
        large = config.processes // 2
        self._small = lane("small", config.processes - large, finish_abandoned=True)
        self._large = lane("large", large, finish_abandoned=False)
        self._ahead: dict[Lane, set[asyncio.Future[tuple[str, Any]]]] = {
            self._small: set(),
            self._large: set(),
        }

    def start(self) -> None:
        self._small.start()
        self._large.start()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One render for one connection; the render is cancelled if the connection closes."""
        try:
            try:
                document, token = await read_frame(reader)
            except asyncio.IncompleteReadError:
                return
            lane = self._small if len(document.lines) <= self._small_document_lines else self._large
            ahead = self._ahead[lane]
            if token == AHEAD_TOKEN and not lane.idle:
                writer.write(encode(_GAVE_WAY))
                await writer.drain()
                return
            if token != AHEAD_TOKEN and not lane.idle:
                for render in ahead:  # the lane finishes a small one, kills a large one
                    render.cancel()
            work = asyncio.ensure_future(self._outcome(lane, document, token))
            if token == AHEAD_TOKEN:
                ahead.add(work)
                work.add_done_callback(ahead.discard)
            left = asyncio.ensure_future(_closed(reader))
            try:
                await asyncio.wait((work, left), return_when=asyncio.FIRST_COMPLETED)
            finally:
                left.cancel()
            if not work.done():
                work.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await work
                return
            writer.write(encode(_GAVE_WAY if work.cancelled() else work.result()))
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def _outcome(self, lane: Lane, document: InvoiceDocument, token: str) -> tuple[str, Any]:
        try:
            return "pdf", await lane.render(document, token)
        except (AppError, RenderFailed) as error:  # both pickle with their message and headers
            return "error", error


# What a render ahead is told when it may not start, or has given way to a request.
_GAVE_WAY = ("error", ServiceUnavailable(RENDERER_BUSY, retry_after=1))


async def _closed(reader: asyncio.StreamReader) -> None:
    """Returns once the caller has closed its end (it sends nothing after its request)."""
    with contextlib.suppress(ConnectionError):
        await reader.read(1)


def _end(path: str) -> None:
    """Exit now; the render processes die with us (invoicing.core.lifetime). The lock file
    stays: a server process may hold it, starting the next pool, and a new file beside it would
    let a second one start at once (`_sweep` removes it once the serve is gone)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    os._exit(0)


def _end_with(owner: int, path: str) -> None:
    """Exit as soon as OWNER has (SIGKILL included)."""
    end = functools.partial(_end, path)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, end)
    if os.getppid() == owner:  # a single server process started us: as the render processes do
        exit_with(owner)

    def watch() -> None:
        with contextlib.suppress(ProcessLookupError):
            while True:
                os.kill(owner, 0)
                time.sleep(1)
        end()

    pidfd_open = getattr(os, "pidfd_open", None)
    try:
        if pidfd_open is None:  # not Linux
            raise OSError("no pidfd_open")
        pidfd = pidfd_open(owner)
    except ProcessLookupError:
        end()
    except OSError:  # not Linux, a kernel before 5.3, or a sandbox refusing the call: poll
        threading.Thread(target=watch, daemon=True).start()
        return
    asyncio.get_running_loop().add_reader(pidfd, end)  # readable once OWNER has exited


def _sweep(directory: str) -> None:
    """Remove what pools of servers gone left (a pool killed outright cannot)."""
    for name in os.listdir(directory):
        fields = name.split("-")
        if len(fields) == 3 and fields[0] == "render" and fields[1].isdigit():
            try:
                os.kill(int(fields[1]), 0)
            except ProcessLookupError:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(directory, name))
            except PermissionError:
                pass


async def _run(owner: int, path: str, config: PoolConfig) -> None:
    _sweep(os.path.dirname(path))
    pool = RenderPool(config)
    server = await asyncio.start_unix_server(pool.serve, path, limit=1024 * 1024)
    _end_with(owner, path)
    pool.start()
    os.write(sys.stdout.fileno(), READY)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # the starter sees the pipe close
    async with server:
        await server.serve_forever()


def main(owner: int, path: str, config: PoolConfig) -> None:
    # Ctrl-C in a terminal reaches the whole process group: the server decides when we stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(_run(owner, path, config))


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], PoolConfig.from_json(sys.argv[3]))
