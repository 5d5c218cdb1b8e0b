"""Build frozen dataclasses from TOML tables, collecting every error with its key path.

A section is a frozen dataclass; its fields' annotations are the schema. Unknown keys are
errors with a "did you mean …?" hint; ``RENAMED`` on a class maps old key names to new ones so
the message says what to write instead. Fields whose metadata has ``secret=True`` are masked
in the effective view.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from roomctl.core.errors import ConfigError, ConfigIssue

T = TypeVar("T")
MASK = "********"
# Keys masked wherever they appear in free-form tables such as ``[[devices]]``.
SECRET_KEYS = frozenset({"password", "token", "secret", "key_password", "pin"})


def secret(default: Any = None, **kw: Any) -> Any:
    """A dataclass field whose value is never shown or logged."""
    return dataclasses.field(default=default, metadata={"secret": True, **kw.pop("metadata", {})})


def described(default: Any, doc: str) -> Any:
    """A dataclass field with a one-line description for the config reference."""
    return dataclasses.field(default=default, metadata={"doc": doc})


class Collector:
    """Accumulates issues while parsing; raise ``error()`` when done."""

    def __init__(self, file: str = "") -> None:
        self.file = file
        self.issues: list[ConfigIssue] = []

    def add(self, path: str, message: str, hint: str = "") -> None:
        """Record one issue."""
        self.issues.append(ConfigIssue(path, message, self.file, hint))

    def raise_if_any(self) -> None:
        """Raise ConfigError carrying every collected issue."""
        if self.issues:
            raise ConfigError(self.issues)


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def suggest(key: str, known: typing.Iterable[str]) -> str:
    """A "did you mean" hint for ``key`` among ``known``, or ''."""
    match = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    return f"did you mean '{match[0]}'?" if match else ""


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Literal:
        return " or ".join(repr(a) for a in get_args(tp))
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in get_args(tp) if a is not type(None))
    if origin in (tuple, list):
        return f"a list of {_type_name(get_args(tp)[0])}"
    if origin in (dict, Mapping):
        return "a table"
    if dataclasses.is_dataclass(tp):
        return "a table"
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(
        tp, getattr(tp, "__name__", str(tp))
    )


_MISSING = object()


def convert(tp: Any, value: Any, path: str, col: Collector) -> Any:
    """Convert ``value`` to ``tp``; on failure record an issue and return _MISSING."""
    origin = get_origin(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            trial = Collector(col.file)
            out = convert(arg, value, path, trial)
            if not trial.issues:
                return out
        col.add(path, f"expected {_type_name(tp)}, got {value!r}")
        return _MISSING
    if origin is Literal:
        if value in get_args(tp):
            return value
        hint = suggest(str(value), [str(a) for a in get_args(tp)])
        col.add(path, f"must be {_type_name(tp)}, got {value!r}", hint)
        return _MISSING
    if origin in (tuple, list):
        if not isinstance(value, list | tuple):
            col.add(path, f"expected {_type_name(tp)}, got {value!r}")
            return _MISSING
        item_tp = get_args(tp)[0]
        items = [convert(item_tp, v, _join(path, i), col) for i, v in enumerate(value)]
        return tuple(i for i in items if i is not _MISSING)
    if origin in (dict, Mapping):
        if not isinstance(value, Mapping):
            col.add(path, f"expected a table, got {value!r}")
            return _MISSING
        _, val_tp = get_args(tp) or (str, Any)
        out = {str(k): convert(val_tp, v, _join(path, str(k)), col) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not _MISSING}
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if not isinstance(value, Mapping):
            col.add(path, f"expected a table, got {value!r}")
            return _MISSING
        return build(tp, value, path, col)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(value)
        except ValueError:
            names = [str(m.value) for m in tp]
            hint = suggest(str(value), names)
            col.add(path, f"must be one of {', '.join(names)}, got {value!r}", hint)
            return _MISSING
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif tp is str:
        if isinstance(value, str):
            return value
    else:
        return value
    col.add(path, f"expected {_type_name(tp)}, got {value!r}")
    return _MISSING


def build(cls: type[T], data: Mapping[str, Any], path: str, col: Collector) -> T:
    """Build dataclass ``cls`` from ``data``; issues go to ``col``; bad fields keep defaults."""
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    renamed: Mapping[str, str] = getattr(cls, "RENAMED", {})
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        sub = _join(path, key)
        if key not in fields:
            if key in renamed:
                col.add(sub, "unknown key", f"'{key}' was renamed to '{renamed[key]}'")
            else:
                col.add(sub, "unknown key", suggest(key, fields))
            continue
        out = convert(hints[key], value, sub, col)
        if out is not _MISSING:
            kwargs[key] = out
    for name, f in fields.items():
        if (
            name not in kwargs
            and f.default is dataclasses.MISSING
            and (f.default_factory is dataclasses.MISSING)
        ):
            if name in data:
                kwargs[name] = _placeholder(hints[name])
            else:
                col.add(_join(path, name), "required key is missing")
                kwargs[name] = _placeholder(hints[name])
    obj = cls(**kwargs)
    check = getattr(obj, "validate", None)
    if callable(check):
        for key, message in check():
            col.add(_join(path, key), message)
    return obj


def _placeholder(tp: Any) -> Any:
    origin = get_origin(tp)
    if origin in (tuple, list):
        return ()
    if origin in (dict, Mapping):
        return {}
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        try:
            return tp()
        except TypeError:
            return None
    return {str: "", int: 0, float: 0.0, bool: False}.get(tp)


def parse(cls: type[T], data: Mapping[str, Any], *, path: str = "", file: str = "") -> T:
    """Build ``cls`` from ``data`` or raise ConfigError with every issue."""
    col = Collector(file)
    obj = build(cls, data, path, col)
    col.raise_if_any()
    return obj


def effective(obj: Any) -> Any:
    """A plain dict/list view of a config object with secret fields masked."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if f.metadata.get("secret") and value:
                out[f.name] = MASK
            else:
                out[f.name] = effective(value)
        return out
    if isinstance(obj, Mapping):
        return {k: MASK if k in SECRET_KEYS and v else effective(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [effective(v) for v in obj]
    if isinstance(obj, enum.Enum):
        return obj.value
    return obj
