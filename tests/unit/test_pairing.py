"""Pairing codes and tokens: RFC 4226 vectors, rotation, grace, expiry, rate limits."""

from __future__ import annotations

import pytest

from roomctl.pairing import Pairing, RateLimiter, Verdict, hotp

RFC4226_SECRET = b"12345678901234567890"
RFC4226_HOTP = [
    "755224", "287082", "359152", "969429", "338314",
    "254676", "287922", "162583", "399871", "520489",
]  # fmt: skip


@pytest.mark.parametrize("counter,expected", list(enumerate(RFC4226_HOTP)))
def test_hotp_matches_rfc4226_appendix_d(counter: int, expected: str) -> None:
    assert hotp(RFC4226_SECRET, counter) == expected


class Clock:
    def __init__(self, t: float = 1_700_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def make(clock: Clock, **kw: int) -> Pairing:
    return Pairing(b"s" * 32, period_s=60, clock=clock, **kw)


def test_code_rotates_with_the_window_and_old_code_is_stale() -> None:
    clock = Clock()
    p = make(clock)
    first = p.current()
    assert len(first.code) == 6 and first.code.isdigit()
    assert p.check_code(first.code) is Verdict.OK
    clock.t += 60
    second = p.current()
    assert second.code != first.code
    assert p.check_code(second.code) is Verdict.OK
    assert p.check_code(first.code) is Verdict.STALE
    clock.t += 180
    assert p.check_code(first.code) is Verdict.INVALID


def test_token_has_96_bits_or_more_and_grace_window() -> None:
    clock = Clock()
    p = make(clock, grace_windows=1)
    token = p.current().token
    mac = token.split(".")[1]
    assert len(mac) * 6 >= 96
    clock.t += 60
    assert p.check_token(token) is Verdict.OK  # the previous window is still accepted
    clock.t += 60
    assert p.check_token(token) is Verdict.STALE  # a photo of an old QR stops working


def test_tampered_token_is_invalid() -> None:
    clock = Clock()
    p = make(clock)
    token = p.current().token
    window, mac = token.split(".")
    assert p.check_token(f"{int(window) + 1}.{mac}") is Verdict.INVALID
    assert p.check_token(token[:-2] + ("AA" if token[-2:] != "AA" else "BB")) is Verdict.INVALID
    assert p.check_token("garbage") is Verdict.INVALID


def test_rotate_invalidates_current_code_and_token_at_once() -> None:
    clock = Clock()
    p = make(clock)
    info = p.current()
    p.rotate()
    assert p.check_code(info.code) is Verdict.STALE
    assert p.check_token(info.token) is Verdict.STALE
    assert p.check_code(p.current().code) is Verdict.OK


def test_codes_differ_between_rooms() -> None:
    clock = Clock()
    a = Pairing(b"a" * 32, clock=clock)
    b = Pairing(b"b" * 32, clock=clock)
    assert a.current().code != b.current().code


def test_rate_limiter_counts_failures_and_says_when_to_retry() -> None:
    clock = Clock(0.0)
    limiter = RateLimiter(3, 60, clock=clock)
    for _ in range(3):
        assert limiter.retry_after("10.0.0.1") == 0
        limiter.hit("10.0.0.1")
    assert limiter.retry_after("10.0.0.1") == pytest.approx(60)
    assert limiter.retry_after("10.0.0.2") == 0
    clock.t += 61
    assert limiter.retry_after("10.0.0.1") == 0
