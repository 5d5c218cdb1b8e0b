"""Shared by the family emulator tests: a clock the test moves by hand."""

from __future__ import annotations

import pytest


class Clock:
    """A hand-moved clock for the projector's warm-up and cool-down."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()
