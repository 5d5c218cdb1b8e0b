"""Logging through a queue, so a slow SD card or a full journal pipe never stalls the event loop.

Under systemd (``JOURNAL_STREAM`` set) lines carry no timestamp: journald adds its own.
"""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import os
import queue
import sys

PLAIN = "%(levelname)s %(name)s: %(message)s"
STAMPED = "%(asctime)s " + PLAIN


def setup_logging(level: int = logging.INFO) -> logging.handlers.QueueListener:
    """Route every record through a queue to a stderr writer thread."""
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    writer = logging.StreamHandler(sys.stderr)
    writer.setFormatter(logging.Formatter(PLAIN if os.environ.get("JOURNAL_STREAM") else STAMPED))
    listener = logging.handlers.QueueListener(records, writer, respect_handler_level=False)
    root = logging.getLogger()
    root.handlers[:] = [logging.handlers.QueueHandler(records)]
    root.setLevel(level)
    listener.start()
    atexit.register(listener.stop)
    return listener
