"""The real appliance (``python -m roomctl run``): the Will on kill -9, the outbox on restart."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.real import free_port, wait_for
from tests.telemetry.schemas import validate

DEV = "rc-0000b202"
ROOT = Path(__file__).resolve().parents[2]


def write_config(folder: Path, broker_url: str) -> Path:
    """A loopback-only appliance config with fast telemetry timings."""
    path = folder / "roomctl.toml"
    path.write_text(
        f'state_dir = "{folder / "state"}"\n'
        '[room]\nid = "b202"\n'
        f"[web]\nport = {free_port()}\ntls_port = {free_port()}\n"
        "[mdns]\nenabled = false\n"
        f'[mqtt]\nurl = "{broker_url}"\ndevice_id = "{DEV}"\n'
        "keepalive_s = 5\nwill_delay_s = 1\nreconnect_jitter_s = 0\nreconnect_max_s = 1\n"
    )
    return path


class ApplianceProcess:
    """One ``roomctl run`` child process."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ApplianceProcess:
        """Start the process (output into a log beside the config)."""
        log = (self.config.parent / "appliance.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "roomctl", "run", "--config", str(self.config)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return self

    def kill(self) -> None:
        """``kill -9``: no shutdown status, no flush, nothing."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            os.kill(self.proc.pid, signal.SIGCONT)
            self.proc.wait(10)

    def outbox_rows(self) -> int:
        """Rows committed to the outbox on disk (read by an independent connection)."""
        path = self.config.parent / "state" / "telemetry" / "outbox.sqlite3"
        if not path.exists():
            return 0
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as db:
                return int(db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
        except sqlite3.OperationalError:  # not created yet
            return 0


@pytest.fixture
def appliance(tmp_path: Path) -> Iterator[Any]:
    """Factory of appliance processes, all killed at the end."""
    made: list[ApplianceProcess] = []

    def make(broker_url: str) -> ApplianceProcess:
        config = tmp_path / "roomctl.toml"
        if not config.exists():
            write_config(tmp_path, broker_url)
        made.append(ApplianceProcess(config).start())
        return made[-1]

    yield make
    for proc in made:
        proc.kill()


def _birth_then_lost(watcher: Any, stop: Any) -> tuple[dict[str, Any], dict[str, Any], float]:
    online = wait_for(
        lambda: next((b for b in watcher.bodies("/status") if b["online"]), None), 30, "birth"
    )
    validate("status", online)
    stopped = time.monotonic()
    stop()
    lost = wait_for(
        lambda: next((b for b in watcher.bodies("/status") if not b["online"]), None), 20, "Will"
    )
    validate("status", lost)
    assert lost["reason"] == "lost" and lost["conn_seq"] == online["conn_seq"]
    assert lost["boot_id"] == online["boot_id"]
    return online, lost, time.monotonic() - stopped


def test_kill_9_publishes_the_will_after_the_will_delay(
    mosquitto: Any, appliance: Any, watcher_factory: Any
) -> None:
    watcher = watcher_factory(mosquitto, f"roomctl/v1/dev/{DEV}/status")
    proc = appliance(mosquitto.url)
    _, _, elapsed = _birth_then_lost(watcher, proc.kill)
    # The kernel closes the dead process's socket at once; the broker then waits will_delay_s.
    assert elapsed >= 1.0


def test_a_frozen_appliance_is_lost_after_keepalive(
    mosquitto_factory: Any, appliance: Any, watcher_factory: Any
) -> None:
    broker = mosquitto_factory()
    watcher = watcher_factory(broker, f"roomctl/v1/dev/{DEV}/status")
    proc = appliance(broker.url)
    # SIGSTOP keeps the socket open but silent, like a Pi whose network vanished.
    _, _, elapsed = _birth_then_lost(watcher, lambda: os.kill(proc.proc.pid, signal.SIGSTOP))
    assert elapsed >= 5 * 1.5  # mosquitto allows 1.5 × keepalive, then the 1 s will delay


def test_events_queued_before_kill_9_arrive_after_restart(
    mosquitto_factory: Any, appliance: Any, watcher_factory: Any
) -> None:
    broker = mosquitto_factory()
    broker.stop()  # the port stays ours; the appliance starts with no broker
    for boots in (1, 2):
        proc = appliance(broker.url)
        wait_for(lambda n=boots, p=proc: p.outbox_rows() >= n, 30, "system.boot committed")
        proc.kill()
    broker.start()
    watcher = watcher_factory(broker, f"roomctl/v1/dev/{DEV}/evt/#")
    appliance(broker.url)
    wait_for(lambda: len(watcher.events("system.boot")) >= 3, 30, "three boots")
    boots = watcher.events("system.boot")
    assert len({b["boot_id"] for b in boots}) == 3
    for body in boots:
        validate("event", body)
