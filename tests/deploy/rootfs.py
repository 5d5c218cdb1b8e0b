"""Isolated Debian 12 roots for install tests: a cached debootstrap, or the host's own root.

The first run builds ``/var/cache/roomctl-test/debian12-<hash>/root`` with debootstrap plus every
package of ``apt-packages.txt`` (keyed by a hash of that list), so later runs need no mirror. Each
test gets a copy-on-write overlay of the cached root, so the cache stays pristine. Without a
mirror (CI inside ``unshare -n`` on a fresh machine) the lower layer is the host's own root
filesystem, which is also Debian 12: install.sh then runs with ``--no-apt``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CACHE = Path(os.environ.get("ROOMCTL_TEST_CACHE", "/var/cache/roomctl-test"))
MIRROR = "http://deb.debian.org/debian"
SUITE = "bookworm"
BUILD_TIMEOUT_S = 900


@dataclass(frozen=True)
class Root:
    """A mounted isolated root and how it was made."""

    path: Path
    kind: str  # "debootstrap" (all apt packages present) or "host" (host packages, no apt)


def packages(apt_list: Path) -> list[str]:
    """The package names in an apt-packages.txt file."""
    lines = (line.split("#", 1)[0].strip() for line in apt_list.read_text().splitlines())
    return [line for line in lines if line]


def cache_dir(names: list[str]) -> Path:
    """The cache folder for a Debian root holding ``names``."""
    key = hashlib.sha256(f"v1 {SUITE} {' '.join(sorted(names))}".encode()).hexdigest()[:16]
    return CACHE / f"debian12-{key}"


def _run(cmd: list[str], timeout: float, log: Path) -> bool:
    with log.open("ab") as out:
        try:
            return subprocess.run(cmd, stdout=out, stderr=out, timeout=timeout).returncode == 0
        except (subprocess.TimeoutExpired, OSError):
            return False


def mirror_reachable() -> bool:
    """Whether the Debian mirror answers within a few seconds."""
    probe = ["curl", "-sfI", "--max-time", "5", f"{MIRROR}/dists/{SUITE}/Release"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def build_debian_root(names: list[str]) -> Path | None:
    """The cached root with ``names`` installed, building it once; None without a mirror."""
    target = cache_dir(names)
    if (target / "complete").exists():
        return target / "root"
    if shutil.which("debootstrap") is None or not mirror_reachable():
        return None
    CACHE.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=CACHE, prefix=".build-"))
    root, log = work / "root", work / "build.log"
    # minbase first, then apt inside: debootstrap's own resolver trips over chromium's
    # "dbus-session-bus" alternatives, apt-get does not.
    ok = _run(["debootstrap", "--variant=minbase", SUITE, str(root), MIRROR], BUILD_TIMEOUT_S, log)
    if ok:
        shutil.copy("/etc/resolv.conf", root / "etc/resolv.conf")
        policy = root / "usr/sbin/policy-rc.d"
        policy.write_text("#!/bin/sh\nexit 101\n")  # no daemons start inside the build
        policy.chmod(0o755)
        env = ["env", "DEBIAN_FRONTEND=noninteractive"]
        apt = [*env, "apt-get", "install", "-y", "-q", "--no-install-recommends", *names]
        ok = _run(["chroot", str(root), *apt], BUILD_TIMEOUT_S, log)
    if not ok:
        shutil.rmtree(work, ignore_errors=True)
        return None
    _run(["chroot", str(root), "apt-get", "clean"], 60, log)
    if target.exists():
        shutil.rmtree(target)
    work.rename(target)
    (target / "complete").write_text("ok\n")
    return target / "root"


@contextlib.contextmanager
def isolated_root(scratch: Path, apt_list: Path) -> Iterator[Root]:
    """Mount a writable overlay of a Debian 12 root under ``scratch``; unmount afterwards."""
    forced_host = os.environ.get("ROOMCTL_TEST_ROOT") == "host"  # to exercise the fallback
    lower = None if forced_host else build_debian_root(packages(apt_list))
    kind = "debootstrap" if lower else "host"
    # overlayfs refuses an upper layer inside its lower one, so the host fallback keeps the
    # upper layer on a tmpfs of its own
    layers = scratch / "layers"
    layers.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2g", "tmpfs", str(layers)], check=True)
    upper, work, merged = layers / "upper", layers / "work", scratch / "root"
    for folder in (upper, work, merged):
        folder.mkdir()
    options = f"lowerdir={lower or '/'},upperdir={upper},workdir={work}"
    mounts = [merged]
    try:
        overlay = ["mount", "-t", "overlay", "overlay", "-o", options, str(merged)]
        subprocess.run(overlay, check=True)
        for sub in ("proc", "dev"):
            (merged / sub).mkdir(exist_ok=True)
        subprocess.run(["mount", "-t", "proc", "proc", str(merged / "proc")], check=True)
        mounts.append(merged / "proc")
        if kind == "host":
            subprocess.run(["mount", "--bind", "/dev", str(merged / "dev")], check=True)
            mounts.append(merged / "dev")
        yield Root(merged, kind)
    finally:
        for mount in reversed(mounts):
            subprocess.run(["umount", "-l", str(mount)], check=False)
        subprocess.run(["umount", "-l", str(layers)], check=False)


def main() -> int:
    """``python -m tests.deploy.rootfs``: build the cached root while the network is there.

    ``make test`` runs this before it enters the loopback-only namespace, where no mirror
    can be reached; the install tests then find the root in the cache.
    """
    apt_list = Path(__file__).resolve().parents[2] / "deploy" / "raspberrypi" / "apt-packages.txt"
    if os.geteuid() != 0:
        print("test root: not root, skipped (the install tests need root anyway)")
        return 0
    root = build_debian_root(packages(apt_list))
    print(f"test root: {root}" if root else "test root: no Debian mirror; tests use the host root")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
