"""Room air: the latest sensor readings in the snapshot and the "air the room" notice.

Readings come from ``DeviceStateChanged`` events of any device reporting air readings (the
miio air monitor's ``co2_ppm``, ``pm25_ug_m3``, ...). When CO2 stays at or above
``environment.co2_threshold_ppm`` for ``co2_sustain_min`` minutes the display shows the notice
``notice.air_the_room`` and ``SensorThreshold(active=True)`` is published; once CO2 falls
``CLEAR_MARGIN_PPM`` below the threshold the notice goes and ``active=False`` follows, so a
value hovering at the threshold does not make the notice flicker.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from roomctl.core.bus import Event
from roomctl.core.events import DeviceStateChanged, SensorThreshold
from roomctl.room import Room

logger = logging.getLogger(__name__)

AIR_READINGS = ("co2_ppm", "pm25_ug_m3", "tvoc", "temperature_c", "humidity_pct")
CO2 = "co2_ppm"
NOTICE = "notice.air_the_room"
NOTICE_S = 900.0  # shown this long, refreshed while CO2 stays high
CLEAR_MARGIN_PPM = 50.0
MINUTE_S = 60.0  # tests patch this down


@dataclass
class _Sensor:
    readings: dict[str, float]
    updated: float  # time.time()
    high_since: float | None = None  # clock() when CO2 first reached the threshold
    active: bool = False
    notice_until: float = 0.0
    timer: asyncio.TimerHandle | None = None  # re-checks a steady value when sustain ends


class Environment:
    """Watches device readings on ``room.bus``; a Service (``start``/``stop``)."""

    def __init__(self, room: Room, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.room = room
        self.threshold = float(room.config.environment.co2_threshold_ppm)
        self.sustain_min = float(room.config.environment.co2_sustain_min)
        self._clock = clock
        self._sensors: dict[str, _Sensor] = {}
        self._unlisten: Callable[[], None] | None = None

    async def start(self) -> None:
        """Listen for device states and add the ``environment`` snapshot part."""
        self.room.add_snapshot_part("environment", self.snapshot)
        if self._unlisten is None:
            self._unlisten = self.room.bus.listen(self._on_event, DeviceStateChanged)

    async def stop(self) -> None:
        """Stop listening; idempotent."""
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        for sensor in self._sensors.values():
            self._cancel(sensor)

    @property
    def co2_high(self) -> bool:
        """Whether any sensor has CO2 sustained above the threshold right now."""
        return any(s.active for s in self._sensors.values())

    def snapshot(self) -> dict[str, Any]:
        """Numbers only: the latest air readings, the threshold and whether CO2 is high."""
        latest = max(self._sensors.values(), key=lambda s: s.updated, default=None)
        return {
            "readings": dict(latest.readings) if latest else {},
            "sensors": {i: dict(s.readings) for i, s in self._sensors.items()},
            "co2_high": self.co2_high,
            "co2_threshold_ppm": self.threshold,
            "updated": round(latest.updated) if latest else None,
        }

    def _on_event(self, event: Event) -> None:
        assert isinstance(event, DeviceStateChanged)
        readings = getattr(event.state, "readings", None) or {}
        air = {
            k: float(v)
            for k, v in readings.items()
            if k in AIR_READINGS and isinstance(v, int | float) and not isinstance(v, bool)
        }
        if air:
            self.update(event.device_id, air)

    def update(self, device_id: str, readings: dict[str, float]) -> None:
        """Take new readings from ``device_id`` and re-evaluate the CO2 notice."""
        sensor = self._sensors.setdefault(device_id, _Sensor({}, 0.0))
        sensor.readings, sensor.updated = readings, time.time()
        co2 = readings.get(CO2)
        if co2 is not None:
            self._evaluate(device_id, sensor, co2)
        self.room.changed("environment")

    def _evaluate(self, device_id: str, sensor: _Sensor, co2: float) -> None:
        now = self._clock()
        sustain_s = self.sustain_min * MINUTE_S
        if co2 >= self.threshold:
            if sensor.high_since is None:
                sensor.high_since = now
                self._schedule(device_id, sensor, sustain_s)
            if now - sensor.high_since >= sustain_s:
                self._activate(device_id, sensor, co2, now)
        elif co2 < self.threshold - CLEAR_MARGIN_PPM:
            sensor.high_since = None
            self._cancel(sensor)
            if sensor.active:
                self._deactivate(device_id, sensor, co2)

    def _schedule(self, device_id: str, sensor: _Sensor, delay_s: float) -> None:
        """Re-evaluate after ``delay_s``: a sensor may report the same value without events."""
        self._cancel(sensor)
        loop = asyncio.get_running_loop()
        sensor.timer = loop.call_later(delay_s, self._recheck, device_id)

    def _cancel(self, sensor: _Sensor) -> None:
        if sensor.timer is not None:
            sensor.timer.cancel()
            sensor.timer = None

    def _recheck(self, device_id: str) -> None:
        sensor = self._sensors.get(device_id)
        if sensor is not None and sensor.readings.get(CO2) is not None:
            sensor.timer = None
            self._evaluate(device_id, sensor, sensor.readings[CO2])

    def _activate(self, device_id: str, sensor: _Sensor, co2: float, now: float) -> None:
        if not sensor.active:
            sensor.active = True
            logger.info(
                "%s: CO2 %.0f ppm sustained, showing the air-the-room notice", device_id, co2
            )
            self._publish(device_id, co2, True)
        if now >= sensor.notice_until - NOTICE_S / 2:  # keep it up without re-sending each poll
            sensor.notice_until = now + NOTICE_S
            self.room.show_message(NOTICE, NOTICE_S, kind="notice")

    def _deactivate(self, device_id: str, sensor: _Sensor, co2: float) -> None:
        sensor.active, sensor.notice_until = False, 0.0
        logger.info("%s: CO2 back to %.0f ppm", device_id, co2)
        self._publish(device_id, co2, False)
        if not self.co2_high:
            self._clear_notice()

    def _publish(self, device_id: str, co2: float, active: bool) -> None:
        event = SensorThreshold(
            device_id=device_id, reading=CO2, value=co2, threshold=self.threshold, active=active
        )
        self.room.bus.publish(event)

    def _clear_notice(self) -> None:
        self.room.clear_message("notice", NOTICE)  # only our own notice
