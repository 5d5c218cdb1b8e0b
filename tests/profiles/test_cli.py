"""`roomctl probe` against a family emulator in another process (real TCP on 127.0.0.1)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.support.real import wait_for


@pytest.fixture
def samsung_emulator() -> Iterator[int]:
    code = (
        "import sys, types; from roomctl.emulators.profile import serve;"
        "sys.exit(serve(types.SimpleNamespace(profile='samsung/mdc', tcp=0, pty=False,"
        " password='', fault=None)))"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "127.0.0.1:" in line, line
    yield int(line.rsplit(":", 1)[1])
    proc.send_signal(2)
    wait_for(lambda: proc.poll() is not None, 10, "emulator exit")


def _probe(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "roomctl", "probe", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


def test_probe_reports_what_answers(samsung_emulator: int) -> None:
    result = _probe(
        "--profile", "samsung/mdc", "--host", "127.0.0.1", "--port", str(samsung_emulator)
    )
    assert result.returncode == 0, result.stderr
    assert "power_query    'off'" in result.stdout
    assert "volume_query   10" in result.stdout
    assert "queries answered" in result.stdout


def test_probe_of_a_silent_port_exits_1(samsung_emulator: int) -> None:
    # The Samsung emulator ignores LG's text: nothing answers, and probe says so.
    result = _probe(
        "--profile", "lg/ka-serial", "--url", f"socket://127.0.0.1:{samsung_emulator}",
        "--timeout", "0.2",
    )  # fmt: skip
    assert result.returncode == 1
    assert "0 queries answered" in result.stdout
    assert "Unavailable" in result.stdout


def test_probe_unknown_profile_exits_2() -> None:
    result = _probe("--profile", "acme/none", "--host", "127.0.0.1")
    assert result.returncode == 2 and "unknown profile" in result.stderr
