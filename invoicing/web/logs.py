"""Structured logs: one JSON object per line."""

import asyncio
import logging
import sys
import time
from typing import Any

import orjson

access = logging.getLogger("invoicing.access")
errors = logging.getLogger("invoicing.error")


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


class AccessLog:
    """One JSON line per request on stderr, the same shape as the other logs.

    The lines of one event-loop iteration are written together, after it: the logging module
    costs about a tenth of a small request's CPU here (bench/PROFILE.md)."""

    def __init__(self) -> None:
        self._lines: list[bytes] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._second = -1
        self._stamp = ""

    def write(self, fields: dict[str, Any]) -> None:
        if not access.isEnabledFor(logging.INFO):
            return
        second = int(time.time())
        if second != self._second:  # strftime once a second, not per request (~3 µs each)
            self._second = second
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        head = {"time": self._stamp, "level": "info", "logger": access.name, "message": "request"}
        self._lines.append(orjson.dumps({**head, **fields}))
        if len(self._lines) == 1:
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        lines, self._lines = self._lines, []
        if lines:
            stream = sys.stderr.buffer
            stream.write(b"\n".join(lines) + b"\n")
            stream.flush()


def configure(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONFormatter())
    root = logging.getLogger("invoicing")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
