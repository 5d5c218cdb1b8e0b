"""Load firmware profiles from TOML; every problem is reported with its file and key."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from functools import cache
from pathlib import Path

from roomctl.config import schema as cfg
from roomctl.core.errors import ConfigError, ProfileError
from roomctl.profiles.schema import Profile
from roomctl.resources import profiles_dir


class ProfileErrors(ProfileError):
    """Several problems in one profile file; ``issues`` holds (key, message) pairs."""

    def __init__(self, file: str, issues: list[tuple[str, str]]) -> None:
        self.issues = tuple(issues)
        key, message = self.issues[0]
        super().__init__(message, file=file, key=key)
        self.args = ("\n".join(f"{file}: {k}: {m}" for k, m in self.issues),)


def profile_id(path: Path, root: Path | None = None) -> str:
    """``<vendor>/<family>`` from a path under the profiles folder (or the file's own folder)."""
    root = root or profiles_dir()
    try:
        rel = path.resolve().relative_to(root.resolve())
    except ValueError:
        rel = Path(path.parent.name) / path.name
    return rel.with_suffix("").as_posix()


def load_file(path: Path, root: Path | None = None) -> Profile:
    """Parse and validate one profile file; raise ProfileError naming file, key and problem."""
    file = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ProfileError(f"cannot read: {err.strerror}", file=file) from err
    except UnicodeDecodeError as err:
        raise ProfileError("not UTF-8 text", file=file) from err
    except tomllib.TOMLDecodeError as err:
        raise ProfileError(f"invalid TOML: {err}", file=file) from err
    if "id" in data:
        raise ProfileError("'id' is derived from the file path; remove it", file=file, key="id")
    try:
        profile = cfg.parse(Profile, data, file=file)
    except ConfigError as err:
        issues = [(i.path, _message(i.message, i.hint)) for i in err.issues]
        raise ProfileErrors(file, issues) from err
    return replace(profile, id=profile_id(path, root))


def _message(message: str, hint: str) -> str:
    return f"{message} ({hint})" if hint else message


def shipped_files(root: Path | None = None) -> list[Path]:
    """Every ``<vendor>/<family>.toml`` under the profiles folder, sorted."""
    root = root or profiles_dir()
    return sorted(p for p in root.glob("*/*.toml") if p.is_file())


def load_all(root: Path | None = None) -> dict[str, Profile]:
    """Every shipped profile by id; the first bad file raises ProfileError."""
    return {p.id: p for p in (load_file(f, root) for f in shipped_files(root))}


@cache
def get(profile_id_: str) -> Profile:
    """The shipped profile ``<vendor>/<family>``; ProfileError if there is none."""
    root = profiles_dir()
    path = root / f"{profile_id_}.toml"
    if "/" not in profile_id_ or ".." in profile_id_ or not path.is_file():
        known = [profile_id(f, root) for f in shipped_files(root)]
        hint = cfg.suggest(profile_id_, known)
        raise ProfileError(f"unknown profile {profile_id_!r}" + (f"; {hint}" if hint else ""))
    return load_file(path, root)
