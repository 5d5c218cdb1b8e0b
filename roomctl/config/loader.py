"""Read a TOML config file into ``Config``, naming the file, the key and the problem."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from roomctl.config.model import Config
from roomctl.config.schema import Collector, build
from roomctl.core.errors import ConfigError, ConfigIssue


def read_toml(path: Path) -> dict[str, Any]:
    """Parse ``path`` as TOML or raise ConfigError naming the file and the line."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError([ConfigIssue("", "file not found", str(path))]) from None
    except PermissionError:
        raise ConfigError([ConfigIssue("", "permission denied", str(path))]) from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError([ConfigIssue("", f"not valid TOML: {err}", str(path))]) from None


def load_config(path: str | Path) -> Config:
    """Load and validate the appliance config; every issue is reported at once."""
    path = Path(path)
    data = read_toml(path)
    return parse_config(data, file=str(path))


def parse_config(data: dict[str, Any], *, file: str = "") -> Config:
    """Validate a parsed config mapping; raise ConfigError with every issue."""
    col = Collector(file)
    cfg = build(Config, data, "", col)
    col.raise_if_any()
    return cfg
