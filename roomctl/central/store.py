"""History and dashboard state in SQL: SQLite (WAL) by default, PostgreSQL via ``store_pg``.

Both back ends share the queries here; a back end supplies ``_run`` (statements in one
transaction) and ``_fetch``. Events are idempotent on (device_id, event_id); every ``seq``
seen (events and states) goes to ``seqs`` so gaps per boot are computed on demand and close
by themselves when a device replays its outbox.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from roomctl.central.payloads import Event

Row = tuple[Any, ...]
Stmt = tuple[str, Sequence[Any]]

SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (device_id TEXT PRIMARY KEY, first_seen DOUBLE PRECISION,
  last_seen DOUBLE PRECISION, online INTEGER, since DOUBLE PRECISION, status TEXT, state TEXT,
  meta TEXT);
CREATE TABLE IF NOT EXISTS events (device_id TEXT NOT NULL, event_id TEXT NOT NULL,
  boot_id TEXT, seq BIGINT, ts DOUBLE PRECISION, category TEXT, type TEXT, data TEXT,
  received_at DOUBLE PRECISION, PRIMARY KEY (device_id, event_id));
CREATE INDEX IF NOT EXISTS events_dev_ts ON events (device_id, ts);
CREATE INDEX IF NOT EXISTS events_type_ts ON events (type, ts);
CREATE TABLE IF NOT EXISTS seqs (device_id TEXT NOT NULL, boot_id TEXT NOT NULL,
  seq BIGINT NOT NULL, PRIMARY KEY (device_id, boot_id, seq));
CREATE TABLE IF NOT EXISTS registry (device_id TEXT PRIMARY KEY, town TEXT, school TEXT, room TEXT);
CREATE TABLE IF NOT EXISTS commands (cmd_id TEXT PRIMARY KEY, device_id TEXT, name TEXT, args TEXT,
  issued_at DOUBLE PRECISION, expires_at DOUBLE PRECISION, by_user TEXT, status TEXT, detail TEXT,
  result_at DOUBLE PRECISION);
CREATE INDEX IF NOT EXISTS commands_dev ON commands (device_id, issued_at);
CREATE TABLE IF NOT EXISTS audit (ts DOUBLE PRECISION, by_user TEXT, action TEXT, target TEXT,
  detail TEXT, ref TEXT);
CREATE TABLE IF NOT EXISTS acks (device_id TEXT, kind TEXT, key TEXT, by_user TEXT,
  at DOUBLE PRECISION, PRIMARY KEY (device_id, kind, key));
CREATE TABLE IF NOT EXISTS sessions (token TEXT PRIMARY KEY, username TEXT, role TEXT,
  expires_at DOUBLE PRECISION);
CREATE TABLE IF NOT EXISTS cfg (device_id TEXT PRIMARY KEY, cfg_version BIGINT, body TEXT,
  pushed_at DOUBLE PRECISION, by_user TEXT);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT, by_user TEXT,
  at DOUBLE PRECISION);
"""

GAPS = """SELECT boot_id, prev + 1, seq - 1 FROM (SELECT boot_id, seq, LAG(seq) OVER
  (PARTITION BY boot_id ORDER BY seq) AS prev FROM seqs WHERE device_id = ?) t
  WHERE prev IS NOT NULL AND seq > prev + 1 ORDER BY boot_id, seq"""

UPSERT_DEVICE = """INSERT INTO devices (device_id, first_seen, last_seen, online, since, status,
  state, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (device_id) DO UPDATE SET
  last_seen = excluded.last_seen, online = excluded.online, since = excluded.since,
  status = excluded.status, state = excluded.state, meta = excluded.meta"""


@dataclass
class DeviceRow:
    """The dashboard's current view of one device (mutable: ingest updates it in place)."""

    device_id: str
    first_seen: float
    last_seen: float
    online: bool = False
    since: float = 0.0
    status: dict[str, Any] | None = None
    state: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None

    def params(self) -> Sequence[Any]:
        """Row values for UPSERT_DEVICE."""
        dump = _dump_or_none
        return (self.device_id, self.first_seen, self.last_seen, int(self.online), self.since,
                dump(self.status), dump(self.state), dump(self.meta))


CHUNK_PARAMS = 3000  # well under SQLite's 32766 and PostgreSQL's 32767 bind parameters


