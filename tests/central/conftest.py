"""Fixtures for the dashboard: stores (SQLite and a real PostgreSQL), a running service."""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from roomctl.central.config import AlertConfig, BrokerConfig, CentralConfig, RoomEntry, StoreConfig
from roomctl.central.service import CentralService
from tests.support.real import IN_CI, async_wait_for, free_port, wait_for

PG_BIN = Path("/usr/lib/postgresql/15/bin")


class Postgres:
    """A throwaway PostgreSQL cluster on a free loopback port, run as an unprivileged user."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.user = "nobody"

    def _as_user(self, *cmd: str) -> None:
        prefix = ["runuser", "-u", self.user, "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *cmd], check=True, capture_output=True, timeout=60)

    def start(self) -> Postgres:
        """initdb, then pg_ctl start listening on 127.0.0.1 only."""
        if not (PG_BIN / "initdb").exists():
            message = "postgresql 15 is not installed"
            if IN_CI:
                pytest.fail(message)
            pytest.skip(message)
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            uid = pwd.getpwnam(self.user).pw_uid
            os.chown(self.root, uid, -1)
            self.root.chmod(0o700)
        data = self.root / "data"
        self._as_user(str(PG_BIN / "initdb"), "-D", str(data), "-U", "roomctl", "--auth=trust",
                      "-E", "UTF8", "--no-sync")
        return self.resume()

    def resume(self) -> Postgres:
        """Start the server on its existing data directory (after ``stop``)."""
        opts = f"-k {self.root} -h 127.0.0.1 -p {self.port} -c fsync=off"
        self._as_user(str(PG_BIN / "pg_ctl"), "-D", str(self.root / "data"), "-o", opts, "-l",
                      str(self.root / "log"), "-w", "start")
        return self

    @property
    def dsn(self) -> str:
        """A DSN for the default database."""
        return f"postgresql://roomctl@127.0.0.1:{self.port}/postgres"

    def fresh_db(self, name: str) -> str:
        """A DSN for a new empty database."""
        self._as_user(str(PG_BIN / "psql") if (PG_BIN / "psql").exists() else "psql",
                      "-h", "127.0.0.1", "-p", str(self.port), "-U", "roomctl", "-d", "postgres",
                      "-c", f"CREATE DATABASE {name}")
        return f"postgresql://roomctl@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        """Stop the server at once (its data is thrown away)."""
        pidfile = self.root / "data" / "postmaster.pid"
        if pidfile.exists():
            os.kill(int(pidfile.read_text().split()[0]), signal.SIGQUIT)  # immediate shutdown


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """One PostgreSQL server for the session; each test takes a fresh database."""
    root = Path(tempfile.mkdtemp(prefix="roomctl-pg-"))  # directly in /tmp: nobody can reach it
    server = Postgres(root).start()
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


_counter = iter(range(1, 1_000_000))


@pytest.fixture(autouse=True)
def _hide_playwright_loop(request: pytest.FixtureRequest) -> Iterator[None]:
    """Sync Playwright (the session ``browser``) leaves its loop marked running in the main
    thread, which makes pytest-asyncio refuse every later async test; hide it meanwhile."""
    loop = asyncio._get_running_loop()
    if loop is None or not asyncio.iscoroutinefunction(request.function):
        yield
        return
    asyncio._set_running_loop(None)
    try:
        yield
    finally:
        asyncio._set_running_loop(loop)


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL of each back end, the same tests running on both."""
    if request.param == "sqlite":
        return f"sqlite://{tmp_path}/central.db"
    server: Postgres = request.getfixturevalue("postgres")
    return server.fresh_db(f"t{os.getpid()}_{next(_counter)}")


def central_config(broker: Any, store_url: str, **kw: Any) -> CentralConfig:
    """A config for tests: a unique client id per test so sessions never collide."""
    cid = f"central-test-{next(_counter)}"
    # Business hours all day, every day: a projector switched on by a test is never "left on
    # after hours" whatever the clock says (tests/central/test_fleet.py covers that alert).
    alerts = AlertConfig(business_start="00:00", business_end="23:59",
                         business_days=(0, 1, 2, 3, 4, 5, 6))
    config = CentralConfig(broker=BrokerConfig(url=broker.url, client_id=cid,
                                               share_group=f"g{cid[-6:]}"),
                           store=StoreConfig(url=store_url), alerts=alerts)
    return replace(config, **kw)


@pytest.fixture
async def service(mosquitto: Any, tmp_path: Path) -> AsyncIterator[CentralService]:
    """A running dashboard service on the shared broker with a SQLite store."""
    config = central_config(mosquitto, f"sqlite://{tmp_path}/c.db",
                            rooms=(RoomEntry("rc-0000aa01", "Town", "School A", "101"),))
    svc = CentralService(config)
    await svc.start()
    await async_wait_for(svc.connected.is_set, 10, "dashboard connected")
    yield svc
    await svc.stop()


__all__ = ["Postgres", "central_config", "wait_for"]
