"""The render process: `python -m invoicing.documents.worker PARENT_PID`.

It reads documents from stdin and writes their PDFs to stdout, one at a time, as frames (a
length, then a pickle) of `(kind, value)`: first `("ready", None)` once WeasyPrint is loaded, then
`("pdf", bytes)` or `("error", text)` per document. It keeps no state, so the server may kill it
at any moment (a render past its time limit, or whose client left) and start another.
"""

import ctypes
import os
import pickle
import signal
import struct
import sys
import threading
import time
import traceback
from typing import IO, Any

_LENGTH = struct.Struct("!Q")
HEADER_SIZE = _LENGTH.size
_PR_SET_PDEATHSIG = 1


def encode(message: Any) -> bytes:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(payload)) + payload


def frame_length(header: bytes) -> int:
    length: int = _LENGTH.unpack(header)[0]
    return length


def _exit_with(parent: int) -> None:
    """Die with the server, however it ends (SIGKILL and crashes included).

    An idle worker would also see its stdin close, but one in the middle of a render would go
    on for as long as the render takes, owned by PID 1.
    """
    if sys.platform == "linux":
        # Sent when the thread that started us exits: the server's event loop thread.
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    else:

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(1)
            os._exit(1)

        threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent:  # the server died before we asked to be told
        os._exit(1)


def _read(channel: IO[bytes]) -> Any:
    header = channel.read(HEADER_SIZE)
    if len(header) < HEADER_SIZE:
        return None  # the server closed the pipe
    return pickle.loads(channel.read(frame_length(header)))


def _write(channel: IO[bytes], message: Any) -> None:
    channel.write(encode(message))
    channel.flush()


def main(parent: int) -> None:
    _exit_with(parent)
    # Ctrl-C in a terminal reaches the whole process group; the server decides when we stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # When both cores are busy, API requests go first and PDFs take what is left.
    os.nice(10)
    # The frames go to the original stdout; anything a library prints goes to stderr instead.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    requests = sys.stdin.buffer

    # Imported here, in the render process: the server process never loads WeasyPrint.
    from invoicing.documents.pdf import render_invoice_pdf

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
