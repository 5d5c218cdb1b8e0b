"""The advertiser end to end in a private network namespace: a separate appliance process
advertises, separate browser processes (ours, and dig's legacy unicast query) find it."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tests.discovery.netns import Lines, Netns
from tests.support.real import require_binary

ROOM = {"id": "A101", "name": "A101 Physics", "site": "Kallio"}
SERVICE = "A101 Physics._roomctl._tcp.local."


@pytest.fixture
def netns() -> Iterator[Netns]:
    """A fresh loopback-only namespace per test, so no test hears another's records."""
    ns = Netns()
    yield ns
    ns.close()


def start_appliance(ns: Netns, **config: Any) -> tuple[subprocess.Popen[str], Lines]:
    """The appliance helper with ``config`` (the room section defaults to A101)."""
    config.setdefault("room", ROOM)
    config.setdefault("mdns", {"interfaces": ["127.0.0.1"]})
    proc = ns.popen(ns.python("tests.discovery.appliance_helper", json.dumps(config)),
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    lines = Lines(proc)
    lines.wait_json(lambda m: "ready" in m, what="the appliance to advertise")
    return proc, lines


def send(proc: subprocess.Popen[str], command: str) -> None:
    """One command line to the appliance helper."""
    assert proc.stdin is not None
    proc.stdin.write(command + "\n")
    proc.stdin.flush()


def discover(ns: Netns, *args: str) -> subprocess.CompletedProcess[str]:
    """``roomctl discover`` as its own process inside the namespace."""
    return ns.run(ns.python("roomctl", "discover", "--interface", "127.0.0.1", *args))


def test_discover_resolves_room_with_txt(netns: Netns) -> None:
    start_appliance(netns, web={"tls_cert": "/c.pem", "tls_key": "/k.pem", "tls_port": 8443},
                    mqtt={"device_id": "rc-00ff"}, mdns={"interfaces": ["127.0.0.1"],
                                                         "hostname": "physics-a101"})
    result = discover(netns, "--json", "--timeout", "3")
    assert result.returncode == 0, result.stderr
    (room,) = json.loads(result.stdout)
    assert room["service"] == SERVICE
    assert room["host"] == "physics-a101.local."
    assert room["addresses"] == ["127.0.0.1"]
    assert room["url"] == "https://physics-a101.local:8443/"
    assert room["txt"] == {"v": "1", "id": "rc-00ff", "room": "A101", "name": "A101 Physics",
                           "site": "Kallio", "path": "/", "tls": "1", "displays": "0",
                           "state": "idle"}


def test_discover_table_and_web_service(netns: Netns) -> None:
    start_appliance(netns)
    table = discover(netns, "--timeout", "3")
    assert "A101 Physics  A101  idle   Kallio  http://a101.local:8080/" in table.stdout
    require_binary("dig")
    web = netns.run(["dig", "-p", "5353", "@127.0.0.1", "+short", "+time=2", "+tries=2",
                     "_http._tcp.local", "PTR"])
    assert "A101\\032Physics._http._tcp.local." in web.stdout


def test_txt_changes_and_goodbye_seen_by_a_watcher(netns: Netns) -> None:
    appliance, _ = start_appliance(netns)
    watcher = Lines(netns.popen(
        netns.python("roomctl", "discover", "--watch", "--json", "--interface", "127.0.0.1",
                     "--timeout", "60"), stdout=subprocess.PIPE))

    def event(kind: str, **txt: str) -> Any:
        return lambda m: m["event"] == kind and all(
            m["room"]["txt"].get(k) == v for k, v in txt.items())

    watcher.wait_json(event("added", state="idle"), what="the room to be found")
    send(appliance, "participants 3")
    watcher.wait_json(event("updated", state="in_use"), what="state in_use")
    send(appliance, "display proj1")
    send(appliance, "casting 1")
    watcher.wait_json(event("updated", state="casting", displays="1"), what="state casting")
    send(appliance, "casting 0")
    watcher.wait_json(event("updated", state="in_use"), what="back to in_use (a cached value)")
    send(appliance, "clear")
    watcher.wait_json(event("updated", state="idle"), what="back to idle")
    send(appliance, "stop")
    watcher.wait_json(lambda m: m["event"] == "removed" and m["service"] == SERVICE,
                      timeout=5, what="the goodbye")


def test_dig_legacy_unicast_query_resolves(netns: Netns) -> None:
    require_binary("dig")
    start_appliance(netns)
    base = ["dig", "-p", "5353", "@127.0.0.1", "+short", "+time=2", "+tries=2"]
    ptr = netns.run([*base, "_roomctl._tcp.local", "PTR"])
    assert ptr.stdout.strip() == "A101\\032Physics._roomctl._tcp.local."
    srv = netns.run([*base, "A101\\032Physics._roomctl._tcp.local", "SRV"])
    assert srv.stdout.split()[-2:] == ["8080", "a101.local."]
    txt = netns.run([*base, "A101\\032Physics._roomctl._tcp.local", "TXT"])
    assert '"state=idle"' in txt.stdout and '"room=A101"' in txt.stdout
    host = netns.run([*base, "a101.local", "A"])
    assert host.stdout.strip() == "127.0.0.1"


def test_address_change_is_reannounced(netns: Netns) -> None:
    start_appliance(netns, mdns={"interfaces": ["lo"]}, address_poll_s=0.1)
    watcher = Lines(netns.popen(
        netns.python("roomctl", "discover", "--watch", "--json", "--timeout", "60"),
        stdout=subprocess.PIPE))
    watcher.wait_json(lambda m: m["room"] and m["room"]["addresses"] == ["127.0.0.1"],
                      what="the room on 127.0.0.1")
    added = netns.run(["ip", "addr", "add", "127.0.0.7/8", "dev", "lo"])
    assert added.returncode == 0, added.stderr
    watcher.wait_json(lambda m: m["room"] and "127.0.0.7" in m["room"]["addresses"],
                      what="the new address announced")


def test_two_rooms_with_one_name_both_stay_visible(netns: Netns) -> None:
    start_appliance(netns)
    # a generous check: on a loaded test machine the other room may answer late
    start_appliance(netns, room={"id": "A102", "name": "A101 Physics"}, conflict_check_ms=2000)
    rooms = json.loads(discover(netns, "--json", "--timeout", "3").stdout)
    assert sorted(r["txt"]["room"] for r in rooms) == ["A101", "A102"]
    renamed = SERVICE.replace("A101 Physics.", "A101 Physics (A102).")
    assert sorted(r["service"] for r in rooms) == sorted([SERVICE, renamed])


def test_avahi_browse_with_its_own_daemon_resolves_the_room(netns: Netns, tmp_path: Any) -> None:
    require_binary("avahi-browse")
    env = netns.start_avahi(tmp_path)
    start_appliance(netns)
    found = netns.run(["avahi-browse", "--resolve", "--parsable", "--terminate",
                       "--no-db-lookup", "_roomctl._tcp"], timeout=20)
    resolved = [line.split(";") for line in found.stdout.splitlines() if line.startswith("=")]
    assert resolved, found.stdout + found.stderr
    fields = resolved[0]
    assert fields[3] == "A101\\032Physics" and fields[6:9] == ["a101.local", "127.0.0.1", "8080"]
    assert '"state=idle"' in fields[9] and '"room=A101"' in fields[9]
    assert env["DBUS_SYSTEM_BUS_ADDRESS"].startswith("unix:path=")
