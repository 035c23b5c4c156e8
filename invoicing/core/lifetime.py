"""Child processes of a server (PDF rendering, webhook delivery) that die with it."""

import ctypes
import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1


def exit_with(parent: int) -> None:
    """Die with the server, however it ends (SIGKILL and crashes included).

    A child would also see its stdin close, but one in the middle of its work would go on for as
    long as that takes, owned by PID 1.
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


def background_priority() -> None:
    """When both cores are busy, API requests go first and this process takes what is left;
    Ctrl-C in a terminal reaches the whole process group, but the server decides when we stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(10)
