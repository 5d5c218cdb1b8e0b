"""Session-wide real components: one mosquitto and one Chromium per test session."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.broker import Mosquitto
from tests.support.browser import CHROMIUM_ARGS, chromium_path
from tests.support.real import CALL_FAILED


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the tests that use the shared browser last.

    Sync Playwright keeps its own event loop marked as running in the main thread for the
    rest of the session, which pytest-asyncio cannot run beside; the sort is stable, so the
    order within each group stays as collected.
    """
    items.sort(key=lambda item: "browser" in getattr(item, "fixturenames", ()))


@pytest.fixture(autouse=True)
def _root_logging() -> Iterator[None]:
    """Undo a ``setup_logging`` made by a command run in-process (``cli.main``): its queue
    handler writes to that test's captured stderr, which is closed once the test ends."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Mark an item whose test body failed, for fixtures that run steps in order."""
    report = yield
    if report.when == "call" and report.failed:
        item.stash[CALL_FAILED] = True
    return report


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """A shared broker for tests that only need "a broker" (anonymous, loopback)."""
    broker = Mosquitto(tmp_path_factory.mktemp("mosquitto")).start()
    yield broker
    broker.stop()


@pytest.fixture
def mosquitto_factory(tmp_path: Path) -> Iterator[Any]:
    """Start private brokers (custom ACL, TLS, restarts); all stopped at the end of the test."""
    started: list[Mosquitto] = []

    def make(extra: str = "", name: str = "broker", port: int | None = None) -> Mosquitto:
        broker = Mosquitto(tmp_path / name, extra=extra, port=port).start()
        started.append(broker)
        return broker

    yield make
    for broker in started:
        broker.kill()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole session; tests open their own contexts."""
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
