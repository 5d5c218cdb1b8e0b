"""The pure PJLink codec: documented vectors, error replies as types, fuzzing the decoders."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roomctl.core.errors import AuthenticationFailed, CommandRejected, NotReady, ProtocolError
from roomctl.drivers.base import Power
from roomctl.pjlink import protocol as p


def test_spec_example_digest() -> None:
    # PJLink class 1 §5.1 example: random 498e4a67, password JBMIAProjectorLink
    assert p.digest("498e4a67", "JBMIAProjectorLink") == "5d8409bc1c3fa39749434aa3a5c38682"


def test_encode_picks_the_class_and_formats_the_line() -> None:
    assert p.encode("POWR", "1") == b"%1POWR 1\r"
    assert p.encode("powr") == b"%1POWR ?\r"
    assert p.encode("FREZ") == b"%2FREZ ?\r"
    assert p.encode("INNM", "?31") == b"%2INNM ?31\r"
    assert p.encode("INPT", "3A", "2") == b"%2INPT 3A\r"
    with pytest.raises(ValueError):
        p.encode("POWR", "x" * 129)


def test_greetings() -> None:
    assert p.decode_greeting(b"PJLINK 0\r") == p.Greeting(auth=False)
    assert p.decode_greeting(b"PJLINK 1 498e4a67\r") == p.Greeting(auth=True, salt="498e4a67")
    with pytest.raises(AuthenticationFailed):
        p.decode_greeting(b"PJLINK ERRA\r")
    for bad in (b"PJLINK 1 498e4a6\r", b"PJLINK 0 extra\r", b"PJLINK 2\r", b"PJLINK 0\r\n"):
        with pytest.raises(ProtocolError):
            p.decode_greeting(bad)


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("ERR1", p.UndefinedCommand),
        ("ERR2", p.OutOfParameter),
        ("ERR3", p.UnavailableTime),
        ("ERR4", p.ProjectorFailure),
    ],
)
def test_error_replies_become_types(code: str, kind: type[Exception]) -> None:
    response = p.decode(f"%1POWR={code}\r".encode())
    with pytest.raises(kind):
        p.check(response, "POWR")


def test_error_types_map_to_the_three_outcomes() -> None:
    assert issubclass(p.UnavailableTime, NotReady)
    assert issubclass(p.UndefinedCommand, CommandRejected)
    assert issubclass(p.OutOfParameter, CommandRejected)
    assert issubclass(p.ProjectorFailure, CommandRejected)
    with pytest.raises(p.PasswordRefused):
        p.decode(b"PJLINK ERRA\r")
    assert issubclass(p.PasswordRefused, AuthenticationFailed)


def test_reply_to_another_command_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        p.check(p.decode(b"%1INPT=31\r"), "POWR")


def test_parsers_on_documented_replies() -> None:
    assert p.parse_power("3") is Power.WARMING and p.parse_power("2") is Power.COOLING
    assert p.parse_input("3a") == "3A"
    assert p.parse_inputs("11 12 31 52") == ("11", "12", "31", "52")
    assert p.parse_avmt("31") == (True, True) and p.parse_avmt("30") == (False, False)
    assert p.parse_erst("021000") == {"lamp": "error", "temperature": "warning"}
    assert p.parse_lamps("1200 1 800 0") == ((1200, True), (800, False))
    assert p.parse_class("Class 1") == "1" and p.parse_class("2") == "2"
    assert p.parse_ackn(b"%2ACKN=00:1B:2c:3d:4e:5F\r") == "00:1b:2c:3d:4e:5f"
    assert p.parse_notification(b"%2POWR=1\r") == p.Notification("POWR", "1")
    assert p.parse_notification(b"%2INPT=3a\r") == p.Notification("INPT", "3A")
    assert p.parse_notification(b"%2ERST=000200\r").body == "ERST"
    assert p.input_name("31") == "DIGITAL1"


@pytest.mark.parametrize(
    "bad",
    [
        b"%1POWR=9\r",
        b"%1POWR\r",
        b"%3POWR=1\r",
        b"POWR=1\r",
        b"%1POWR=1",
        b"%1POW=1\r",
        b"%1POWR=" + b"x" * 129 + b"\r",
        b"%1NAME=\xff\xfe\r",
    ],
)
def test_malformed_replies(bad: bytes) -> None:
    with pytest.raises(ProtocolError):
        p.parse_power(p.check(p.decode(bad), "POWR"))


PARSERS = [
    p.parse_power,
    p.parse_input,
    p.parse_inputs,
    p.parse_avmt,
    p.parse_erst,
    p.parse_lamps,
    p.parse_hours,
    p.parse_class,
    lambda s: p.parse_bool(s, "FREZ"),
]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_line_decoders_raise_only_protocol_errors(data: bytes) -> None:
    for decoder in (p.decode, p.decode_greeting, p.parse_ackn, p.parse_notification):
        try:
            decoder(data)
        except ProtocolError:
            pass
        except p.PasswordRefused:
            assert data == b"PJLINK ERRA\r" and decoder in (p.decode, p.decode_greeting)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=140).map(lambda b: b"%1POWR=" + b.replace(b"\r", b"") + b"\r"))
def test_fuzz_parameter_parsers_raise_only_protocol_errors(data: bytes) -> None:
    try:
        param = p.check(p.decode(data), "POWR")
    except (ProtocolError, CommandRejected, NotReady):
        return
    for parser in PARSERS:
        with contextlib.suppress(ProtocolError):
            parser(param)
