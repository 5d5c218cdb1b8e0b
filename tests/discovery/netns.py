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

from tests.support.real import IN_CI, require_binary

ROOT = Path(__file__).resolve().parents[2]
SETUP = (
    "ip link set lo up && ip link set lo multicast on && "
    "ip route add 224.0.0.0/4 dev lo && echo ready && exec sleep 3600"
)


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
            ["unshare", "-n", "--", "bash", "-c", SETUP], stdout=subprocess.PIPE, text=True
        )
        assert self.holder.stdout is not None
        if self.holder.stdout.readline().strip() != "ready":
            raise AssertionError("could not set up the network namespace")
        self.children: list[subprocess.Popen[str]] = []

    def argv(self, args: Sequence[str]) -> list[str]:
        """``args`` prefixed to run inside the namespace."""
        return ["nsenter", f"--net=/proc/{self.holder.pid}/ns/net", "--", *args]

    def run(self, args: Sequence[str], timeout: float = 20.0) -> subprocess.CompletedProcess[str]:
        """Run a command inside the namespace to completion."""
        return subprocess.run(self.argv(args), capture_output=True, text=True, timeout=timeout,
                              cwd=ROOT, check=False)

    def popen(self, args: Sequence[str], **kw: Any) -> subprocess.Popen[str]:
        """Start a long-running command inside the namespace; stopped by ``close()``."""
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

    def wait_json(self, predicate: Any, timeout: float = 15.0, what: str = "") -> dict[str, Any]:
        """The first JSON line (after those already consumed) for which ``predicate`` is true."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            self.seen.append(line)
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if predicate(item):
                return item  # type: ignore[no-any-return]
        raise AssertionError(f"timed out waiting for {what}; saw {self.seen[-10:]}")
