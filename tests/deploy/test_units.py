"""Static checks of the deployment files: shellcheck, systemd-analyze verify and security."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.real import require_binary

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "raspberrypi"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
SCRIPTS = [DEPLOY / "install.sh", *sorted((DEPLOY / "pi-gen").rglob("*.sh"))]


def test_shellcheck_clean() -> None:
    shellcheck = require_binary("shellcheck")
    done = subprocess.run([shellcheck, "-x", *map(str, SCRIPTS)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def _verifiable_copy(unit: Path, folder: Path) -> Path:
    """The unit with binaries that exist on this machine (verify checks ExecStart paths)."""
    text = unit.read_text().replace("/opt/roomctl/venv/bin/roomctl", str(Path(sys.executable)))
    if not Path("/usr/bin/cage").exists():  # the Debian-root install test verifies with real cage
        text = text.replace("/usr/bin/cage", shutil.which("true") or "/bin/true")
    copy = folder / unit.name
    copy.write_text(text)
    return copy


def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = require_binary("systemd-analyze")
    copies = [str(_verifiable_copy(unit, tmp_path)) for unit in UNITS]
    done = subprocess.run([analyze, "verify", *copies], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr.strip() == ""


@pytest.mark.parametrize(
    ("unit", "limit"),
    [("roomctl.service", 2.0), ("roomctl-firstboot.service", 2.0), ("roomctl-kiosk.service", 4.9)],
)
def test_security_rating_ok_or_better(tmp_path: Path, unit: str, limit: float) -> None:
    analyze = require_binary("systemd-analyze")
    copy = _verifiable_copy(DEPLOY / "systemd" / unit, tmp_path)
    done = subprocess.run(
        [analyze, "security", "--offline=true", "--no-pager", str(copy)],
        capture_output=True, text=True,
    )  # fmt: skip
    found = re.search(r"Overall exposure level for \S+: ([\d.]+) (\w+)", done.stdout)
    assert found, done.stdout + done.stderr
    assert float(found[1]) <= limit and found[2] in ("SAFE", "OK"), found[0]


def test_service_keeps_what_a_device_daemon_needs() -> None:
    text = (DEPLOY / "systemd" / "roomctl.service").read_text()
    assert not re.search(r"^PrivateDevices=yes", text, re.M)
    assert re.search(r"^RestrictAddressFamilies=.*AF_NETLINK", text, re.M)
    assert "SupplementaryGroups=dialout" in text and "DeviceAllow=char-ttyUSB rw" in text
    assert "Type=notify" in text and "WatchdogSec=" in text
    assert re.search(r"^CapabilityBoundingSet=CAP_NET_BIND_SERVICE$", text, re.M)


def test_apt_packages_are_data() -> None:
    names = [
        line.split("#")[0].strip()
        for line in (DEPLOY / "apt-packages.txt").read_text().splitlines()
        if line.split("#")[0].strip()
    ]
    assert {"python3-venv", "cage", "chromium", "systemd-timesyncd"} <= set(names)
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9+.-]+", name) for name in names)
