"""The SQLite outbox: order, acks, bounds with priorities, persistence, seen commands."""

from __future__ import annotations

from pathlib import Path

from roomctl.telemetry.outbox import HIGH, LOW, Outbox, Row


def rows(n: int, start: int = 0, priority: int = LOW, ts: float = 1000.0) -> list[Row]:
    """``n`` rows with ids ``e{start}``..."""
    return [Row(f"e{i}", "t", b"p%d" % i, ts + i, priority) for i in range(start, start + n)]


def test_rows_come_back_in_order_and_acks_remove_them(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", max_events=100, max_age_s=1e9)
    box.open()
    box.add(rows(5), now=1000)
    first = box.after(0, 3)
    assert [p for _, _, p in first] == [b"p0", b"p1", b"p2"]
    assert [p for _, _, p in box.after(first[-1][0], 10)] == [b"p3", b"p4"]
    box.ack([r for r, _, _ in first])
    assert box.depth == 2
    box.add(rows(1, start=3), now=1000)  # same event id again: ignored
    assert box.depth == 2
    box.close()
    again = Outbox(tmp_path / "o.db", max_events=100, max_age_s=1e9)
    again.open()
    assert again.depth == 2 and [p for _, _, p in again.after(0, 10)] == [b"p3", b"p4"]
    again.ack([rowid for rowid, _, _ in again.after(0, 10)])
    again.add(rows(1, start=9), now=1000)
    assert again.after(first[-1][0] + 2, 10)[0][2] == b"p9"  # ids never reused
    again.close()


def test_size_bound_drops_low_priority_first(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", max_events=10, max_age_s=1e9)
    box.open()
    box.add(rows(3, priority=HIGH), now=1000)
    trimmed = box.add(rows(10, start=3), now=1000)
    assert trimmed.dropped == 4 and box.depth == 9  # trimmed to 90 %
    kept = [p for _, _, p in box.after(0, 100)]
    assert kept[:3] == [b"p0", b"p1", b"p2"] and b"p3" not in kept
    assert trimmed.oldest_ts == 1003.0


def test_age_bound(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", max_events=100, max_age_s=60)
    box.open()
    box.add(rows(3, ts=0.0), now=10)
    trimmed = box.add(rows(2, start=3, ts=100.0), now=100)
    assert trimmed.dropped == 3 and box.depth == 2


def test_seen_commands_survive_reopen(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", max_events=10, max_age_s=60)
    box.open()
    assert box.remember_command("c1", 1000.0)
    assert not box.remember_command("c1", 1001.0)
    box.put("central_cfg", {"cfg_version": 3})
    box.close()
    box.open()
    assert not box.remember_command("c1", 1002.0)
    assert box.get("central_cfg") == {"cfg_version": 3} and box.get("nothing") is None
