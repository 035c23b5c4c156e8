"""PDF rendering in separate processes, in two lanes: small documents and large ones.

WeasyPrint is CPU-bound pure Python for most of a render: in a thread it holds the GIL, and a
GET that arrives meanwhile waits (measured: GET p99 16 ms -> 490 ms while PDFs render). In
processes of their own, renders use the other core and leave the event loop alone.

Why lanes rather than one queue ordered by size: a render cannot be paused, so with one process
a one-page PDF would still wait for the huge render already running. Measured on this machine
(render alone, `python -m bench.pdf_sizes`): 1 line 65 ms, 50 lines 0.3 s, 500 lines 2.6 s, and
500 lines with the longest unbroken names the API accepts 13 s. With a process of its own, a
document of at most `small_document_lines` lines waits only for other small ones. The price is a
second process: 62 MB when idle (measured), idle most of the time.

Why one pool per `invoicing serve` rather than lanes per server process: with `--workers 4` that
was 8 WeasyPrint processes (measured 1258 MB RSS for the whole serve after a few PDFs), for
renders that use one core each anyway; and each server process's queue bounds only that
process's share. The pool (invoicing.documents.pool) is started by the first server process that
needs a PDF, found by the others through a Unix socket named after the serve, and lives as long as
the serve does.
"""

import asyncio
import contextlib
import fcntl
import logging
import multiprocessing
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from invoicing.config import Settings
from invoicing.core.errors import RENDERER_FAILED, ServiceUnavailable
from invoicing.documents.model import InvoiceDocument
from invoicing.documents.pool import READY, PoolConfig, read_frame
from invoicing.documents.worker import encode

log = logging.getLogger("invoicing.documents")

STARTUP_LIMIT = 30.0  # seconds for a new pool to listen (measured: 0.08-0.13 s)
CLOSE_LIMIT = 5.0  # seconds for the pool to end when its owner closes it
_BUFFER = 1024 * 1024  # a PDF is read in a few large reads rather than many 64 KiB ones


def serve_owner() -> int:
    """The process whose pool this is: uvicorn's master for the server processes it started
    (through multiprocessing), else this process (a server alone, a command, a test)."""
    parent = multiprocessing.parent_process()
    return parent.pid if parent is not None and parent.pid is not None else os.getpid()


def _private_directory() -> Path:
    """Where pools listen: this user's alone, since a pool unpickles what it is sent (and a
    server process what a pool answers)."""
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    directory = Path(base) / f"invoicing-{os.getuid()}"
    directory.mkdir(mode=0o700, exist_ok=True)
    status = directory.lstat()
    if status.st_uid != os.getuid() or status.st_mode & 0o077 or directory.is_symlink():
        raise PermissionError(f"{directory} must be a directory of this user's alone (mode 700)")
    return directory


class PdfRenderer:
    """This process's way to its serve's render pool, started on first need."""

    def __init__(self, config: PoolConfig | None = None, *, owner: int | None = None) -> None:
        self._config = config or PoolConfig()
        self._owner = serve_owner() if owner is None else owner
        self._name = f"render-{self._owner}-{self._config.fingerprint}"
        self._directory: Path | None = None
        self._starting: asyncio.Task[None] | None = None
        self._started: subprocess.Popen[bytes] | None = None  # the pool, if this process started it

    @classmethod
    def from_settings(cls, settings: Settings) -> "PdfRenderer":
        return cls(
            PoolConfig(
                processes=settings.render_processes,
                small_document_lines=settings.pdf_small_document_lines,
                time_limit=settings.pdf_render_timeout,
                queue_limit=settings.pdf_queue_limit,
                per_token=settings.pdf_queue_limit_per_token,
            )
        )

    @property
    def socket_path(self) -> str:
        if self._directory is None:
            self._directory = _private_directory()
        return str(self._directory / f"{self._name}.sock")

    async def render(self, document: InvoiceDocument, *, token: str) -> bytes:
        """The PDF, rendered for `token`'s holder; cancelling it frees its place at once.

        Raises TooManyRequests (429) past the token's limit, ServiceUnavailable (503) when the
        lane's queue is full, GatewayTimeout (504) past the time limit.
        """
        try:
            reader, writer = await self._connect()
        except OSError:  # the socket's directory refused (another user's, say), a path too long
            log.exception("cannot reach the render pool at %s", self._directory)
            raise ServiceUnavailable(RENDERER_FAILED, retry_after=1) from None
        try:  # closing the connection early is what cancels the render in the pool
            writer.write(encode((document, token)))
            await writer.drain()
            kind, value = await read_frame(reader)
        except (ConnectionError, asyncio.IncompleteReadError):
            raise ServiceUnavailable(RENDERER_FAILED, retry_after=1) from None
        finally:
            writer.close()
        if kind == "error":
            raise value
        pdf: bytes = value
        return pdf

    async def close(self) -> None:
        """Stop the pool if this process started it and is the serve (a server alone, a command,
        a test); a server process of several leaves it to the others, and to the master's end."""
        if self._starting is not None:
            self._starting.cancel()
        process, self._started = self._started, None
        if process is not None and self._owner == os.getpid():
            process.terminate()  # its render processes die with it (invoicing.core.lifetime)
            try:
                await asyncio.to_thread(process.wait, CLOSE_LIMIT)
            except subprocess.TimeoutExpired:
                process.kill()

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            return await asyncio.open_unix_connection(self.socket_path, limit=_BUFFER)
        except (FileNotFoundError, ConnectionRefusedError):
            pass  # not started yet, or gone (killed, or the server process that started it died)
        if self._started is not None and self._started.poll() is not None:
            self._started = None  # the pool this process started has ended: reaped
        if self._starting is None or self._starting.done():
            self._starting = asyncio.ensure_future(self._start())
        await asyncio.shield(self._starting)  # one start for every render waiting for it
        try:
            return await asyncio.open_unix_connection(self.socket_path, limit=_BUFFER)
        except (FileNotFoundError, ConnectionRefusedError):
            raise ServiceUnavailable(RENDERER_FAILED, retry_after=1) from None

    async def _start(self) -> None:
        """Start the pool, unless another server process has meanwhile: one at a time per serve
        (a lock file), as two server processes may need their first PDF at the same moment."""
        socket_path = self.socket_path
        lock = os.open(socket_path.removesuffix(".sock") + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while True:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    await asyncio.sleep(0.05)
            try:
                _, writer = await asyncio.open_unix_connection(socket_path)
            except (FileNotFoundError, ConnectionRefusedError):
                pass
            else:
                writer.close()
                return
            with contextlib.suppress(FileNotFoundError):
                os.unlink(socket_path)  # left by a pool that was killed
            self._started = await self._spawn(socket_path)
        finally:
            os.close(lock)

    async def _spawn(self, socket_path: str) -> "subprocess.Popen[bytes]":
        # Not asyncio's subprocess: closing its transport (at this process's end, say) kills the
        # child, and the pool must outlive the server process that started it.
        process = subprocess.Popen(
            [
                sys.executable,
                "-P",  # not the working directory first on sys.path
                "-m",
                "invoicing.documents.pool",
                str(self._owner),
                socket_path,
                self._config.to_json(),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
        )
        assert process.stdout is not None
        said = b""
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(STARTUP_LIMIT):
                    said = await asyncio.to_thread(process.stdout.readline)
            if said != READY:
                process.kill()
                await asyncio.to_thread(process.wait)
                raise ServiceUnavailable(RENDERER_FAILED, retry_after=1)
        finally:
            process.stdout.close()
        return process
