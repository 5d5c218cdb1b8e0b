"""Pure record contents: host names, instance names, TXT and lenient decoding."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from roomctl.config.model import Config
from roomctl.config.schema import parse
from roomctl.discovery import records
from roomctl.discovery.browser import FoundRoom
from roomctl.discovery.config import MdnsConfig


def config(**sections: Any) -> Config:
    sections.setdefault("room", {"id": "A101", "name": "A101 Physics"})
    return parse(Config, sections)


def test_hostname_defaults_to_room_id_and_is_a_dns_label() -> None:
    assert records.hostname(config()) == "a101.local."
    named = config(mdns={"hostname": "Physics-A101.local"})
    assert records.hostname(named) == "physics-a101.local."
    # validation refuses these; the record code still never emits an invalid label
    unchecked = replace(config(), mdns=MdnsConfig(hostname="Physics A101"))
    assert records.hostname(unchecked) == "physics-a101.local."
    assert records.hostname(replace(config(), mdns=MdnsConfig(hostname="ÄÖ"))) == "a101.local."


def test_instance_name_is_cut_to_63_bytes_without_breaking_utf8() -> None:
    name = records.instance_name(config(room={"id": "X", "name": "Ä" * 40}))
    assert len(name.encode()) <= 63 and set(name) == {"Ä"}
    assert records.instance_name(config(room={"id": "B2"})) == "B2"


def test_txt_counts_displays_and_maps_modes() -> None:
    snap = {"mode": "maintenance", "devices": {"p": {"role": "main_display"}, "s": {}, "t": {}}}
    txt = records.room_txt(config(), snap, {"s": "sensor", "t": "display"}, "rc-1")
    assert txt["displays"] == "2" and txt["state"] == "idle" and txt["id"] == "rc-1"
    assert records.device_id(config(mqtt={"device_id": "rc-abcd"}), {}) == "rc-abcd"
    assert records.device_id(config(), {"device_id": "rc-cd"}) == "rc-cd"
    assert records.device_id(config(), {}) == "A101"


def test_endpoint_follows_tls() -> None:
    assert records.endpoint(config()) == records.Endpoint("http", 8080, records.HTTP_TYPE)
    tls = config(web={"tls_cert": "c", "tls_key": "k"})
    assert records.endpoint(tls) == records.Endpoint("https", 8443, records.HTTPS_TYPE)


@given(st.dictionaries(st.binary(max_size=20), st.one_of(st.none(), st.binary(max_size=40))))
def test_garbage_txt_decodes_without_raising(props: dict[bytes, bytes | None]) -> None:
    txt = records.decode_txt(props)
    room = FoundRoom("x._roomctl._tcp.local.", "x.local.", 443, ("10.0.0.1",), txt)
    assert room.url.startswith(("http://x.local", "https://x.local"))


def test_txt_wire_format_parses_leniently() -> None:
    wire = b"\x03v=1\x0astate=idle\x07STATE=x\x04flag\x00\x05tls=1"
    assert records.parse_txt_wire(wire) == {"v": "1", "state": "idle", "flag": "", "tls": "1"}
    assert records.parse_txt_wire(b"\x09short") == {"short": ""}


@given(st.binary(max_size=300))
def test_txt_wire_garbage_never_raises(data: bytes) -> None:
    assert isinstance(records.parse_txt_wire(data), dict)


def test_found_room_urls() -> None:
    room = FoundRoom("A._roomctl._tcp.local.", "a.local.", 443, ("10.0.0.5", "fd00::1"),
                     {"tls": "1", "path": "/"})
    assert room.name == "A" and room.url == "https://a.local/"
    assert room.address_urls == ("https://10.0.0.5/", "https://[fd00::1]/")


def test_bad_mdns_and_airplay_config_names_key() -> None:
    import pytest

    from roomctl.core.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        config(mdns={"hostname": "a101 physics", "interfacs": []}, airplay={"session_minutes": 0})
    text = str(err.value)
    assert "mdns.hostname" in text and "airplay.session_minutes" in text
    assert "did you mean 'interfaces'?" in text
