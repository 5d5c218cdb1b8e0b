"""The pure codec: checksums, handshake vectors, fault replies, and fuzzed decoders."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roomctl.core.errors import AuthenticationFailed, CommandRejected, NotReady, ProtocolError
from roomctl.profiles import codec, handshake, loader
from roomctl.profiles.check import decode_stream

PROFILES = loader.load_all()


def test_checksums_match_the_manuals() -> None:
    assert codec.checksum("sum8", bytes.fromhex("0203000002011A")) == 0x22  # NEC HDMI1
    assert codec.checksum("sum8", bytes.fromhex("11FF0101")) == 0x12  # Samsung "112"
    assert codec.checksum("or8", bytes.fromhex("172E000000")) == 0x3F  # Sony power on
    frame = bytes.fromhex("020DBEEF030600BAD20100006001004D")  # Hitachi 9715 wrapper
    assert sum(frame) % 256 == 0


def test_handshake_vectors() -> None:
    assert handshake.pjlink_digest("498e4a67", "JBMIAProjectorLink") == (
        "5d8409bc1c3fa39749434aa3a5c38682"
    )
    assert handshake.ntcontrol_digest("admin1", "panasonic", "23181e1e") == (
        "dbdd2dabd3d4d68c5dd970ec0c29fa64"
    )
    assert handshake.hitachi_digest("a572f60c", "password") == "e3d97429adffa11bce1f7275813d4bde"
    hello = handshake.escvpnet_hello()
    assert hello == b"ESC/VP.net\x10\x03\x00\x00\x00\x00" and len(hello) == 16
    with_password = handshake.escvpnet_hello("secret")
    assert len(with_password) == 34 and with_password[15] == 1 and with_password[16:18] == b"\1\1"


def test_encode_rejects_unknown_inputs_and_missing_arguments() -> None:
    epson = PROFILES["epson/escvp21"]
    with pytest.raises(CommandRejected, match="no input 'hdmi9'"):
        codec.encode(epson, "input_select", input="hdmi9")
    with pytest.raises(CommandRejected, match="missing argument input"):
        codec.encode(epson, "input_select")
    with pytest.raises(CommandRejected):
        codec.encode(PROFILES["viewsonic/binary"], "freeze_on")


def test_samsung_set_id_from_args() -> None:
    mdc = PROFILES["samsung/mdc"]
    assert codec.encode(mdc, "power_query") == bytes.fromhex("AA11010012")
    assert codec.encode(mdc, "power_query", id="02") == bytes.fromhex("AA11020013")
    assert codec.encode(mdc, "volume_set", level=20) == bytes.fromhex("AA1201011428")


def test_fault_replies_raise_the_right_types() -> None:
    nec = PROFILES["nec/binary-serial"]
    with pytest.raises(ProtocolError, match="checksum"):
        codec.decode(nec, "power_on", bytes.fromhex("220001230047"))
    with pytest.raises(NotReady):
        codec.decode(nec, "power_on", bytes.fromhex("A200012302020DD7"))
    epson = PROFILES["epson/escvp21"]
    with pytest.raises(ProtocolError):
        codec.decode(epson, "power_query", b"\xff\xfe:")
    with pytest.raises(ProtocolError, match="unknown power state"):
        codec.decode(epson, "power_query", b"PWR=77\r:")


def test_unsolicited_lines_are_skipped_and_reported() -> None:
    epson = PROFILES["epson/escvp21"]
    unit = b"IMEVENT=0001 02 00000000 00000000 T1 F1\rPWR=01\r:"
    assert codec.decode(epson, "power_query", unit) == "on"
    assert codec.unsolicited(epson, unit) == [("power", "warming")]


@pytest.mark.parametrize("pid", sorted(PROFILES))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=64), use_real=st.booleans(), cut=st.integers(0, 64))
def test_decoders_raise_only_protocol_errors(
    pid: str, data: bytes, use_real: bool, cut: int
) -> None:
    """Garbage gives ProtocolError; only the documented status replies give their types."""
    profile = PROFILES[pid]
    if use_real and profile.examples:
        # Mutate a real reply so the fuzzer reaches the deeper branches too.
        ex = profile.examples[cut % len(profile.examples)]
        real = bytes.fromhex(ex.reply) if profile.framing.kind == "binary" else ex.reply.encode()
        data = real[: cut % (len(real) + 1)] + data[:4] + real[cut % (len(real) + 1) :]
    for command in (c for c in profile.commands if c.endswith("_query")):
        try:
            decode_stream(profile, command, data, b"")
        except ProtocolError:
            pass
        except (NotReady, CommandRejected, AuthenticationFailed):
            pass  # an exact match of the profile's documented busy/refusal replies
        except Exception as err:
            pytest.fail(f"{pid} {command} raised {type(err).__name__}: {err} on {data!r}")


def test_split_refuses_runaway_frames() -> None:
    viewsonic = PROFILES["viewsonic/binary"]
    with pytest.raises(ProtocolError):
        codec.split(viewsonic, bytes.fromhex("0514 00 FF FF"))
    lg = replace(PROFILES["lg/ka-serial"])
    with pytest.raises(ProtocolError):
        codec.split(lg, b"a" * 2000)
