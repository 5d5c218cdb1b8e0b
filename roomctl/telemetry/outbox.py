"""The durable outbox: SQLite in WAL mode, in the state dir.

Each event row is committed before it is handed to MQTT and deleted on PUBACK, so a network
outage or a power cut loses nothing already accepted. Rows are replayed in rowid order
(AUTOINCREMENT, so ids are never reused and "everything after the last sent row" is exact).
The same database keeps the command ids already executed and a small key-value table for
state that must survive a restart (the applied central config, today's usage counters).

Blocking: every method here runs on the telemetry I/O thread, never on the event loop.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from roomctl.core.errors import RoomctlError

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    rowid INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    created_ts REAL NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS seen_commands (cmd_id TEXT PRIMARY KEY, seen_ts REAL NOT NULL);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

LOW, HIGH = 0, 1  # priority: HIGH rows (usage, command results) are dropped last
SEEN_COMMANDS_KEEP_S = 7 * 86400


class Pacer:
    """A token bucket: at most ``rate`` messages per second, bursts up to ``burst``."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._tokens = float(burst)
        self._at = clock()

    def available(self) -> int:
        """Whole tokens available now."""
        now = self.clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self.rate)
        self._at = now
        return int(self._tokens)

    def spend(self, count: int) -> None:
        """Use ``count`` tokens."""
        self._tokens -= count

    def wait_s(self) -> float:
        """Seconds until one token is available."""
        return max(0.0, (1.0 - self._tokens) / self.rate)


@dataclass(frozen=True)
class Row:
    """One message waiting to be published."""

    event_id: str
    topic: str
    payload: bytes
    created_ts: float
    priority: int = LOW


@dataclass(frozen=True)
class Trimmed:
    """What a size or age bound removed."""

    dropped: int = 0
    oldest_ts: float | None = None


