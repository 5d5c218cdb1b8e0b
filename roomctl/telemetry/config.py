"""The ``[mqtt]`` config section (owned by the telemetry adapter)."""

from __future__ import annotations

from dataclasses import dataclass

from roomctl.config.schema import described, secret


@dataclass(frozen=True)
class MqttConfig:
    """Connection to the central MQTT broker; telemetry is off when ``url`` is empty."""

    url: str = described("", "mqtt://host:1883 or mqtts://host:8883; empty disables telemetry")
    device_id: str = described("", "rc-<hex>; generated at first start when empty")
    username: str = ""
    password: str = secret("")
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    keepalive_s: int = 30
    will_delay_s: int = 10
    state_refresh_s: int = 300
    metrics_interval_s: int = 60
    outbox_max_events: int = 50_000
    outbox_max_age_days: int = 30
    homeassistant: bool = False

    def validate(self) -> list[tuple[str, str]]:
        """Cross-field checks: (key, message) pairs."""
        problems = []
        if self.url and not self.url.startswith(("mqtt://", "mqtts://")):
            problems.append(("url", "must start with mqtt:// or mqtts://"))
        if self.device_id and not self.device_id.startswith("rc-"):
            problems.append(("device_id", "must look like rc-<hex>"))
        if self.keepalive_s < 5:
            problems.append(("keepalive_s", "must be at least 5"))
        return problems
