"""A real mosquitto broker on a free loopback port, with a generated config and persistence."""

from __future__ import annotations

import os
import pwd
import signal
import subprocess
from pathlib import Path

from tests.support.real import free_port, require_binary, wait_port


class Mosquitto:
    """One mosquitto process; ``extra`` is appended to the generated listener config."""

    def __init__(self, workdir: Path, *, extra: str = "", port: int | None = None) -> None:
        self.workdir = workdir
        self.extra = extra
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.proc: subprocess.Popen[bytes] | None = None
        workdir.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        """``mqtt://127.0.0.1:PORT``."""
        return f"mqtt://{self.host}:{self.port}"

    def config_text(self) -> str:
        """The generated mosquitto.conf."""
        anonymous = "" if "allow_anonymous" in self.extra else "allow_anonymous true\n"
        listener = (
            ""
            if self.extra.lstrip().startswith("listener")
            else (f"listener {self.port} 127.0.0.1\n")
        )
        return (
            f"{listener}{anonymous}"
            # As root mosquitto drops to user "mosquitto", which cannot read pytest's tmp dirs.
            f"user {pwd.getpwuid(os.getuid()).pw_name}\n"
            f"persistence true\npersistence_location {self.workdir}/\n"
            f"log_dest file {self.workdir}/mosquitto.log\n"
            "log_type error\nlog_type warning\nlog_type notice\n"
            f"{self.extra}\n"
        )

    def start(self) -> Mosquitto:
        """Start the broker and wait until it accepts connections."""
        binary = require_binary("mosquitto")
        conf = self.workdir / "mosquitto.conf"
        conf.write_text(self.config_text())
        self.proc = subprocess.Popen(
            [binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            wait_port(self.port, timeout=10)
        except AssertionError:
            self.stop()
            log = (self.workdir / "mosquitto.log").read_text(errors="replace")
            raise AssertionError(f"mosquitto did not start: {log}") from None
        return self

    def stop(self) -> None:
        """Stop the broker cleanly (it saves its persistence file)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)
        self.proc = None

    def kill(self) -> None:
        """Kill the broker without letting it save anything."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    def restart(self) -> None:
        """Stop then start on the same port and persistence."""
        self.stop()
        self.start()
