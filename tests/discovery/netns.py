"""A private network namespace for mDNS tests: loopback only, multicast on.

A holder process (``sleep``) keeps the namespace alive; every process of a test is started in
it with ``nsenter``, so the appliance, the browsers and avahi share one segment that cannot
reach any real interface.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.support.real import IN_CI, require_binary, wait_for

ROOT = Path(__file__).resolve().parents[2]
SETUP = (
    "ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo && "
    # avahi-daemon's pid file and socket are fixed paths: give this namespace its own
    "mkdir -p /run/avahi-daemon && mount -t tmpfs tmpfs /run/avahi-daemon && "
    "echo ready && exec sleep 3600"
)
BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/><allow own="*"/><allow send_destination="*"/><allow receive_sender="*"/>
  </policy>
</busconfig>
"""
AVAHI_CONF = """[server]
use-ipv4=yes
use-ipv6=no
allow-interfaces=lo
host-name=avahi-peer
[publish]
publish-hinfo=no
publish-workstation=no
"""


class Netns:
    """One private network namespace held open by a sleeping process."""

    def __init__(self) -> None:
        if os.geteuid() != 0:
            message = "mDNS tests need root for a private network namespace (unshare -n)"
            if IN_CI:
                pytest.fail(message)
            pytest.skip(message)
        require_binary("unshare")
        require_binary("nsenter")
        self.holder = subprocess.Popen(
            ["unshare", "-n", "-m", "--", "bash", "-c", SETUP], stdout=subprocess.PIPE, text=True
        )
        assert self.holder.stdout is not None
        if self.holder.stdout.readline().strip() != "ready":
            raise AssertionError("could not set up the network namespace")
        self.children: list[subprocess.Popen[str]] = []
        self.env: dict[str, str] = {}

    def start_avahi(self, workdir: Path) -> dict[str, str]:
        """A private D-Bus and avahi-daemon inside the namespace; returns the env to reach them."""
        require_binary("dbus-daemon")
        require_binary("avahi-daemon")
        socket = workdir / "bus.sock"
        (workdir / "bus.conf").write_text(BUS_CONF.format(socket=socket))
        (workdir / "avahi.conf").write_text(AVAHI_CONF)
        self.popen(
            ["dbus-daemon", f"--config-file={workdir / 'bus.conf'}", "--nofork", "--nopidfile"],
            stderr=subprocess.DEVNULL,
        )
        wait_for(socket.exists, 10, "the private D-Bus socket")
        self.env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={socket}"}
        avahi = self.popen(
            [
                "avahi-daemon",
                "-f",
                str(workdir / "avahi.conf"),
                "--no-drop-root",
                "--no-chroot",
                "--no-rlimits",
            ],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        lines = Lines(avahi)
        lines.wait_text("Server startup complete", what="avahi-daemon to start")
        return self.env

    def argv(self, args: Sequence[str]) -> list[str]:
        """``args`` prefixed to run inside the namespace."""
        pid = self.holder.pid
        ns = f"/proc/{pid}/ns"
        return ["nsenter", f"--net={ns}/net", f"--mount={ns}/mnt", f"--wd={ROOT}", "--", *args]

    def run(self, args: Sequence[str], timeout: float = 20.0) -> subprocess.CompletedProcess[str]:
        """Run a command inside the namespace to completion."""
        return subprocess.run(
            self.argv(args),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
            check=False,
            env=self.env or None,
        )

    def popen(self, args: Sequence[str], **kw: Any) -> subprocess.Popen[str]:
        """Start a long-running command inside the namespace; stopped by ``close()``."""
        kw.setdefault("env", self.env or None)
        proc = subprocess.Popen(self.argv(args), cwd=ROOT, text=True, **kw)
        self.children.append(proc)
        return proc

    def python(self, module: str, *args: str) -> list[str]:
        """argv running ``python -m module args`` with this interpreter."""
        return [sys.executable, "-m", module, *args]

    def close(self) -> None:
        """Stop every child, then the holder (which ends the namespace)."""
        for proc in reversed(self.children):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.holder.terminate()
        self.holder.wait()


class Lines:
    """Reads a child's stdout lines on a thread so a test can wait on them with a timeout."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        self.proc = proc
        self.seen: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, args=(proc.stdout,), daemon=True).start()

    def _pump(self, stream: Any) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))

    def _next(self, match: Any, timeout: float, what: str) -> Any:
        """The first later line for which ``match`` returns something other than None."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            self.seen.append(line)
            found = match(line)
            if found is not None:
                return found
        raise AssertionError(f"timed out waiting for {what}; saw {self.seen[-10:]}")

    def wait_text(self, text: str, timeout: float = 15.0, what: str = "") -> str:
        """The first line (after those already consumed) containing ``text``."""
        return str(self._next(lambda line: line if text in line else None, timeout, what or text))

    def wait_json(self, predicate: Any, timeout: float = 15.0, what: str = "") -> dict[str, Any]:
        """The first JSON line (after those already consumed) for which ``predicate`` is true."""

        def match(line: str) -> Any:
            try:
                item = json.loads(line)
            except ValueError:
                return None
            return item if predicate(item) else None

        found: dict[str, Any] = self._next(match, timeout, what)
        return found
