"""Read-only SQLite queries that do not block the event loop and stop when cancelled.

``sqlite3`` is a blocking API: a query run directly in a coroutine freezes every other tool until
it returns. :func:`fetch_all` runs it in a worker thread (``asyncio.to_thread``) and opens the
database per call, read-only (``mode=ro`` in the URI, so a bug in a tool cannot write to it).
A connection per call is cheap for SQLite (a file open, well under a millisecond) and needs no
pool or locking between concurrent tools.

Threads cannot be cancelled (:mod:`course_lib.tools.blocking`), but SQLite offers a way out: a
progress handler, called every thousand steps of a running statement, can abort it (it fails
with "interrupted"; ``Connection.interrupt()`` is the other way in). When the awaiting task is
cancelled (a timeout, or the user left), :func:`fetch_all` tells the query to stop, so the thread
is freed within microseconds instead of running on. In production, an async
driver (``aiosqlite``, ``asyncpg``) or a connection pool with statement timeouts does this job.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["connect_read_only", "fetch_all"]


def connect_read_only(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """Open ``path`` read-only; FileNotFoundError naming the path if there is no such file."""
    database = Path(path)
    if not database.is_file():
        raise FileNotFoundError(f"no SQLite database at {database}")
    connection = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
    connection.row_factory = sqlite3.Row
    return connection


# SQLite calls the progress handler every this many virtual-machine instructions; returning True
# aborts the statement. Small enough to stop within microseconds, large enough to cost nothing.
_PROGRESS_EVERY = 1_000


class _Query:
    """One query on its own connection, abortable from the event-loop thread."""

    def __init__(self, path: str | os.PathLike[str], sql: str, params: Sequence[Any]) -> None:
        self.path, self.sql, self.params = path, sql, tuple(params)
        self._stop = threading.Event()

    def run(self) -> list[sqlite3.Row]:
        connection = connect_read_only(self.path)
        try:
            # A progress handler rather than Connection.interrupt(): it sees a stop requested
            # before the statement started, which interrupt() can miss.
            connection.set_progress_handler(self._stop.is_set, _PROGRESS_EVERY)
            if self._stop.is_set():
                raise sqlite3.OperationalError("interrupted")
            return connection.execute(self.sql, self.params).fetchall()
        finally:
            connection.close()

    def stop(self) -> None:
        self._stop.set()


async def fetch_all(
    path: str | os.PathLike[str], sql: str, params: Sequence[Any] = ()
) -> list[sqlite3.Row]:
    """Run one read-only query in a worker thread; rows support ``row["column"]``.

    Cancelling the caller interrupts the query in SQLite and waits for the thread to give up,
    so no query outlives the tool that started it.
    """
    query = _Query(path, sql, params)
    worker = asyncio.ensure_future(asyncio.to_thread(query.run))
    try:
        return await asyncio.shield(worker)
    except asyncio.CancelledError:
        query.stop()
        # The interrupted statement raises OperationalError in the thread; wait for it so the
        # connection is closed before the cancellation goes on.
        with contextlib.suppress(sqlite3.OperationalError, sqlite3.ProgrammingError):
            await worker
        raise
