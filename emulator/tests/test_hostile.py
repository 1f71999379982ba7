"""The emulator's hostile mode (emulator/hostile.py) over real HTTP."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request

import pytest

ADMIN = "fb-test-admin-token"


def call(emu, method, path, body=None, token=ADMIN, timeout=10):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(emu.url + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # nosec - the local emulator
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def test_echo_and_escapes_in_error_bodies(emulator):
    assert call(emulator, "POST", "/_emulator/hostile", {"echo": True, "escapes": True})[0] == 200
    status, created = call(emulator, "POST", "/repo/r1/apikey", {"name": "a", "accessType": "READ"})
    assert status == 200
    status, body = call(emulator, "GET", "/repo/nope/apikey")
    assert status == 404
    assert created["secret"] in body["message"] and ADMIN in body["message"]
    assert "\x1b[2J" in body["message"] and "\nfatal: [testhost]" in body["message"] and "\u202e" in body["message"]


def test_fault_bodies_are_hostile_too(emulator):
    call(emulator, "POST", "/_emulator/hostile", {"echo": True})
    call(emulator, "POST", "/_emulator/faults", {"method": "POST", "action": "act_then_fail", "status": 429})
    status, body = call(emulator, "POST", "/repo/r1/apikey", {"name": "a", "accessType": "READ"})
    assert status == 429 and ADMIN in body["message"]
    assert [key["name"] for key in call(emulator, "GET", "/_emulator/state")[1]["keys"]] == ["a"]  # it acted


@pytest.mark.parametrize("kind", ["listed", "made_up"])
def test_foreign_id(emulator, kind):
    status, first = call(emulator, "POST", "/repo/r1/apikey", {"name": "first", "accessType": "READ"})
    call(emulator, "POST", "/_emulator/hostile", {"foreign_id": {"kind": kind, "times": 1}})
    status, second = call(emulator, "POST", "/repo/r1/apikey", {"name": "second", "accessType": "READ"})
    made = [key["id"] for key in call(emulator, "GET", "/_emulator/state")[1]["keys"] if key["name"] == "second"]
    assert second["id"] != made[0]
    assert (second["id"] == first["id"]) is (kind == "listed")
    status, third = call(emulator, "POST", "/repo/r1/apikey", {"name": "third", "accessType": "READ"})
    assert third["id"] in [key["id"] for key in call(emulator, "GET", "/_emulator/state")[1]["keys"]]  # times: 1


def test_drip_writes_one_byte_per_interval(emulator):
    call(emulator, "POST", "/_emulator/hostile", {"drip": {"interval": 0.01, "method": "GET", "times": 1}})
    started = time.monotonic()
    status, body = call(emulator, "GET", "/repo?repoId=r1")  # one repository: a short answer, a short test
    assert status == 200 and body["success"] is True and len(body["repos"]) == 1
    assert time.monotonic() - started > 0.01 * 100  # well over a hundred bytes, one per interval


def test_huge_answer_is_streamed_and_stops_when_the_client_goes(emulator):
    call(emulator, "POST", "/_emulator/hostile", {"huge": {"bytes": 800_000_000, "method": "GET", "times": 1}})
    host, port = emulator.url.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET /repo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + ADMIN.encode() + b"\r\n\r\n")
        head = sock.recv(4096)
    assert b"Content-Length: 8000" in head
    assert call(emulator, "GET", "/repo")[0] == 200  # the emulator still answers; the rule was used up


def test_control_routes_and_reset(emulator):
    assert call(emulator, "POST", "/_emulator/hostile", {"nope": True})[0] == 400
    assert call(emulator, "POST", "/_emulator/hostile", {"drip": {"interval": "x"}})[0] == 400
    call(emulator, "POST", "/_emulator/hostile", {"escapes": True, "drip": {"interval": 2, "path": "^/never"}})
    assert call(emulator, "GET", "/_emulator/hostile")[1]["hostile"]["escapes"] is True
    call(emulator, "POST", "/_emulator/reset", {})
    assert call(emulator, "GET", "/_emulator/hostile")[1] == {"hostile": {}}
