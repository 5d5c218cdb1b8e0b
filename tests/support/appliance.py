"""A real ``roomctl run`` process on a free loopback port, from a generated config."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from roomctl.passwords import hash_password
from tests.support.real import free_port, wait_for

TEACHER_PIN = "2468"
CARETAKER_PASSWORD = "caretaker-pass"
DISPLAY_KEY = "test-display-key-0123456789"
_HASHES: dict[str, str] = {}


def _hash(secret: str) -> str:
    if secret not in _HASHES:
        _HASHES[secret] = hash_password(secret)
    return _HASHES[secret]


def toml_value(value: Any) -> str:
    """A TOML literal for ``value`` (enough for test configs)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def to_toml(config: dict[str, Any]) -> str:
    """Render a config mapping as TOML: tables, arrays of tables and top-level keys."""
    lines = [f"{k} = {toml_value(v)}" for k, v in config.items() if not isinstance(v, dict | list)]
    for key, value in config.items():
        if isinstance(value, dict):
            lines.append(f"\n[{key}]")
            lines += [f"{k} = {toml_value(v)}" for k, v in value.items()]
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for item in value:
                lines.append(f"\n[[{key}]]")
                lines += [f"{k} = {toml_value(v)}" for k, v in item.items()]
        elif isinstance(value, list):
            lines.insert(0, f"{key} = {toml_value(value)}")
    return "\n".join(lines) + "\n"


def base_config(state_dir: Path, port: int, **sections: Any) -> dict[str, Any]:
    """A loopback test config; ``sections`` override or add tables."""
    config: dict[str, Any] = {
        "state_dir": str(state_dir),
        "room": {"id": "T101", "name": "Test room T101", "site": "Testilukio", "language": "en"},
        "web": {"bind": ["127.0.0.1"], "port": port, "display_keys": [DISPLAY_KEY]},
        "roles": {
            "teacher_pin_hash": _hash(TEACHER_PIN),
            "caretaker_password_hash": _hash(CARETAKER_PASSWORD),
        },
        "mdns": {"enabled": False},
    }
    for name, value in sections.items():
        if isinstance(value, dict) and isinstance(config.get(name), dict):
            config[name] = {**config[name], **value}
        else:
            config[name] = value
    return config


@dataclass
class ApplianceProcess:
    """``python -m roomctl run`` in a subprocess."""

    workdir: Path
    config: dict[str, Any]
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        """Where the process writes stderr."""
        return self.workdir / "appliance.log"

    def start(self) -> ApplianceProcess:
        """Write the config, start the process, wait until /healthz answers."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = self.config["web"]["port"]
        path = self.workdir / "roomctl.toml"
        path.write_text(to_toml(self.config))
        log = self.log_path.open("ab")
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "roomctl", "run", "--config", str(path)],
            stdout=log, stderr=log, env=env,
        )  # fmt: skip
        wait_for(self._healthy, 20, f"appliance on {self.url} (log: {self.log_path})")
        return self

    def _healthy(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"appliance exited: {self.log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=0.5) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False

    def stop(self) -> None:
        """SIGTERM and wait (a clean shutdown)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """SIGKILL: no clean shutdown at all."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


def start_appliance(tmp: Path, **sections: Any) -> ApplianceProcess:
    """Start an appliance with ``base_config`` plus ``sections``."""
    port = free_port()
    return ApplianceProcess(tmp, base_config(tmp / "state", port, **sections)).start()
