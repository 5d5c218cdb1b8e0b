"""Optional Home Assistant MQTT discovery (``homeassistant = true``): a view, not the contract.

Publishes one retained device-discovery message that points Home Assistant's entities at
our own ``status`` and ``state`` topics, and re-publishes it when Home Assistant restarts.
"""

from __future__ import annotations

from typing import Any

from roomctl.telemetry.topics import Topics

STATUS_TOPIC = "homeassistant/status"


def discovery_topic(device_id: str) -> str:
    """Where the device discovery message goes."""
    return f"homeassistant/device/{device_id}/config"


def discovery(topics: Topics, room_name: str, sw: str) -> dict[str, Any]:
    """The device-discovery payload: projector power, lamp hours, casting and mode."""
    dev = topics.device_id
    state = topics.state

    def component(platform: str, key: str, template: str, **extra: Any) -> dict[str, Any]:
        return {
            "p": platform,
            "unique_id": f"{dev}_{key}",
            "name": key.replace("_", " "),
            "stat_t": state,
            "val_tpl": template,
            **extra,
        }

    return {
        "dev": {
            "ids": [dev],
            "name": room_name or dev,
            "mf": "roomctl",
            "mdl": "roomctl",
            "sw": sw,
        },
        "o": {"name": "roomctl", "sw": sw},
        "avty": [
            {"t": topics.status, "val_tpl": "{{ 'online' if value_json.online else 'offline' }}"}
        ],
        "cmps": {
            "projector_power": component(
                "binary_sensor",
                "projector_power",
                "{{ 'ON' if value_json.projector and value_json.projector.power == 'on' "
                "else 'OFF' }}",
            ),
            "lamp_hours": component(
                "sensor",
                "lamp_hours",
                "{{ value_json.projector.lamp_hours if value_json.projector else none }}",
                unit_of_measurement="h",
            ),
            "casting": component(
                "binary_sensor", "casting", "{{ 'ON' if value_json.cast.active else 'OFF' }}"
            ),
            "mode": component("sensor", "mode", "{{ value_json.mode }}"),
        },
    }
