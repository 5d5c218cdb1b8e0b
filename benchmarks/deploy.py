"""Deployment figures: first-boot provisioning, sd_notify cost, install.sh first run and re-run.

``.venv/bin/python -m benchmarks.deploy [--no-install]`` (the install part needs root and uses
the cached Debian 12 root of the tests).
"""

from __future__ import annotations

import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from roomctl.core.sdnotify import SdNotifier
from roomctl.firstboot import provision

REPO = Path(__file__).resolve().parent.parent


def bench_firstboot(runs: int = 20) -> list[float]:
    """Seconds per full provisioning (secret, id, EC P-256 key, self-signed cert, CSR)."""
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            base = Path(tmp)
            start = time.perf_counter()
            provision(base / "boot", base / "etc", base / "state", False, True)
            times.append(time.perf_counter() - start)
    return times


def bench_notify(count: int = 20000) -> float:
    """Microseconds per WATCHDOG=1 datagram sent to a real unix socket."""
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "notify")
        server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        server.bind(path)
        server.settimeout(0.2)
        received = 0

        def drain() -> None:
            nonlocal received
            while received < count:
                try:
                    server.recv(64)
                except TimeoutError:
                    return
                received += 1

        thread = threading.Thread(target=drain)
        thread.start()
        sd = SdNotifier({"NOTIFY_SOCKET": path})
        start = time.perf_counter()
        sent = sum(sd.ping() for _ in range(count))
        elapsed = time.perf_counter() - start
        thread.join()
        server.close()
    return elapsed / max(sent, 1) * 1e6


def bench_install() -> tuple[str, float, float]:
    """Seconds for install.sh --no-systemctl: first run, then an unchanged re-run."""
    from tests.deploy import rootfs, test_install, wheelhouse

    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        wheels = wheelhouse.build(scratch, REPO)
        wheel = next(p.name for p in wheels.glob("roomctl-*.whl"))
        deploy = REPO / "deploy" / "raspberrypi"
        with rootfs.isolated_root(scratch, deploy / "apt-packages.txt") as root:
            import shutil

            shutil.copytree(deploy, root.path / "tmp/roomctl/deploy/raspberrypi")
            shutil.copytree(wheels, root.path / "tmp/roomctl/wheels")
            start = time.perf_counter()
            test_install._install(root.path, root.kind, wheel)
            first = time.perf_counter() - start
            start = time.perf_counter()
            test_install._install(root.path, root.kind, wheel)
            return root.kind, first, time.perf_counter() - start


def main() -> None:
    """Print the figures."""
    fb = bench_firstboot()
    print(f"firstboot provision: median {statistics.median(fb) * 1000:.1f} ms, "
          f"max {max(fb) * 1000:.1f} ms over {len(fb)} runs")  # fmt: skip
    print(f"sd_notify WATCHDOG=1: {bench_notify():.1f} us per datagram")
    if "--no-install" not in sys.argv:
        kind, first, again = bench_install()
        print(f"install.sh --no-systemctl ({kind} root): first {first:.1f} s, re-run {again:.1f} s")


if __name__ == "__main__":
    main()
