"""A render process as the server sees it: started, given one document at a time, killed."""

import asyncio
import contextlib
import os
import pickle
import sys
from typing import Any

from invoicing.documents.model import InvoiceDocument
from invoicing.documents.worker import HEADER_SIZE, encode, frame_length

_PIPE_BUFFER = 1024 * 1024  # a PDF is read in a few large reads rather than many 64 KiB ones


class RenderProcessDied(Exception):
    """The process ended (was killed, crashed, or failed to start) before it answered."""


class RenderFailed(Exception):
    """The render raised an error; the process itself is fine and takes the next document."""


class RenderProcess:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process

    @classmethod
    async def start(cls) -> "RenderProcess":
        """A new process; it takes documents once `ready()` has returned."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-P",  # not the working directory first on sys.path
            "-m",
            "invoicing.documents.worker",
            str(os.getpid()),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=_PIPE_BUFFER,
        )
        return cls(process)

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def alive(self) -> bool:
        return self._process.returncode is None

    def resident_bytes(self) -> int | None:
        """Its resident memory now; None where /proc cannot tell."""
        try:
            with open(f"/proc/{self.pid}/statm", "rb") as statm:
                return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            return None

    async def ready(self) -> None:
        """Returns once the process has loaded WeasyPrint (about half a second of CPU)."""
        kind, _ = await self._receive()
        if kind != "ready":
            raise RenderProcessDied(f"render process {self.pid} said {kind!r} instead of ready")

    async def render(self, document: InvoiceDocument) -> bytes:
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(encode(document))
            await self._process.stdin.drain()
        except ConnectionError as error:
            raise RenderProcessDied(f"render process {self.pid} is gone") from error
        kind, value = await self._receive()
        if kind == "error":
            raise RenderFailed(value)
        pdf: bytes = value
        return pdf

    async def _receive(self) -> tuple[str, Any]:
        assert self._process.stdout is not None
        try:
            header = await self._process.stdout.readexactly(HEADER_SIZE)
            message: tuple[str, Any] = pickle.loads(
                await self._process.stdout.readexactly(frame_length(header))
            )
        except asyncio.IncompleteReadError as error:
            raise RenderProcessDied(f"render process {self.pid} ended") from error
        return message

    def kill(self) -> None:
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()

    async def wait(self) -> None:
        await self._process.wait()
