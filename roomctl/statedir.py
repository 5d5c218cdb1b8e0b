"""The state directory: the room secret (generated on first start, 0600) and small JSON state
written atomically (write to a temporary file, fsync, rename), so a power cut never leaves a
half-written file.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

from roomctl.core.errors import ConfigError, ConfigIssue

logger = logging.getLogger(__name__)

SECRET_FILE = "room_secret"


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` atomically."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class StateDir:
    """The appliance's persistent state."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def ensure(self) -> None:
        """Create the directory (0700) or raise ConfigError naming ``state_dir``."""
        try:
            self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as err:
            issue = ConfigIssue("state_dir", f"cannot create {self.path}: {err.strerror}")
            raise ConfigError([issue]) from None

    def room_secret(self) -> bytes:
        """The room secret; generated on first start with mode 0600, never logged."""
        path = self.path / SECRET_FILE
        try:
            data = path.read_bytes()
            if len(data) >= 32:
                return data
            self.set_aside(SECRET_FILE, f"{len(data)} bytes, too short to sign with")
        except FileNotFoundError:
            pass
        data = secrets.token_bytes(32)
        atomic_write(path, data, 0o600)
        return data

    def read_json(self, name: str, default: Any = None) -> Any:
        """The JSON document ``name``, or ``default`` when absent or unreadable (set aside)."""
        try:
            return json.loads((self.path / name).read_text())
        except FileNotFoundError:
            return default
        except ValueError as err:  # UnicodeDecodeError too
            self.set_aside(name, f"not JSON: {err}")
            return default

    def set_aside(self, name: str, why: str) -> Path:
        """Keep an unusable state file as ``name.bad-<time>`` for a person, and say so."""
        kept = self.path / f"{name}.bad-{time.strftime('%Y%m%dT%H%M%S')}"
        try:
            os.replace(self.path / name, kept)
        except OSError as err:  # still start: the next write replaces the file anyway
            logger.warning(
                "state file %s unusable (%s) and not set aside (%s); starting without it",
                self.path / name,
                why,
                err.strerror,
            )
            return self.path / name
        logger.warning(
            "state file %s unusable (%s); kept as %s, starting without it",
            self.path / name,
            why,
            kept.name,
        )
        return kept

    def write_json(self, name: str, value: Any) -> None:
        """Store ``value`` as ``name`` atomically."""
        atomic_write(self.path / name, json.dumps(value, indent=1).encode(), 0o600)
