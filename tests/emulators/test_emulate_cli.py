"""``roomctl emulate`` as a caretaker or a test runs it: a process speaking the real protocol."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tests.support.real import wait_for

TOKEN = "00112233445566778899aabbccddeeff"


@contextmanager
def emulate(*args: str) -> Iterator[str]:
    command = [sys.executable, "-m", "roomctl", "emulate", *args]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        line = wait_for(proc.stdout.readline, 20, "the emulator's address line")
        yield str(line).strip()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_miio_emulator_from_the_cli_answers_python_miio() -> None:
    from miio import ChuangmiPlug

    with emulate("--miio", "plug", "--host", "127.0.0.9", "--token", TOKEN) as line:
        assert line == "miio chuangmi.plug.v3 listening on udp://127.0.0.9:54321"
        plug = ChuangmiPlug("127.0.0.9", TOKEN, model="chuangmi.plug.v3", timeout=2)
        assert plug.info().model == "chuangmi.plug.v3"
        plug.off()
        assert plug.status().is_on is False


def test_pjlink_emulator_from_the_cli_answers_pypjlink2() -> None:
    from pypjlink import Projector

    from tests.support.real import free_port

    port = free_port()
    with emulate("--profile", "pjlink", "--tcp", str(port), "--password", "secret") as line:
        assert f"127.0.0.1:{port}" in line
        with Projector.from_address("127.0.0.1", port, timeout=5) as proj:
            proj.authenticate("secret")
            assert proj.get_power() in ("off", "on", "warm-up", "cooling")