def _multirow(template: str, rows: Sequence[Sequence[Any]], width: int) -> list[Stmt]:
    """``template`` with ``{}`` replaced by as many ``(?, …)`` groups as fit in one statement."""
    per = max(1, CHUNK_PARAMS // width)
    group = "(" + ", ".join("?" * width) + ")"
    out: list[Stmt] = []
    for i in range(0, len(rows), per):
        chunk = rows[i : i + per]
        out.append((template.format(", ".join([group] * len(chunk))),
                    [v for row in chunk for v in row]))
    return out


def _dump_or_none(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def _load_or_none(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class Store(ABC):
    """The queries; subclasses bind them to a database."""

    @abstractmethod
    async def open(self) -> None:
        """Connect and create the schema."""

    @abstractmethod
    async def close(self) -> None:
        """Release the connection."""

    @abstractmethod
    async def _run(self, stmts: Iterable[Stmt]) -> list[list[Row]]:
        """Run statements in one transaction; the rows each returned (RETURNING)."""

    @abstractmethod
    async def _fetch(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        """Rows of one query."""

    async def write_batch(
        self, events: Sequence[Event], devices: Iterable[DeviceRow], seqs: Iterable[Row], now: float
    ) -> list[Event]:
        """Store one ingest batch atomically; return the events that were new.

        Multi-row statements (one per chunk) keep the per-message cost in the database
        engine; RETURNING tells which events were new without a second query."""
        stmts: list[Stmt] = [(UPSERT_DEVICE, d.params()) for d in devices]
        n_before = len(stmts)
        rows = [(e.device_id, e.event_id, e.boot_id, e.seq, e.ts, e.category, e.type,
                 json.dumps(e.data), now) for e in events]
        stmts += _multirow("INSERT INTO events VALUES {} ON CONFLICT (device_id, event_id) "
                           "DO NOTHING RETURNING device_id, event_id", rows, 9)
        n_events = len(stmts)
        stmts += _multirow("INSERT INTO seqs VALUES {} ON CONFLICT DO NOTHING", list(seqs), 3)
        results = await self._run(stmts)
        new = {(r[0], r[1]) for part in results[n_before:n_events] for r in part}
        out = []
        for e in events:  # a key repeated inside one batch is new once
            if (e.device_id, e.event_id) in new:
                new.discard((e.device_id, e.event_id))
                out.append(e)
        return out

    async def devices(self) -> list[DeviceRow]:
        """Every device ever seen."""
        rows = await self._fetch("SELECT * FROM devices")
        return [DeviceRow(r[0], r[1], r[2], bool(r[3]), r[4], *map(_load_or_none, r[5:8]))
                for r in rows]

    async def events(self, device_id: str, limit: int = 200) -> list[Row]:
        """Newest events of one device: (ts, type, data, seq, boot_id, event_id)."""
        return await self._fetch(
            "SELECT ts, type, data, seq, boot_id, event_id FROM events WHERE device_id = ? "
            "ORDER BY ts DESC LIMIT ?", (device_id, limit))

    async def events_between(self, start: float, end: float, types: Sequence[str]) -> list[Row]:
        """(device_id, ts, type, data) of the given types in a time range, oldest first."""
        marks = ", ".join("?" for _ in types)
        return await self._fetch(
            f"SELECT device_id, ts, type, data FROM events WHERE ts >= ? AND ts < ? "
            f"AND type IN ({marks}) ORDER BY ts", (start, end, *types))

    async def count_events(self, device_id: str | None = None) -> int:
        """How many events are stored (for one device or all)."""
        if device_id is None:
            return int((await self._fetch("SELECT COUNT(*) FROM events"))[0][0])
        rows = await self._fetch("SELECT COUNT(*) FROM events WHERE device_id = ?", (device_id,))
        return int(rows[0][0])

    async def gaps(self, device_id: str) -> list[Row]:
        """Missing seq ranges per boot: (boot_id, first_missing, last_missing)."""
        return await self._fetch(GAPS, (device_id,))

    async def put_registry(self, device_id: str, town: str, school: str, room: str) -> None:
        """Place a device (IT's word, never the device's)."""
        await self._run([("INSERT INTO registry VALUES (?, ?, ?, ?) ON CONFLICT (device_id) DO "
                          "UPDATE SET town = excluded.town, school = excluded.school, "
                          "room = excluded.room", (device_id, town, school, room))])

    async def registry(self) -> list[Row]:
        """(device_id, town, school, room) rows."""
        return await self._fetch("SELECT device_id, town, school, room FROM registry")

    async def add_command(self, row: Sequence[Any]) -> None:
        """Record an issued command (status 'sent')."""
        await self._run([("INSERT INTO commands VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)])

    async def set_command_result(self, cmd_id: str, status: str, detail: str, at: float) -> bool:
        """Record a device's answer; False when the command is not ours."""
        sql = ("UPDATE commands SET status = ?, detail = ?, result_at = ? WHERE cmd_id = ? "
               "RETURNING cmd_id")
        return bool((await self._run([(sql, (status, detail, at, cmd_id))]))[0])

    async def commands(self, device_id: str | None = None, limit: int = 50) -> list[Row]:
        """Newest commands: (cmd_id, device_id, name, args, issued_at, by, status, detail)."""
        where, args = ("WHERE device_id = ? ", (device_id,)) if device_id else ("", ())
        return await self._fetch(
            "SELECT cmd_id, device_id, name, args, issued_at, by_user, status, detail FROM "
            f"commands {where}ORDER BY issued_at DESC LIMIT ?", (*args, limit))

    async def audit(self, ts: float, user: str, action: str, target: str, detail: str,
                    ref: str = "") -> None:
        """Append one audit line."""
        await self._run([("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?)",
                          (ts, user, action, target, detail, ref))])

    async def audit_log(self, limit: int = 200) -> list[Row]:
        """Newest audit lines: (ts, user, action, target, detail, ref)."""
        return await self._fetch("SELECT * FROM audit ORDER BY ts DESC LIMIT ?", (limit,))

    async def ack(self, device_id: str, kind: str, key: str, user: str, at: float) -> None:
        """Acknowledge one alert."""
        await self._run([("INSERT INTO acks VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                          (device_id, kind, key, user, at))])

    async def acks(self) -> dict[tuple[str, str, str], str]:
        """(device_id, kind, key) → who acknowledged."""
        rows = await self._fetch("SELECT device_id, kind, key, by_user FROM acks")
        return {(r[0], r[1], r[2]): r[3] for r in rows}

    async def put_session(self, token: str, user: str, role: str, expires_at: float) -> None:
        """Start a login session."""
        await self._run([("INSERT INTO sessions VALUES (?, ?, ?, ?)",
                          (token, user, role, expires_at))])

    async def session(self, token: str, now: float) -> tuple[str, str] | None:
        """(user, role) of a live session."""
        rows = await self._fetch("SELECT username, role FROM sessions WHERE token = ? AND "
                                 "expires_at > ?", (token, now))
        return (rows[0][0], rows[0][1]) if rows else None

    async def drop_session(self, token: str) -> None:
        """Log out."""
        await self._run([("DELETE FROM sessions WHERE token = ?", (token,))])

    async def put_cfg(self, device_id: str, version: int, body: str, user: str, at: float) -> None:
        """Remember the desired config last pushed to a device."""
        await self._run([("INSERT INTO cfg VALUES (?, ?, ?, ?, ?) ON CONFLICT (device_id) DO "
                          "UPDATE SET cfg_version = excluded.cfg_version, body = excluded.body, "
                          "pushed_at = excluded.pushed_at, by_user = excluded.by_user",
                          (device_id, version, body, at, user))])

    async def cfg_versions(self) -> dict[str, int]:
        """device_id → cfg_version last pushed."""
        rows = await self._fetch("SELECT device_id, cfg_version FROM cfg")
        return {r[0]: int(r[1]) for r in rows}

    async def put_settings(self, values: dict[str, Any], user: str, at: float) -> None:
        """Remember settings changed on the dashboard (they outrank the config file's)."""
        await self._run([("INSERT INTO settings VALUES (?, ?, ?, ?) ON CONFLICT (name) DO "
                          "UPDATE SET value = excluded.value, by_user = excluded.by_user, "
                          "at = excluded.at", (name, json.dumps(value), user, at))
                         for name, value in values.items()])

    async def settings(self) -> dict[str, Any]:
        """name → value of the settings saved on the dashboard."""
        rows = await self._fetch("SELECT name, value FROM settings")
        return {r[0]: json.loads(r[1]) for r in rows}


class SqliteStore(Store):
    """SQLite in WAL mode, driven from one dedicated thread so the loop never blocks."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="central-sqlite")
        self._db: sqlite3.Connection | None = None

    async def _call(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def _open(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across app crashes
        db.executescript(SCHEMA)
        self._db = db

    async def open(self) -> None:
        """Open the file and create the schema."""
        await self._call(self._open)

    async def close(self) -> None:
        """Close the file and the thread."""
        if self._db is not None:
            await self._call(self._db.close)
            self._db = None
        self._pool.shutdown(wait=False)

    def _run_sync(self, stmts: Iterable[Stmt]) -> list[list[Row]]:
        assert self._db is not None
        db = self._db
        db.execute("BEGIN")
        try:
            counts = [db.execute(sql, args).fetchall() for sql, args in stmts]
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return counts

    async def _run(self, stmts: Iterable[Stmt]) -> list[list[Row]]:
        return await self._call(self._run_sync, list(stmts))

    def _fetch_sync(self, sql: str, args: Sequence[Any]) -> list[Row]:
        assert self._db is not None
        return self._db.execute(sql, args).fetchall()

    async def _fetch(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        return await self._call(self._fetch_sync, sql, args)


def open_store(url: str) -> Store:
    """The store a config URL names (constructs only; call ``open()``)."""
    if url.startswith("sqlite://"):
        return SqliteStore(url[len("sqlite://") :])  # sqlite:///abs/path, sqlite://rel/path
    from roomctl.central.store_pg import PostgresStore

    return PostgresStore(url)
