"""`python -m bench`: the service against the reference, on SQLite and PostgreSQL."""

import argparse
import shlex
import sys
from pathlib import Path

from bench import documents, load, pdf_sizes, report
from bench.run import Options, run

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds per wrk run (default 10)"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="repetitions; medians are reported (default 3)"
    )
    parser.add_argument(
        "--large",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also seed 10^6 invoices (about 2 min of seeding per database; default on)",
    )
    parser.add_argument(
        "--db",
        choices=["sqlite", "postgresql"],
        action="append",
        help="only this database (repeatable; default both)",
    )
    parser.add_argument(
        "--soak",
        type=float,
        nargs="?",
        const=60.0,
        default=0.0,
        help="RSS soak: a 3 GET : 1 POST run of this many seconds (default 60 when given)",
    )
    parser.add_argument(
        "--webhooks",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure webhooks (bench/webhooks.py) at the first size (default on)",
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directories")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    if not load.available():
        print(load.INSTALL_HINT, file=sys.stderr)
        return 2
    options = Options(
        sizes=[1_000, 1_000_000] if args.large else [1_000],
        dialects=args.db or ["sqlite", "postgresql"],
        duration=args.duration,
        repeat=args.repeat,
        connections=args.connections,
        threads=args.threads,
        soak=args.soak,
        keep=args.keep,
        webhooks=args.webhooks,
    )
    command = shlex.join(["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)])
    settings = (
        f"wrk -t{args.threads} -c{args.connections}, {args.duration:g} s per run, "
        f"median of {args.repeat}; 1 server worker unless the table says 2"
    )
    results = report.Results()
    try:
        run(options, results)
    except KeyboardInterrupt:
        print("\ninterrupted: reporting what was measured", file=sys.stderr)
    text = report.render(results, options.sizes, options.dialects, command, settings)
    text += "\n" + documents.section()
    text += "\n" + pdf_sizes.section(quick=True)
    print("\n" + text)
    args.output.write_text(text)
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
