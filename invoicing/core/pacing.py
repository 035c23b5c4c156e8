"""Background work that yields to the API: a child process (webhook delivery) starts new work
only while its server is not busy, and at a floor rate when it stays busy.

Nice 10 alone does not do it: the database backends that serve the child's transactions, and the
receivers it posts to, run at normal priority (bench, PostgreSQL: POST /invoices at 0.64x with a
niced delivery process draining beside it)."""

import os
import time
from collections.abc import Callable

# The server's CPU share of one core (over the last window) above which it counts as busy. On
# PostgreSQL a saturated POST /invoices keeps the server at only 0.5-0.7 of a core (the rest is
# the wait for the numbering lock), so at 0.5 about half the windows counted as idle (bench, 5 s
# runs: 1,143 events delivered meanwhile, 0.81x the throughput without an endpoint; at 0.25:
# 109-241 delivered, 0.93-0.95x).
BUSY_SHARE = 0.25
# The share is measured over windows this long: /proc counts CPU time in ticks of 10 ms.
WINDOW = 0.2
# While the server stays busy, new work still starts this often (so that it is never starved).
FLOOR = 1.0

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu(pid: int) -> Callable[[], float | None]:
    """A reader of `pid`'s CPU seconds so far (user + system), None where /proc cannot tell."""
    path = f"/proc/{pid}/stat"

    def read() -> float | None:
        try:
            with open(path, "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            return None
        return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime: fields 14 and 15

    return read


class Pacer:
    def __init__(
        self,
        cpu: Callable[[], float | None],
        *,
        clock: Callable[[], float] = time.monotonic,
        busy_share: float = BUSY_SHARE,
        window: float = WINDOW,
        floor: float = FLOOR,
    ) -> None:
        self.cpu = cpu
        self.clock = clock
        self.busy_share = busy_share
        self.window = window
        self.floor = floor
        self._since = clock()
        self._cpu_since = cpu()
        self._busy = False
        self._started = float("-inf")

    @property
    def busy(self) -> bool:
        """Whether the server counted as busy when `may_start` last looked."""
        return self._busy

    def may_start(self) -> bool:
        """Whether new work may start now; when it may, it counts as started."""
        at = self.clock()
        if at - self._since >= self.window:
            used = self.cpu()
            if used is None or self._cpu_since is None:
                self._busy = False
            else:
                self._busy = (used - self._cpu_since) / (at - self._since) >= self.busy_share
            self._since, self._cpu_since = at, used
        if self._busy and at - self._started < self.floor:
            return False
        self._started = at
        return True
