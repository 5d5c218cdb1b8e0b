"""Robustness tests reuse the telemetry fixtures: a real room + service on the shared broker."""

from __future__ import annotations

from tests.telemetry.conftest import appliance_factory, watcher_factory

__all__ = ["appliance_factory", "watcher_factory"]
