"""The ``[mqtt]`` config section (owned by the telemetry adapter)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from roomctl.config.schema import described, secret

DEVICE_ID = re.compile(r"^rc-[0-9a-f]{4,32}$")


@dataclass(frozen=True)
class MqttConfig:
    """Connection to the central MQTT broker; telemetry is off when ``url`` is empty."""

    url: str = described("", "mqtt://host:1883 or mqtts://host:8883; empty disables telemetry")
    device_id: str = described("", "rc-<hex>; generated at first start when empty")
    username: str = described("", "defaults to device_id (the broker ACL pins %u)")
    password: str = secret("")
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    keepalive_s: int = 30
    will_delay_s: int = 10
    session_expiry_s: int = described(3600, "broker keeps our subscriptions this long offline")
    state_refresh_s: int = 300
    state_min_interval_s: float = described(1.0, "state is coalesced to at most one per this")
    metrics_interval_s: int = 60
    outbox_max_events: int = 50_000
    outbox_max_age_days: int = 30
    replay_rate: int = described(2000, "events per second at most from the outbox to MQTT")
    reconnect_min_s: float = described(1.0, "first reconnect delay; a random extra is added")
    reconnect_jitter_s: float = described(14.0, "random 0..this added per device to the delay")
    reconnect_max_s: float = 300.0
    homeassistant: bool = described(False, "publish Home Assistant MQTT discovery")

    def validate(self) -> list[tuple[str, str]]:
        """Cross-field checks: (key, message) pairs."""
        problems = []
        if self.url:
            parts = urlsplit(self.url)
            if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
                problems.append(("url", "must look like mqtt://host:port or mqtts://host:port"))
        if self.device_id and not DEVICE_ID.match(self.device_id):
            problems.append(("device_id", "must look like rc-<lowercase hex>"))
        if self.keepalive_s < 5:
            problems.append(("keepalive_s", "must be at least 5"))
        if bool(self.cert_file) != bool(self.key_file):
            problems.append(("cert_file", "cert_file and key_file go together"))
        if self.session_expiry_s < self.will_delay_s:
            problems.append(("session_expiry_s", "must be at least will_delay_s"))
        if self.replay_rate < 1:
            problems.append(("replay_rate", "must be at least 1"))
        return problems

    @property
    def enabled(self) -> bool:
        """Whether telemetry is configured at all."""
        return bool(self.url)

    @property
    def tls(self) -> bool:
        """Whether the connection uses TLS (``mqtts://``)."""
        return self.url.startswith("mqtts://")

    def host_port(self) -> tuple[str, int]:
        """Broker host and port from ``url`` (1883, or 8883 for mqtts)."""
        parts = urlsplit(self.url)
        return parts.hostname or "", parts.port or (8883 if self.tls else 1883)
