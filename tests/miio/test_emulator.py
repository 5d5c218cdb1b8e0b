"""The emulator against python-miio itself (an independent client) and against bad input."""

from __future__ import annotations

import random
import socket
import warnings

import pytest

from roomctl.emulators import miio as emu
from tests.miio.helpers import OTHER_TOKEN, TOKEN

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import miio
    from miio.protocol import Utils


def test_key_and_iv_follow_the_token() -> None:
    token = bytes.fromhex(TOKEN)
    assert emu.key_iv(token) == Utils.key_iv(token)
    sealed = emu.encrypt(b'{"id": 1}', token)
    assert Utils.decrypt(sealed, token) == b'{"id": 1}'


def test_python_miio_reads_a_chuangmi_plug_and_switches_it() -> None:
    with emu.running("plug", "127.0.0.2", TOKEN) as device:
        plug = miio.ChuangmiPlug("127.0.0.2", TOKEN, model="chuangmi.plug.v3")
        assert plug.info().model == "chuangmi.plug.v3"
        status = plug.status()
        assert status.is_on and status.load_power == pytest.approx(12.5)
        plug.off()
        assert not plug.status().is_on and not device.device.power
    assert device.stats.hellos >= 1


def test_python_miio_reads_an_m1_plug_and_the_power_strip() -> None:
    with (
        emu.running("plug", "127.0.0.3", TOKEN, model="chuangmi.plug.m1"),
        emu.running("powerstrip", "127.0.0.4", TOKEN),
    ):
        assert miio.ChuangmiPlug("127.0.0.3", TOKEN, model="chuangmi.plug.m1").status().is_on
        strip = miio.PowerStrip("127.0.0.4", TOKEN, model="zimi.powerstrip.v2")
        strip.off()
        status = strip.status()
        assert not status.is_on and status.load_power == 0.0


@pytest.mark.parametrize("model", ["cgllc.airmonitor.s1", "cgllc.airmonitor.b1"])
def test_python_miio_reads_the_air_monitor(model: str) -> None:
    with emu.running("airmonitor", "127.0.0.5", TOKEN, model=model) as device:
        device.device.air["co2"] = 1450.0
        status = miio.AirQualityMonitor("127.0.0.5", TOKEN, model=model).status()
        co2 = status.co2 if status.co2 is not None else status.co2e
        assert 1440 <= co2 <= 1460
        assert status.pm25 is not None and status.humidity is not None
        assert 20 < status.temperature < 23


def test_python_miio_drives_the_yeelight() -> None:
    with emu.running("yeelight", "127.0.0.6", TOKEN):
        lamp = miio.Yeelight("127.0.0.6", TOKEN, model="yeelink.light.lamp1")
        lamp.set_brightness(35)
        lamp.off()
        status = lamp.status()
        assert (status.is_on, status.brightness) == (False, 35)
        with pytest.raises(miio.DeviceException):
            lamp.set_brightness(0)  # out of range: an error reply


def test_python_miio_gets_no_answer_with_a_wrong_token() -> None:
    with emu.running("plug", "127.0.0.7", TOKEN) as device:
        plug = miio.ChuangmiPlug("127.0.0.7", OTHER_TOKEN, model="chuangmi.plug.m1", timeout=0.2)
        with pytest.raises(miio.DeviceException):
            plug.send("get_prop", ["power"], retry_count=0)
    assert device.stats.dropped >= 1 and device.stats.commands == 0


def test_garbage_datagrams_get_no_answer_and_do_not_break_it() -> None:
    device = emu.MiioEmulator("plug", "127.0.0.8", TOKEN)
    rng = random.Random(9)
    samples = [
        b"",
        b"\x21\x31",
        emu.HELLO[:31],
        *(rng.randbytes(rng.randrange(200)) for _ in range(300)),
    ]
    head = emu.pack(1, 2, bytes.fromhex(TOKEN), {"id": 1, "method": "miIO.info"})
    samples += [head[:40], head[:-3], head + b"x", head[:32] + bytes(len(head) - 32)]
    assert all(device.handle(s) is None for s in samples)
    reply = device.handle(head)
    assert reply is not None and emu.unpack(reply, bytes.fromhex(TOKEN))["result"]["model"]


def test_unknown_method_gets_an_error_reply() -> None:
    device = emu.MiioEmulator("airmonitor", "127.0.0.9", TOKEN)
    token = bytes.fromhex(TOKEN)
    reply = device.handle(emu.pack(1, 2, token, {"id": 7, "method": "set_bright", "params": [1]}))
    assert reply is not None
    assert emu.unpack(reply, token) == {"id": 7, "error": emu.METHOD_NOT_FOUND}


def test_serve_refuses_non_loopback_hosts(capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    args = argparse.Namespace(miio="plug", host="192.0.2.1", token=TOKEN, fault=None)
    assert emu.serve(args) == 2
    args = argparse.Namespace(miio="toaster", host="127.0.0.2", token=TOKEN, fault=None)
    assert emu.serve(args) == 2
    assert "loopback" in capsys.readouterr().out


def test_hello_over_a_real_socket() -> None:
    with (
        emu.running("plug", "127.0.0.10", TOKEN),
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock,
    ):
        sock.settimeout(2)
        sock.sendto(emu.HELLO, ("127.0.0.10", emu.PORT))
        data = sock.recv(64)
    assert len(data) == 32 and data[:4] == bytes.fromhex("21310020")


def test_serve_runs_the_emulator_as_a_process() -> None:
    import subprocess
    import sys

    code = (
        "import argparse; from roomctl.emulators.miio import serve; "
        f"serve(argparse.Namespace(miio='airmonitor', host='127.0.0.11', token='{TOKEN}', "
        "fault=None))"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert "udp://127.0.0.11:54321" in proc.stdout.readline()
        monitor = miio.AirQualityMonitor("127.0.0.11", TOKEN, model="cgllc.airmonitor.s1")
        assert monitor.status().co2 is not None
    finally:
        proc.terminate()
        proc.wait(10)
