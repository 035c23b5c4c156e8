"""Resident memory of a running service, process by process (issue 15, "Lean server processes").

`procs.MemorySampler` sums the RSS of a whole process tree. The target is on the server process
alone (≤ 2 x the reference's), so this splits the tree of a `procs.Server` by kind, from each
process's command line:

- `server`: the processes answering HTTP: the `invoicing serve` process itself with one worker;
  with `--workers N`, uvicorn's spawned workers (`multiprocessing ... --multiprocessing-fork`);
- `supervisor`: with `--workers N`, the `invoicing serve` process that only watches the workers;
- `delivery`: the webhook delivery child of each server process (`invoicing.webhooks.worker`);
- `pool`: the render pool of the serve (`invoicing.documents.pool`), which holds no WeasyPrint;
- `render`: the PDF render processes (`invoicing.documents.worker`), the pool's children;
- `other`: anything else (multiprocessing's resource tracker...).

    breakdown(server).describe()  ->  "server 62 MB | delivery 41 MB | render 2 x 58 MB | ..."

bench/run.py measures the service after its soak, and a `--workers 4` service (WORKERS) once it
has rendered PDFs, SETTLE seconds after its last request.
"""

from dataclasses import dataclass
from pathlib import Path

from bench import procs
from invoicing.documents.lane import RECYCLE_AFTER

WORKERS = 4
# Seconds after the last request: children done starting, allocations returned, and the render
# processes grown past lane.RECYCLE_BYTES replaced, as the pool does once they have idled
# RECYCLE_AFTER (it looks every RECYCLE_AFTER / 2; a fresh one loads in ~1 s). The soaked service,
# which the target's bound is made of, is measured long after its last PDF; at 5 s, `--workers 4`
# was measured with a render process the pool was about to replace (76 MB, 61 MB at 18 s).
SETTLE = 1.5 * RECYCLE_AFTER + 3
KINDS = ("server", "supervisor", "delivery", "pool", "render", "other")


@dataclass(frozen=True)
class ProcessMemory:
    pid: int
    kind: str  # one of KINDS
    rss: int  # bytes


@dataclass(frozen=True)
class Breakdown:
    processes: list[ProcessMemory]

    def of(self, kind: str) -> list[int]:
        """The RSS of each process of that kind, in bytes."""
        return [p.rss for p in self.processes if p.kind == kind]

    @property
    def server(self) -> int:
        """The largest server process's RSS (the one process the target is on)."""
        return max(self.of("server"), default=0)

    @property
    def total(self) -> int:
        return sum(p.rss for p in self.processes)

    def describe(self) -> str:
        parts = []
        for kind in KINDS:
            sizes = self.of(kind)
            if len(sizes) == 1:
                parts.append(f"{kind} {sizes[0] / 2**20:.0f} MB")
            elif sizes:
                each = "/".join(f"{size / 2**20:.0f}" for size in sizes)
                parts.append(f"{kind} {len(sizes)} x ({each}) MB")
        return " | ".join([*parts, f"total {self.total / 2**20:.0f} MB"])


def kind_of(pid: int, root: int) -> str:
    """What a process of the tree rooted at `root` (the `invoicing serve` process) is."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "other"
    module = argv[argv.index(b"-m") + 1].decode() if b"-m" in argv[:-1] else ""
    if module == "invoicing.webhooks.worker":
        return "delivery"
    if module == "invoicing.documents.pool":
        return "pool"
    if module.startswith("invoicing.documents."):
        return "render"
    if b"--multiprocessing-fork" in argv and b"resource_tracker" not in b" ".join(argv):
        return "server"  # a uvicorn worker (spawned by multiprocessing)
    if pid == root:
        spawned = any(kind_of(child, root) == "server" for child in _children(pid))
        return "supervisor" if spawned else "server"
    return "other"


def breakdown(server: procs.Server) -> Breakdown:
    """The RSS of every process of the running service, each with its kind."""
    root = server.process.pid
    return Breakdown(
        [ProcessMemory(pid, kind_of(pid, root), procs.rss_bytes([pid])) for pid in procs.tree(root)]
    )


def _children(pid: int) -> list[int]:
    return [p for p in procs.tree(pid) if p != pid]
