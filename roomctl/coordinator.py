"""One coordinator per device: command queue, polling, lockouts, availability, backoff.

A single worker task owns the driver, so polls and commands never overlap (PJLink and most
serial protocols allow one command at a time). Driver errors map to three outcomes:
``NotReady`` → retry with backoff; ``AuthenticationFailed`` → needs a person;
``Unavailable``/``ProtocolError`` (or anything unexpected) → unavailable, reconnect with
backoff, recovers by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from roomctl.core.bus import EventBus
from roomctl.core.errors import (
    AuthenticationFailed,
    CommandRejected,
    DeviceError,
    NotReady,
    ProtocolError,
    Unavailable,
)
from roomctl.core.events import DeviceAvailability
from roomctl.core.tasks import cancel
from roomctl.device_events import LifeWatch, state_events
from roomctl.drivers.base import Capabilities, Capability, DeviceState, Driver, Power

logger = logging.getLogger(__name__)

TRANSITIONAL = {Power.WARMING: "warming", Power.COOLING: "cooling"}


@dataclass(frozen=True)
class Timing:
    """Timing of one coordinator; tests patch these down to milliseconds."""

    poll_s: float = 10.0  # PJLink asks for ≥10 s between polls
    busy_poll_s: float = 2.0  # while warming/cooling, to notice the end of a lockout
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0
    auth_retry_s: float = 300.0  # a wrong password will not fix itself soon
    command_timeout_s: float = 15.0
    connect_timeout_s: float = 60.0  # connect learns inputs and model: ~10 requests of ≤2 s
    not_ready_give_up_s: float = 120.0  # a command that keeps getting "busy" fails after this


@dataclass
class _Job:
    name: str
    args: dict[str, Any]
    future: asyncio.Future[None]
    queued_at: float = dataclasses.field(default_factory=time.monotonic)
    retry_at: float = 0.0


class Coordinator:
    """Owns one driver: the last good state, availability, last error and a FIFO of commands."""

    def __init__(
        self,
        device_id: str,
        driver: Driver,
        bus: EventBus,
        *,
        role: str = "display",
        ready_input: str | None = None,
        timing: Timing | None = None,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.device_id = device_id
        self.role = role
        self.driver = driver
        self.bus = bus
        self.ready_input = ready_input
        self.timing = timing or Timing()
        self._on_change = on_change
        self.state = DeviceState()
        self.available = False
        self.last_error = ""
        self.needs_attention = False
        self._connected = False
        self._failures = 0
        self._retry_at = 0.0
        self._next_poll = 0.0
        self._lock_until = 0.0
        self._reports_transitions = False
        self._assumed = False  # the power state is our guess after a command, not a report
        self._queue: deque[_Job] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._life = LifeWatch()

    @property
    def capabilities(self) -> Capabilities:
        """The driver's declared capabilities (drivers may refine them once connected)."""
        return self.driver.capabilities

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the worker task; the first connect and poll happen in the background."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"coordinator:{self.device_id}")

    async def stop(self) -> None:
        """Stop the worker, fail queued commands and close the driver."""
        task, self._task = self._task, None
        await cancel(task)
        while self._queue:
            job = self._queue.popleft()
            if not job.future.done():
                job.future.set_exception(Unavailable("device layer stopped"))
        await self._disconnect()

    # -- the DeviceHandle protocol -------------------------------------------------------------

    async def command(self, name: str, **args: Any) -> None:
        """Queue one command and wait for its result (raises the DeviceError family)."""
        await self.enqueue(name, **args)

    def enqueue(self, name: str, **args: Any) -> asyncio.Future[None]:
        """Queue one command; the returned future resolves when it has run."""
        if self._task is None:
            raise Unavailable("device layer not running")
        if self.needs_attention:
            raise AuthenticationFailed(self.last_error or "authentication failed")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append(_Job(name, dict(args), future))
        self._wake.set()
        self._changed()
        return future

    async def make_ready(self) -> dict[str, Any]:
        """Power on and queue the configured input; returns power, warming_s and input."""
        if self.capabilities.has(Capability.POWER) and self.state.power not in (
            Power.ON,
            Power.WARMING,
        ):
            await self.command("power", on=True)
        if self.ready_input and self.state.input != self.ready_input:
            self.enqueue("input", input=self.ready_input).add_done_callback(self._log_ready)
        lockout = self.lockout()
        warming = lockout["seconds_left"] if lockout and lockout["reason"] == "warming" else 0
        return {"power": str(self.state.power), "warming_s": warming, "input": self.ready_input}

    def poll_soon(self) -> None:
        """Poll at the next chance (a status notification said something changed)."""
        self._next_poll = 0.0
        self._wake.set()

    def snapshot(self) -> dict[str, Any]:
        """JSON-ready view: state, capabilities, availability, last error, lockout, queue."""
        caps = self.capabilities
        return {
            "id": self.device_id,
            "role": self.role,
            "state": self.state.to_dict(),
            "capabilities": {
                "features": sorted(str(f) for f in caps.features),
                "inputs": list(caps.inputs),
                "volume_range": list(caps.volume_range),
                "rated_lamp_hours": caps.rated_lamp_hours,
                "rated_filter_hours": caps.rated_filter_hours,
            },
            "available": self.available,
            "last_error": self.last_error,
            "needs_attention": self.needs_attention,
            "lockout": self.lockout(),
            "queued": len(self._queue),
            "pending": [job.name for job in self._queue if not job.future.done()],
        }

    def lockout(self) -> dict[str, Any] | None:
        """{"reason": "warming"|"cooling", "seconds_left": n} while power commands must wait."""
        reason = TRANSITIONAL.get(self.state.power)
        left = self._lock_until - time.monotonic()
        if reason is None or (left <= 0 and not self._reports_transitions):
            return None  # a device that cannot report transitions: trust the configured time
        return {"reason": reason, "seconds_left": max(0, round(left))}

    # -- the worker --------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            try:
                await self._step()
            except asyncio.CancelledError:
                raise
            except Exception as err:  # a driver bug must not end the device's coordinator
                if self._failures == 0:
                    logger.warning("%s: unexpected driver error", self.device_id, exc_info=True)
                await self._failed(ProtocolError(f"unexpected {type(err).__name__}"))

    async def _step(self) -> None:
        now = time.monotonic()
        if not self._connected:
            if now < self._retry_at:
                self._fail_queued_if_down()
                await self._sleep(self._retry_at - now)
                return
            if not await self._guard(self._connect()):
                return
        if self._assumed and self.lockout() is None:
            self._assumed = False
            await self._guard(self._poll())  # an assumed transition ended: read the real state
            return
        job = self._next_job(now)
        if job is not None:
            await self._run_job(job)
        elif now >= self._next_poll:
            await self._guard(self._poll())
        else:
            await self._sleep(self._next_wake(now) - now)

    def _next_job(self, now: float) -> _Job | None:
        """The head of the queue if it may run now (not locked out, not backing off)."""
        while self._queue:
            job = self._queue[0]
            if job.future.done():  # cancelled by its caller
                self._queue.popleft()
            elif not self._blocked(job):
                return None if job.retry_at > now else job
            elif _already_heading(job, self.state.power):
                self._finish(job, None)
            elif now - job.queued_at > self.timing.not_ready_give_up_s:
                self._finish(job, NotReady(f"still {self.lockout_reason()}"))
            else:
                return None
        return None

    def lockout_reason(self) -> str:
        """The lockout reason ("warming", "cooling") or an empty string."""
        lock = self.lockout()
        return str(lock["reason"]) if lock else ""

    def _blocked(self, job: _Job) -> bool:
        """Whether ``job`` must wait for a warm-up or cool-down to end."""
        return self.lockout() is not None and job.name in ("power", "input")

    def _next_wake(self, now: float) -> float:
        wake = self._next_poll
        if self._queue:
            head = self._queue[0]
            if self._blocked(head):
                wake = min(wake, now + self.timing.busy_poll_s)
                if not self._reports_transitions:
                    wake = min(wake, self._lock_until)
            else:
                wake = min(wake, head.retry_at)
        return wake

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, seconds)):
                await self._wake.wait()

    async def _connect(self) -> None:
        async with asyncio.timeout(self.timing.connect_timeout_s):
            await self.driver.connect()
        self._connected = True
        await self._poll()

    async def _disconnect(self) -> None:
        self._connected = False
        try:
            await self.driver.close()
        except Exception:  # closing a broken transport may fail; nothing left to do then
            logger.debug("%s: close failed", self.device_id, exc_info=True)

    async def _poll(self) -> None:
        async with asyncio.timeout(self.timing.command_timeout_s):
            state = await self.driver.poll()
        self._succeeded()
        self._apply(state, reported=True)
        busy = self.state.power in TRANSITIONAL or bool(self._queue)
        self._next_poll = time.monotonic() + (
            self.timing.busy_poll_s if busy else self.timing.poll_s
        )

    async def _guard(self, work: Any) -> bool:
        """Await ``work``; map a failure to availability; True on success."""
        try:
            await work
        except NotReady as err:
            self._next_poll = time.monotonic() + self._backoff_s(err)
            if not self._connected:
                self._retry_at = self._next_poll
            return False
        except (DeviceError, TimeoutError, OSError) as err:
            await self._failed(err)
            return False
        return True

    async def _run_job(self, job: _Job) -> None:
        try:
            async with asyncio.timeout(self.timing.command_timeout_s):
                await self.driver.command(job.name, **job.args)
        except NotReady as err:
            if time.monotonic() - job.queued_at > self.timing.not_ready_give_up_s:
                self._finish(job, err)
            else:
                job.retry_at = time.monotonic() + self._backoff_s(err)
            return
        except CommandRejected as err:
            self._finish(job, err)
            return
        except (DeviceError, TimeoutError, OSError) as err:
            self._finish(job, _as_device_error(err))
            await self._failed(err)
            return
        self._finish(job, None)
        self._after_command(job)
        self._next_poll = time.monotonic()  # read back what the command changed

    def _finish(self, job: _Job, err: BaseException | None) -> None:
        if self._queue and self._queue[0] is job:
            self._queue.popleft()
        if not job.future.done():
            if err is None:
                job.future.set_result(None)
            else:
                job.future.set_exception(err)
        self._changed()

    def _after_command(self, job: _Job) -> None:
        """Assume the state a successful power command leads to until a poll says otherwise."""
        if job.name != "power":
            return
        caps = self.capabilities
        on = bool(job.args.get("on"))
        self._assumed = True
        if on and self.state.power in (Power.OFF, Power.UNKNOWN, Power.COOLING):
            self._lock_until = time.monotonic() + caps.warmup_s
            self._apply(dataclasses.replace(self.state, power=_after(on, caps)))
        elif not on and self.state.power in (Power.ON, Power.UNKNOWN, Power.WARMING):
            self._lock_until = time.monotonic() + caps.cooldown_s
            self._apply(dataclasses.replace(self.state, power=_after(on, caps)))

    def _backoff_s(self, err: Exception | None = None) -> float:
        hint = getattr(err, "retry_after_s", None)
        if hint:
            return float(hint)
        return min(self.timing.backoff_max_s, self.timing.busy_poll_s)

    # -- availability ----------------------------------------------------------------------

    async def _failed(self, err: BaseException) -> None:
        await self._disconnect()
        self._failures += 1
        message = _describe(err)
        auth = isinstance(err, AuthenticationFailed)
        delay = self.timing.backoff_initial_s * 2 ** min(self._failures - 1, 16)
        self._retry_at = time.monotonic() + (
            self.timing.auth_retry_s if auth else min(delay, self.timing.backoff_max_s)
        )
        self.last_error, self.needs_attention = message, auth
        if self._failures == 1:  # one line per failure streak
            logger.warning("%s: unavailable: %s", self.device_id, message)
            self.available = False
            self.bus.publish(
                DeviceAvailability(device_id=self.device_id, available=False, error=message)
            )
        self._fail_queued_if_down()
        self._changed()

    def _succeeded(self) -> None:
        if self.available:
            return
        if self._failures:
            logger.info("%s: recovered after %d failures", self.device_id, self._failures)
        self._failures = 0
        self.available, self.needs_attention = True, False
        self.bus.publish(DeviceAvailability(device_id=self.device_id, available=True))
        self._changed()

    def _fail_queued_if_down(self) -> None:
        """While unavailable, commands fail at once instead of waiting for a reconnect."""
        if self.available:
            return
        while self._queue:
            job = self._queue.popleft()
            if not job.future.done():
                kind = AuthenticationFailed if self.needs_attention else Unavailable
                job.future.set_exception(kind(self.last_error or "device unavailable"))

    # -- state and events ------------------------------------------------------------------

    def _apply(self, new: DeviceState, reported: bool = False) -> None:
        old = self.state
        if new.power in TRANSITIONAL:
            self._reports_transitions = self._reports_transitions or reported
        elif (
            old.power in TRANSITIONAL
            and not self._reports_transitions
            and time.monotonic() < self._lock_until
        ):  # a device that only reports on/off: keep the assumed transition until it ends
            new = dataclasses.replace(new, power=old.power)
        if new == old:
            return
        self.state = new
        self._publish(old, new)
        self._changed()

    def _publish(self, old: DeviceState, new: DeviceState) -> None:
        if new.power in TRANSITIONAL and old.power not in TRANSITIONAL:
            caps = self.capabilities
            span = caps.warmup_s if new.power is Power.WARMING else caps.cooldown_s
            self._lock_until = max(self._lock_until, time.monotonic() + span)
        events = state_events(self.device_id, old, new)
        for event in events + self._life.check(self.device_id, new, self.capabilities):
            self.bus.publish(event)

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

    def _log_ready(self, future: asyncio.Future[None]) -> None:
        if not future.cancelled() and future.exception() is not None:
            logger.warning(
                "%s: selecting input failed: %s", self.device_id, _describe(future.exception())
            )


def _already_heading(job: _Job, power: Power) -> bool:
    """A power-on during warm-up (or off during cool-down) is already happening."""
    if job.name != "power":
        return False
    on = bool(job.args.get("on"))
    return (on and power is Power.WARMING) or (not on and power is Power.COOLING)


def _after(on: bool, caps: Capabilities) -> Power:
    if on:
        return Power.WARMING if caps.warmup_s > 0 else Power.ON
    return Power.COOLING if caps.cooldown_s > 0 else Power.OFF


def _as_device_error(err: BaseException) -> DeviceError:
    if isinstance(err, DeviceError):
        return err
    if isinstance(err, TimeoutError):
        return Unavailable("no reply")
    return Unavailable(str(err) or type(err).__name__)


def _describe(err: BaseException | None) -> str:
    """A log- and UI-safe description: the error's type and message, never arguments."""
    if err is None:
        return ""
    if isinstance(err, TimeoutError):
        return "no reply (timeout)"
    text = str(err)
    return f"{type(err).__name__}: {text}" if text else type(err).__name__