class Outbox:
    """Event rows, seen command ids and persisted settings in one SQLite file."""

    def __init__(self, path: Path, *, max_events: int, max_age_s: float) -> None:
        self.path = path
        self.max_events = max_events
        self.max_age_s = max_age_s
        self.depth = 0
        self.moved_aside: Path | None = None  # a corrupt file replaced by open()
        self._db: sqlite3.Connection | None = None

    @property
    def db(self) -> sqlite3.Connection:
        """The open connection."""
        if self._db is None:
            raise RuntimeError("outbox is not open")
        return self._db

    def open(self) -> None:
        """Open (or create) the database; a corrupt file is moved aside and started afresh."""
        try:
            self._open_or_replace()
        except (sqlite3.Error, OSError) as err:
            self.close()
            raise RoomctlError(f"cannot use the telemetry outbox {self.path}: {err}") from None

    def _open_or_replace(self) -> None:
        try:
            self._connect()
        except sqlite3.OperationalError:  # locked, read-only, unopenable: not ours to delete
            raise
        except sqlite3.DatabaseError as err:  # not a database, or malformed: unrecoverable
            self.close()
            self.moved_aside = self._move_aside()
            logger.warning("outbox %s corrupt (%s); moved to %s", self.path, err, self.moved_aside)
            self._connect()

    def _move_aside(self) -> Path:
        aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
        for suffix in ("-wal", "-shm"):  # a WAL belongs to its database: keep them together
            with contextlib.suppress(FileNotFoundError):
                Path(f"{self.path}{suffix}").rename(f"{aside}{suffix}")
        self.path.rename(aside)
        return aside

    def _connect(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed event must survive a power cut, not only a process crash.
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(_SCHEMA)
        self.depth = int(self.db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    def close(self) -> None:
        """Close the database; safe to call twice."""
        if self._db is not None:
            self._db.close()
            self._db = None

    @contextmanager
    def _tx(self) -> Iterator[None]:
        # isolation_level=None means autocommit; one explicit transaction = one fsync per batch.
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def add(self, rows: Iterable[Row], now: float | None = None) -> Trimmed:
        """Commit ``rows`` in one transaction, then apply the bounds."""
        values = [(r.event_id, r.topic, r.payload, r.created_ts, r.priority) for r in rows]
        with self._tx():
            cur = self.db.executemany(
                "INSERT OR IGNORE INTO outbox(event_id, topic, payload, created_ts, priority)"
                " VALUES (?, ?, ?, ?, ?)",
                values,
            )
        self.depth += max(cur.rowcount, 0)
        return self.trim(time.time() if now is None else now)

    def trim(self, now: float) -> Trimmed:
        """Drop rows older than the age bound, then the oldest low-priority rows over size."""
        dropped, oldest = 0, None
        with self._tx():
            first = self.db.execute("SELECT MIN(created_ts) FROM outbox").fetchone()[0]
            if first is not None and first < now - self.max_age_s:
                cur = self.db.execute(
                    "DELETE FROM outbox WHERE created_ts < ?", (now - self.max_age_s,)
                )
                dropped, oldest = cur.rowcount, first
            if self.depth - dropped > self.max_events:
                # Trim to 90 % so an overflow is reported once per burst, not once per row.
                excess = self.depth - dropped - int(self.max_events * 0.9)
                for priority in (LOW, HIGH):
                    if excess <= 0:
                        break
                    removed, first_ts = self._drop_oldest(priority, excess)
                    dropped, excess = dropped + removed, excess - removed
                    oldest = first_ts if oldest is None else min(oldest, first_ts or oldest)
        self.depth -= dropped
        return Trimmed(dropped, oldest)

    def _drop_oldest(self, priority: int, count: int) -> tuple[int, float | None]:
        ids = self.db.execute(
            "SELECT rowid, created_ts FROM outbox WHERE priority = ? ORDER BY rowid LIMIT ?",
            (priority, count),
        ).fetchall()
        if not ids:
            return 0, None
        self.db.execute(
            "DELETE FROM outbox WHERE priority = ? AND rowid <= ?", (priority, ids[-1][0])
        )
        return len(ids), float(ids[0][1])

    def after(self, rowid: int, limit: int) -> list[tuple[int, str, bytes]]:
        """Up to ``limit`` rows with a rowid above ``rowid``, oldest first."""
        return self.db.execute(
            "SELECT rowid, topic, payload FROM outbox WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (rowid, limit),
        ).fetchall()

    def ack(self, rowids: Iterable[int]) -> int:
        """Delete acknowledged rows; returns how many were still there."""
        ids = [(r,) for r in rowids]
        if not ids:
            return 0
        # A lost deletion only means a duplicate after a power cut (the centre dedupes on id),
        # so acks skip the fsync that adding an event must pay.
        self.db.execute("PRAGMA synchronous=NORMAL")
        try:
            with self._tx():
                cur = self.db.executemany("DELETE FROM outbox WHERE rowid = ?", ids)
        finally:
            self.db.execute("PRAGMA synchronous=FULL")
        self.depth -= max(cur.rowcount, 0)
        return cur.rowcount

    def remember_command(self, cmd_id: str, now: float) -> bool:
        """Record ``cmd_id``; False when it was already recorded (a duplicate)."""
        with self._tx():
            cur = self.db.execute(
                "INSERT OR IGNORE INTO seen_commands(cmd_id, seen_ts) VALUES (?, ?)", (cmd_id, now)
            )
            self.db.execute(
                "DELETE FROM seen_commands WHERE seen_ts < ?", (now - SEEN_COMMANDS_KEEP_S,)
            )
        return cur.rowcount == 1

    def get(self, key: str) -> Any:
        """A persisted JSON value, or None."""
        row = self.db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, value: Any) -> None:
        """Persist a JSON value atomically."""
        with self._tx():
            self.db.execute(
                "INSERT INTO kv(key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value, separators=(",", ":"))),
            )
