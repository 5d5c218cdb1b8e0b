"""What changed between two states of a device, as the events the coordinator publishes.

Pure: no bus, no clock. ``LifeWatch`` remembers which parts were already reported past their
warning threshold, so a lamp is reported once (and again after it is replaced).
"""

from __future__ import annotations

from roomctl.core.bus import Event
from roomctl.core.events import (
    DeviceStateChanged,
    LampThreshold,
    ProjectorError,
    ProjectorErrorCleared,
    ProjectorInput,
    ProjectorPower,
)
from roomctl.drivers.base import Capabilities, DeviceState

LAMP_WARN_FRACTION = 0.9  # warn when 90 % of the rated life is used


def state_events(device_id: str, old: DeviceState, new: DeviceState) -> list[Event]:
    """The state change itself, then power, input and error changes."""
    events: list[Event] = [DeviceStateChanged(device_id=device_id, state=new)]
    if new.power != old.power:
        events.append(
            ProjectorPower(device_id=device_id, power=str(new.power), previous=str(old.power))
        )
    if new.input != old.input and new.input is not None:
        events.append(ProjectorInput(device_id=device_id, input=new.input))
    for code, detail in new.errors.items():
        if old.errors.get(code) != detail:
            events.append(ProjectorError(device_id=device_id, code=code, detail=detail))
    for code in old.errors.keys() - new.errors.keys():
        events.append(ProjectorErrorCleared(device_id=device_id, code=code))
    return events


class LifeWatch:
    """Lamp and filter hours against their rated life, reported once per part."""

    def __init__(self) -> None:
        self._warned: set[str] = set()

    def check(self, device_id: str, state: DeviceState, caps: Capabilities) -> list[Event]:
        """A ``LampThreshold`` for each part that has just passed its warning point."""
        parts = (
            ("lamp", state.lamp_hours, caps.rated_lamp_hours),
            ("filter", state.filter_hours, caps.rated_filter_hours),
        )
        events: list[Event] = []
        for part, hours, rated in parts:
            if hours is None or not rated:
                continue
            over = hours >= rated * LAMP_WARN_FRACTION
            if over and part not in self._warned:
                self._warned.add(part)
                events.append(
                    LampThreshold(device_id=device_id, part=part, hours=hours, rated_hours=rated)
                )
            elif not over:
                self._warned.discard(part)  # a new lamp: warn again next time
        return events
