"""Scenes: named lists of device commands and waits from ``config.scenes``.

``[[scenes.lesson]]`` tables are steps, either ``{device = "plug1", command = "power", on = true}``
or ``{wait_s = 2}``. Steps run in order; a failed step is reported and the rest still run, so
"end of day" switches off the speakers even when the projector is unreachable. A scene with a
bad step is disabled with a warning; the other scenes keep working.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from roomctl.core.errors import DeviceError
from roomctl.room import Room

logger = logging.getLogger(__name__)

MAX_WAIT_S = 600.0
STEP_TIMEOUT_S = 180.0  # a power-on during a projector's cool-down may wait this long


@dataclass(frozen=True)
class Step:
    """One step: a device command, or a pause when ``device`` is empty."""

    device: str = ""
    command: str = ""
    args: Mapping[str, Any] = field(default_factory=dict)
    wait_s: float = 0.0


@dataclass(frozen=True)
class StepResult:
    """What happened to one step; ``error`` is a stable key, ``detail`` a readable text."""

    index: int
    device: str
    command: str
    ok: bool
    error: str = ""
    detail: str = ""
    duration_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "index": self.index,
            "device": self.device,
            "command": self.command,
            "ok": self.ok,
            "error": self.error,
            "detail": self.detail,
            "duration_s": round(self.duration_s, 3),
        }


def parse_step(raw: Any) -> Step:
    """A Step from one TOML table; ValueError says which key is wrong."""
    if not isinstance(raw, Mapping):
        raise ValueError("a step must be a table")
    if "wait_s" in raw:
        wait = raw["wait_s"]
        if len(raw) != 1:
            raise ValueError("a wait step has only 'wait_s'")
        if isinstance(wait, bool) or not isinstance(wait, int | float):
            raise ValueError("'wait_s' must be a number of seconds")
        if not 0 <= wait <= MAX_WAIT_S:
            raise ValueError(f"'wait_s' must be between 0 and {MAX_WAIT_S:.0f}")
        return Step(wait_s=float(wait))
    device, command = raw.get("device"), raw.get("command")
    if not isinstance(device, str) or not device:
        raise ValueError("missing 'device' (or 'wait_s' for a pause)")
    if not isinstance(command, str) or not command:
        raise ValueError("missing 'command', e.g. command = \"power\"")
    args = {k: v for k, v in raw.items() if k not in ("device", "command")}
    return Step(device=device, command=command, args=args)


def parse_scene(raw: Any) -> tuple[Step, ...]:
    """Steps from a list of tables (or a table with ``steps = [...]``)."""
    if isinstance(raw, Mapping):
        raw = raw.get("steps", ())
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise ValueError("a scene is a list of steps ([[scenes.NAME]] tables)")
    steps = []
    for i, item in enumerate(raw):
        try:
            steps.append(parse_step(item))
        except ValueError as err:
            raise ValueError(f"step {i + 1}: {err}") from None
    return tuple(steps)


class Scenes:
    """Runs the configured scenes against the room's devices, one scene at a time."""

    def __init__(self, room: Room) -> None:
        self.room = room
        self.scenes: dict[str, tuple[Step, ...]] = {}
        self._lock = asyncio.Lock()
        for name, raw in room.config.scenes.items():
            source = f"scenes.{name}"
            try:
                self.scenes[name] = parse_scene(raw)
            except ValueError as err:
                room.warnings.add(source, "scene.invalid", f"scene disabled: {err}", scene=name)

    async def start(self) -> None:
        """Offer ``room.run_scene`` and check the scenes' device names."""
        self.room.hooks["run_scene"] = self.run_summary
        self.check_devices()

    async def stop(self) -> None:
        """Withdraw the hook; idempotent."""
        if self.room.hooks.get("run_scene") == self.run_summary:
            del self.room.hooks["run_scene"]

    async def run_summary(self, name: str) -> dict[str, Any]:
        """``run`` with a JSON-ready answer, for the web, MQTT and automation callers."""
        results = await self.run(name)
        steps = [r.to_dict() for r in results]
        return {"scene": name, "ok": all(r.ok for r in results), "steps": steps}

    def names(self) -> list[str]:
        """The usable scene names, in config order."""
        return list(self.scenes)

    def check_devices(self) -> None:
        """Warn about steps naming devices the room does not have (call once devices exist)."""
        for name, steps in self.scenes.items():
            missing = sorted({s.device for s in steps if s.device} - set(self.room.devices))
            if missing:
                message = f"unknown device(s): {', '.join(missing)}"
                self.room.warnings.add(f"scenes.{name}", "scene.unknown_device", message)

    async def run(self, name: str) -> list[StepResult]:
        """Run scene ``name`` step by step; KeyError when there is no such scene."""
        steps = self.scenes[name]
        async with self._lock:
            results = [await self._run_step(i, step) for i, step in enumerate(steps)]
        failed = [r for r in results if not r.ok]
        if failed:
            logger.warning("scene %s: %d of %d steps failed", name, len(failed), len(results))
        else:
            logger.info("scene %s: %d steps done", name, len(results))
        return results

    async def _run_step(self, index: int, step: Step) -> StepResult:
        started = time.monotonic()
        if not step.device:
            await asyncio.sleep(step.wait_s)
            return StepResult(index, "", "wait", True, duration_s=time.monotonic() - started)
        error, detail = "", ""
        try:
            async with asyncio.timeout(STEP_TIMEOUT_S):
                await self.room.device_command(step.device, step.command, **step.args)
        except KeyError:
            error, detail = "unknown_device", f"no device {step.device!r}"
        except TimeoutError:
            error, detail = "timeout", f"no result within {STEP_TIMEOUT_S:.0f} s"
        except DeviceError as err:
            error, detail = _error_key(err), str(err)
        except TypeError as err:  # arguments the command does not take
            error, detail = "bad_arguments", str(err)
        duration = time.monotonic() - started
        if error:
            logger.info(
                "scene step %d (%s %s) failed: %s", index + 1, step.device, step.command, error
            )
        return StepResult(index, step.device, step.command, not error, error, detail, duration)


def _error_key(err: DeviceError) -> str:
    """``Unavailable`` → ``unavailable``, ``CommandRejected`` → ``command_rejected``."""
    name = type(err).__name__
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
