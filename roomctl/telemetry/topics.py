"""The v1 topic layout: every device lives under ``roomctl/v1/dev/{device_id}/``."""

from __future__ import annotations

from dataclasses import dataclass

ROOT = "roomctl/v1/dev"
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Topics:
    """Topic names of one device."""

    device_id: str

    @property
    def base(self) -> str:
        """``roomctl/v1/dev/{id}``."""
        return f"{ROOT}/{self.device_id}"

    @property
    def status(self) -> str:
        """Retained birth / Will / shutdown."""
        return f"{self.base}/status"

    @property
    def meta(self) -> str:
        """Retained static description."""
        return f"{self.base}/meta"

    @property
    def state(self) -> str:
        """Retained full snapshot."""
        return f"{self.base}/state"

    @property
    def metrics(self) -> str:
        """QoS 0 health figures."""
        return f"{self.base}/metrics"

    @property
    def cmd_result(self) -> str:
        """Answers to commands."""
        return f"{self.base}/cmd_result"

    @property
    def cfg(self) -> str:
        """Retained desired config from the centre."""
        return f"{self.base}/cfg"

    @property
    def cmd_filter(self) -> str:
        """Subscription filter for incoming commands."""
        return f"{self.base}/cmd/+"

    def event(self, event_type: str) -> str:
        """``evt/{category}`` for a dotted event type such as ``cast.session_end``."""
        return f"{self.base}/evt/{event_type.split('.', 1)[0]}"

    def command_name(self, topic: str) -> str | None:
        """The command name of an incoming ``cmd/{name}`` topic, else None."""
        prefix = f"{self.base}/cmd/"
        if not topic.startswith(prefix):
            return None
        name = topic[len(prefix) :]
        return name if name and "/" not in name else None
