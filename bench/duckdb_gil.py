"""How much a busy Python thread slows DuckDB statements run from another thread.

obsvty's flusher runs DuckDB statements while the receivers' event loop keeps Python's GIL busy.
DuckDB's Python client gives the GIL up while a statement runs but takes it back during
execution, and each time it must wait for the busy thread to hand it over (up to
``sys.getswitchinterval()``, 5 ms by default). This times the same 5,000-row INSERT with the
process otherwise idle and next to a thread spinning in Python:

    .venv/bin/python -m bench.duckdb_gil                      # default switch interval
    .venv/bin/python -m bench.duckdb_gil --switch-interval 0.0005
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

ROWS = 5_000
INSERTS = 100


@contextmanager
def spinning(busy: bool = True) -> Iterator[None]:
    """While the body runs, a thread spinning in Python (as a busy event loop holds the GIL);
    ``busy=False`` runs the body alone."""
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            pass

    spinner = threading.Thread(target=spin)
    if busy:
        spinner.start()
    try:
        yield
    finally:
        stop.set()
        if busy:
            spinner.join()


def _time_inserts(con: duckdb.DuckDBPyConnection, busy: bool) -> float:
    """Milliseconds per INSERT, with or without a spinning Python thread."""
    with spinning(busy):
        started = time.perf_counter()
        for _ in range(INSERTS):
            con.execute("INSERT INTO target SELECT * FROM source")
        elapsed = time.perf_counter() - started
    return elapsed / INSERTS * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--switch-interval", type=float, default=None)
    args = parser.parse_args()
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval)
    con = duckdb.connect()
    con.execute("SET threads = 1")
    con.execute(
        "CREATE TABLE source AS SELECT range AS a, 'span-' || range::VARCHAR AS b FROM range(?)",
        [ROWS],
    )
    con.execute("CREATE TABLE target AS SELECT * FROM source LIMIT 0")
    idle = _time_inserts(con, busy=False)
    busy = _time_inserts(con, busy=True)
    print(f"switch interval {sys.getswitchinterval() * 1000:g} ms, INSERT of {ROWS:,} rows:")
    print(f"  process otherwise idle      {idle:7.2f} ms")
    print(f"  next to a busy Python thread {busy:6.2f} ms ({busy / idle:.0f}x)")


if __name__ == "__main__":
    main()
