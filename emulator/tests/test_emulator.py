"""Tests of the Flashback API emulator, through real HTTP against a running server."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from flashback_emulator import DEFAULT_SEED, Emulator

ADMIN = "fb-test-admin-token"
R1_ONLY = "fb-test-r1-token"
TIMEOUT = 5
SCRIPT = Path(__file__).resolve().parents[1] / "flashback_emulator.py"
ISO_MS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
NEW_KEY = {"name": "ci", "accessType": "READ"}


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def api(emulator):
    """Call the published API: api(method, path, token=ADMIN, **requests_kwargs)."""
    session = requests.Session()

    def call(method, path, token=ADMIN, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        kwargs.setdefault("timeout", TIMEOUT)
        return session.request(method, emulator.url + path, headers=headers, **kwargs)

    yield call
    session.close()


@pytest.fixture
def control(emulator):
    """Call the control interface: control(method, "/faults", **requests_kwargs)."""

    def call(method, path, **kwargs):
        return requests.request(method, emulator.url + "/_emulator" + path, timeout=TIMEOUT, **kwargs)

    return call


def create_key(api, repo_id="r1", **body):
    response = api("POST", f"/repo/{repo_id}/apikey", json={**NEW_KEY, **body})
    assert response.status_code == 200, response.text
    return response.json()


def add_fault(control, **spec):
    response = control("POST", "/faults", json=spec)
    assert response.status_code == 200, response.text
    return response.json()["id"]


def state_key(emulator, key_id):
    return next(k for k in emulator.state()["keys"] if k["id"] == key_id)


def last_request(emulator):
    return emulator.requests[-1]


# --------------------------------------------------------------------------- published API: success


def test_list_repos_shows_all_repos_to_an_unscoped_token(api):
    response = api("GET", "/repo")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["success"] is True
    assert [r["id"] for r in body["repos"]] == ["r1", "r2", "r3", "r4", "r5"]
    for repo in body["repos"]:
        assert set(repo) == {"id", "name", "storageType", "mode", "workspaceId", "buckets", "createdAt"}
        assert ISO_MS_Z.match(repo["createdAt"])
    assert [r["name"] for r in body["repos"]].count("shared") == 2


def test_list_repos_shows_only_scoped_repos(api):
    assert [r["id"] for r in api("GET", "/repo", token=R1_ONLY).json()["repos"]] == ["r1"]


def test_create_key_returns_the_plaintext_secret(api, emulator):
    created = create_key(api, name="deploy", accessType="WRITE")
    assert set(created) == {"success", "id", "key", "secret"}
    assert created["success"] is True
    assert str(uuid.UUID(created["id"])) == created["id"]
    assert re.fullmatch(r"FBK[A-Z0-9]{17}", created["key"])
    assert len(created["secret"]) == 40
    stored = state_key(emulator, created["id"])
    assert stored["secret"] == created["secret"]
    assert (stored["name"], stored["accessType"], stored["deleted"]) == ("deploy", "WRITE", False)
    assert ISO_MS_Z.match(stored["createdAt"])


def test_list_keys_shows_live_keys_in_creation_order_with_encrypted_secret(api):
    first, second = create_key(api, name="a"), create_key(api, name="b")
    create_key(api, repo_id="r2")
    keys = api("GET", "/repo/r1/apikey").json()["keys"]
    assert [k["id"] for k in keys] == [first["id"], second["id"]]
    listed = keys[0]
    assert set(listed) == {"id", "name", "accessType", "key", "createdAt", "secret"}
    assert listed["key"] == first["key"]
    assert set(listed["secret"]) == {"key", "iv", "authTag", "message"}
    assert first["secret"] not in json.dumps(keys)


def test_list_keys_of_an_empty_repo(api):
    assert api("GET", "/repo/r3/apikey").json() == {"success": True, "keys": []}


def test_update_key_changes_name_and_access_only(api, emulator):
    created = create_key(api)
    before = state_key(emulator, created["id"])
    response = api("PUT", f"/repo/r1/apikey/{created['id']}", json={"name": "renamed", "accessType": "ADMIN"})
    assert response.json() == {"success": True, "message": "API key updated"}
    after = state_key(emulator, created["id"])
    assert (after["name"], after["accessType"]) == ("renamed", "ADMIN")
    unchanged = ("key", "secret", "createdAt")
    assert [after[k] for k in unchanged] == [before[k] for k in unchanged]


def test_delete_is_a_soft_delete(api, emulator):
    created = create_key(api)
    path = f"/repo/r1/apikey/{created['id']}"
    assert api("DELETE", path).json() == {"success": True, "message": "API key deleted"}
    assert api("GET", "/repo/r1/apikey").json()["keys"] == []
    assert state_key(emulator, created["id"])["deleted"] is True
    assert api("DELETE", path).status_code == 404
    assert api("PUT", path, json=NEW_KEY).status_code == 404


def test_trailing_slash_and_encoded_ids_are_accepted(api):
    assert api("GET", "/repo/").status_code == 200
    assert api("GET", "/repo/%72%31/apikey/").status_code == 200  # "r1", percent-encoded


def test_keep_alive_reuses_one_connection(emulator):
    host, port = emulator.url.rsplit("/", 1)[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=TIMEOUT)
    headers = {"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"}
    conn.request("POST", "/repo/r1/apikey", body=json.dumps(NEW_KEY), headers=headers)
    first = conn.getresponse()
    assert first.status == 200 and json.loads(first.read())["success"] is True
    assert not first.will_close
    sock = conn.sock
    conn.request("GET", "/repo", headers=headers)
    assert conn.getresponse().status == 200
    assert conn.sock is sock
    conn.close()


def test_concurrent_clients_are_all_served(emulator):
    def create_many(dummy):
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {ADMIN}"
            return [session.post(emulator.url + "/repo/r1/apikey", json=NEW_KEY, timeout=TIMEOUT).json()["id"]
                    for dummy in range(10)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = [key_id for batch in pool.map(create_many, range(8)) for key_id in batch]
    assert len(set(ids)) == 80
    assert sorted(k["id"] for k in emulator.state()["keys"]) == sorted(ids)
    assert sorted(e["seq"] for e in emulator.requests) == list(range(1, 81))


# --------------------------------------------------------------------------- published API: errors


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer not-a-token"},
    {"Authorization": ADMIN},  # no scheme
    {"Authorization": f"Basic {ADMIN}"},
])
@pytest.mark.parametrize("method, path", [("GET", "/repo"), ("GET", "/repo/r1/apikey"),
                                          ("POST", "/repo/r1/apikey"), ("DELETE", "/repo/nope/apikey/x")])
def test_bad_or_missing_token_is_401(emulator, headers, method, path):
    response = requests.request(method, emulator.url + path, headers=headers, json=NEW_KEY, timeout=TIMEOUT)
    assert response.status_code == 401
    assert response.json() == {"success": False, "message": "Unauthorized"}
    assert "not-a-token" not in response.text and ADMIN not in response.text


@pytest.mark.parametrize("method, path", [("GET", "/repo/r9/apikey"), ("POST", "/repo/r9/apikey"),
                                          ("PUT", "/repo/r9/apikey/k"), ("DELETE", "/repo/r9/apikey/k")])
def test_unknown_repo_is_404(api, method, path):
    response = api(method, path, json=NEW_KEY)
    assert response.status_code == 404
    assert response.json() == {"success": False, "message": "Repository not found"}


@pytest.mark.parametrize("method, path", [("GET", "/repo/r2/apikey"), ("POST", "/repo/r2/apikey"),
                                          ("PUT", "/repo/r2/apikey/k"), ("DELETE", "/repo/r2/apikey/k")])
def test_repo_outside_token_scope_is_403_in_the_alternate_shape(api, method, path):
    response = api(method, path, token=R1_ONLY, json=NEW_KEY)
    assert response.status_code == 403
    assert response.json() == {"success": False, "error_code": "FORBIDDEN",
                               "error_message": "No access to this repository",
                               "message": "No access to this repository"}


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_unknown_key_is_404(api, method):
    response = api(method, "/repo/r1/apikey/no-such-key", json=NEW_KEY)
    assert response.status_code == 404
    assert response.json() == {"success": False, "message": "API key not found"}


def test_key_of_another_repo_is_404(api):
    created = create_key(api, repo_id="r2")
    assert api("DELETE", f"/repo/r1/apikey/{created['id']}").status_code == 404


@pytest.mark.parametrize("kwargs", [
    {"data": "{not json", "headers": {"Content-Type": "application/json"}},
    {"json": ["name", "ci"]},
    {"json": {"accessType": "READ"}},
    {"json": {"name": "", "accessType": "READ"}},
    {"json": {"name": "   ", "accessType": "READ"}},
    {"json": {"name": " \t\n", "accessType": "READ"}},
    {"json": {"name": 7, "accessType": "READ"}},
    {"json": {"name": "ci"}},
    {"json": {"name": "ci", "accessType": "read"}},
    {},
])
def test_bad_create_body_is_400(emulator, kwargs):
    kwargs.setdefault("headers", {})["Authorization"] = f"Bearer {ADMIN}"
    response = requests.post(emulator.url + "/repo/r1/apikey", timeout=TIMEOUT, **kwargs)
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False and body["message"]
    assert emulator.state()["keys"] == []


@pytest.mark.parametrize("body", [{"name": "only-name"}, {"accessType": "READ"}, {"name": "   ", "accessType": "READ"}])
def test_update_needs_both_fields_and_a_name_that_is_not_blank(api, emulator, body):
    created = create_key(api)
    assert api("PUT", f"/repo/r1/apikey/{created['id']}", json=body).status_code == 400
    assert state_key(emulator, created["id"])["name"] == NEW_KEY["name"]


@pytest.mark.parametrize("token, repo_id, expected", [
    ("wrong", "r9", 401),      # auth before repo existence
    (R1_ONLY, "r9", 404),      # repo existence before scope
    (R1_ONLY, "r2", 403),      # scope before body
    (ADMIN, "r9", 404),        # repo existence before body
])
def test_checks_run_in_order_auth_repo_scope_body(api, token, repo_id, expected):
    assert api("POST", f"/repo/{repo_id}/apikey", token=token, json={"bad": "body"}).status_code == expected


def test_unknown_path_is_404(api):
    response = api("GET", "/repos")
    assert response.status_code == 404
    assert response.json()["success"] is False


@pytest.mark.parametrize("method, path, allowed", [
    ("DELETE", "/repo", "GET"),
    ("PUT", "/repo/r1/apikey", "GET, POST"),
    ("PATCH", "/repo/r1/apikey/k", "PUT, DELETE"),
])
def test_wrong_method_is_405(api, method, path, allowed):
    response = api(method, path, json=NEW_KEY)
    assert response.status_code == 405
    assert response.headers["Allow"] == allowed
    assert response.json()["success"] is False


def raw_exchange(emulator, request: bytes) -> bytes:
    host, port = emulator.url.rsplit("/", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(4096):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("framing, status", [
    (b"Transfer-Encoding: chunked\r\n", b"411"),
    (b"Content-Length: -3\r\n", b"400"),
    (b"Content-Length: many\r\n", b"400"),
])
def test_unframeable_bodies_are_refused_and_the_connection_closed(emulator, framing, status):
    answer = raw_exchange(emulator, b"POST /repo/r1/apikey HTTP/1.1\r\nHost: x\r\n" + framing + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 " + status)
    assert b"Connection: close" in answer
    assert emulator.state()["keys"] == []


# --------------------------------------------------------------------------- request log


def test_request_log_records_api_calls_without_tokens(api, emulator, control):
    created = create_key(api, name="logged")
    api("GET", "/repo", token="a-wrong-token")
    control("GET", "/state")  # control calls are not logged
    log = control("GET", "/requests").json()["requests"]
    assert log == [
        {"seq": 1, "method": "POST", "path": "/repo/r1/apikey", "query": "", "status": 200,
         "body": {"name": "logged", "accessType": "READ"}, "authorized": True, "fault": None, "acted": True},
        {"seq": 2, "method": "GET", "path": "/repo", "query": "", "status": 401, "body": None,
         "authorized": False, "fault": None, "acted": False},
    ]
    assert log == emulator.requests
    dumped = json.dumps(log)
    for token in (ADMIN, "a-wrong-token", "Bearer", created["secret"]):
        assert token not in dumped


def test_failed_writes_are_not_marked_acted(api, emulator):
    api("POST", "/repo/r2/apikey", token=R1_ONLY, json=NEW_KEY)
    api("POST", "/repo/r1/apikey", data="{oops")
    expected = [(403, False, NEW_KEY), (400, False, None)]
    assert [(e["status"], e["acted"], e["body"]) for e in emulator.requests] == expected


def test_request_log_can_be_cleared(api, emulator, control):
    api("GET", "/repo")
    assert control("DELETE", "/requests").json() == {"ok": True}
    assert emulator.requests == []
    api("GET", "/repo")
    assert [e["seq"] for e in emulator.requests] == [2]  # numbering keeps counting


# --------------------------------------------------------------------------- faults


def test_status_fault_answers_without_acting(api, emulator, control):
    add_fault(control, method="POST", path=r"/apikey$", action="status", status=503)
    response = api("POST", "/repo/r1/apikey", json=NEW_KEY)
    assert response.status_code == 503
    assert response.json() == {"success": False, "message": "injected fault"}
    assert "Retry-After" not in response.headers
    assert emulator.state()["keys"] == []
    assert last_request(emulator)["fault"] == "status" and last_request(emulator)["acted"] is False


def test_status_429_carries_retry_after(api, control):
    add_fault(control, action="status", status=429, retry_after=7)
    response = api("GET", "/repo")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    add_fault(control, action="status", status=429)
    assert api("GET", "/repo").headers["Retry-After"] == "1"


def test_act_then_fail_creates_the_key_but_reports_failure(api, emulator, control):
    add_fault(control, method="POST", path="apikey", action="act_then_fail")
    response = api("POST", "/repo/r1/apikey", json=NEW_KEY)
    assert response.status_code == 500
    assert response.json()["success"] is False
    assert len(emulator.state()["keys"]) == 1
    assert last_request(emulator)["acted"] is True


def test_drop_before_closes_the_connection_without_acting(api, emulator, control):
    add_fault(control, method="POST", action="drop_before")
    with pytest.raises(requests.exceptions.ConnectionError):
        api("POST", "/repo/r1/apikey", json=NEW_KEY)
    assert emulator.state()["keys"] == []
    entry = last_request(emulator)
    assert (entry["status"], entry["fault"], entry["acted"]) == (None, "drop_before", False)


def test_drop_after_acts_then_closes_the_connection(api, emulator, control):
    created = create_key(api)
    add_fault(control, method="DELETE", action="drop_after")
    with pytest.raises(requests.exceptions.ConnectionError):
        api("DELETE", f"/repo/r1/apikey/{created['id']}")
    assert state_key(emulator, created["id"])["deleted"] is True
    entry = last_request(emulator)
    assert (entry["status"], entry["fault"], entry["acted"]) == (None, "drop_after", True)
    assert api("GET", "/repo/r1/apikey").json()["keys"] == []  # the same session recovers


def test_slow_fault_delays_the_answer(api, control):
    add_fault(control, action="slow", delay=1.5)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        api("GET", "/repo", timeout=0.5)
    assert time.monotonic() - started < 1.5
    add_fault(control, action="slow", delay=0.2)
    started = time.monotonic()
    assert api("GET", "/repo").status_code == 200
    assert time.monotonic() - started >= 0.2


def test_raw_fault_sends_a_gateway_page_without_acting(api, emulator, control):
    add_fault(control, method="POST", action="raw")
    response = api("POST", "/repo/r1/apikey", json=NEW_KEY)
    assert response.status_code == 502
    assert response.headers["Content-Type"] == "text/html"
    assert "Bad Gateway" in response.text
    assert emulator.state()["keys"] == []


def test_raw_fault_can_act_first(api, emulator, control):
    add_fault(control, method="POST", action="raw", act=True, status=200, content_type="text/plain", body="ok?")
    response = api("POST", "/repo/r1/apikey", json=NEW_KEY)
    assert (response.status_code, response.headers["Content-Type"], response.text) == (200, "text/plain", "ok?")
    assert len(emulator.state()["keys"]) == 1


def test_raw_fault_can_answer_a_redirect(api, emulator, control):
    target = emulator.url + "/repo/r1/apikey"
    add_fault(control, method="POST", action="raw", status=307, body="", location=target)
    response = api("POST", "/repo/r1/apikey", json=NEW_KEY, allow_redirects=False)
    assert (response.status_code, response.headers["Location"]) == (307, target)
    assert emulator.state()["keys"] == []


def test_faults_match_method_and_path_and_are_consumed_in_order(api, control):
    add_fault(control, method="PUT", action="status", status=500)  # never matches a GET
    add_fault(control, method="GET", path=r"^/repo/r2/", action="status", status=503)
    add_fault(control, method="GET", path=r"/apikey$", action="status", status=502, times=2)
    assert api("GET", "/repo").status_code == 200
    assert [api("GET", "/repo/r2/apikey").status_code for dummy in range(4)] == [503, 502, 502, 200]
    pending = control("GET", "/faults").json()["faults"]
    assert [(f["method"], f["action"], f["times"], f["status"]) for f in pending] == [("PUT", "status", 1, 500)]


def test_faults_can_be_listed_and_cleared(api, control):
    fault_id = add_fault(control, path="/repo", action="slow", times=3)
    assert control("GET", "/faults").json() == {"faults": [
        {"id": fault_id, "method": "*", "path": "/repo", "action": "slow", "times": 3, "delay": 2.0}]}
    assert control("DELETE", "/faults").json() == {"ok": True}
    assert control("GET", "/faults").json() == {"faults": []}
    assert api("GET", "/repo").status_code == 200


@pytest.mark.parametrize("spec", [
    {"action": "explode"},
    {},
    {"action": "status", "method": "PATCH"},
    {"action": "status", "path": "("},
    {"action": "status", "times": 0},
    {"action": "status", "status": 101},
    {"action": "slow", "delay": -1},
    {"action": "drop_before", "status": 500},  # parameter of another action
    {"action": "raw", "act": "yes"},
    {"action": "raw", "location": "http://x/\r\nSet-Cookie: a=b"},
])
def test_invalid_fault_specs_are_400(control, spec):
    response = control("POST", "/faults", json=spec)
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert control("GET", "/faults").json() == {"faults": []}


# --------------------------------------------------------------------------- control interface


def test_health(control):
    assert control("GET", "/health").json() == {"ok": True}


def test_control_errors(control):
    assert control("GET", "/nope").status_code == 404
    assert control("PUT", "/state").status_code == 405
    assert control("POST", "/faults", data="{").status_code == 400


def test_state_lists_repos_and_keys_including_deleted(api, emulator, control):
    created = create_key(api)
    api("DELETE", f"/repo/r1/apikey/{created['id']}")
    state = control("GET", "/state").json()
    assert state == emulator.state()
    assert [r["id"] for r in state["repos"]] == ["r1", "r2", "r3", "r4", "r5"]
    assert state["keys"] == [{"repo_id": "r1", "id": created["id"], "name": "ci", "accessType": "READ",
                              "key": created["key"], "secret": created["secret"],
                              "createdAt": state["keys"][0]["createdAt"], "deleted": True}]


def test_inject_key_allows_duplicates_and_old_keys(api, control):
    old = {"repo_id": "r1", "name": "dup", "accessType": "WRITE", "createdAt": "2020-01-01T00:00:00.000Z",
           "id": "old-key-id"}
    injected = control("POST", "/keys", json=old).json()
    assert {k: injected[k] for k in old} == old
    assert injected["deleted"] is False and injected["secret"] and injected["key"].startswith("FBK")
    control("POST", "/keys", json={"repo_id": "r1", "name": "dup", "accessType": "READ"})
    listed = api("GET", "/repo/r1/apikey").json()["keys"]
    assert [(k["name"], k["createdAt"]) for k in listed][0] == ("dup", "2020-01-01T00:00:00.000Z")
    assert [k["name"] for k in listed] == ["dup", "dup"]


@pytest.mark.parametrize("spec", [
    {"repo_id": "r9", "name": "x", "accessType": "READ"},
    {"name": "x", "accessType": "READ"},
    {"repo_id": "r1", "name": "x", "accessType": "ROOT"},
    ["not", "an", "object"],
])
def test_inject_key_rejects_bad_specs(control, spec):
    assert control("POST", "/keys", json=spec).status_code == 400


CUSTOM_SEED = {
    "tokens": {"only-token": ["z1"]},
    "repos": [{"id": "z1", "name": "zeta", "storageType": "S3", "mode": "MIRROR", "workspaceId": "wz",
               "buckets": [{"folder": "zeta/", "master": True, "bucketId": "bz"}],
               "createdAt": "2021-05-05T05:05:05.005Z"}],
    "keys": [{"repo_id": "z1", "name": "seeded", "accessType": "READ", "createdAt": "2020-01-01T00:00:00.000Z",
              "id": "k1", "key": "FBKSEEDEDSEEDEDSEED", "secret": "s3cr3t"}],
}


def test_reset_restores_the_default_seed(api, emulator, control):
    create_key(api)
    add_fault(control, action="status")
    assert control("POST", "/reset").json() == {"ok": True}
    assert emulator.state()["keys"] == [] and emulator.requests == []
    assert control("GET", "/faults").json() == {"faults": []}
    assert api("GET", "/repo").status_code == 200


def test_reset_to_a_custom_seed(api, emulator, control):
    assert control("POST", "/reset", json=CUSTOM_SEED).status_code == 200
    assert api("GET", "/repo").status_code == 401
    assert api("GET", "/repo", token="only-token").json()["repos"] == CUSTOM_SEED["repos"]
    listed = api("GET", "/repo/z1/apikey", token="only-token").json()["keys"]
    assert [(k["id"], k["key"], k["createdAt"]) for k in listed] == [
        ("k1", "FBKSEEDEDSEEDEDSEED", "2020-01-01T00:00:00.000Z")]
    assert emulator.state()["keys"][0]["secret"] == "s3cr3t"


@pytest.mark.parametrize("seed", [
    {"tokens": {"t": "r1"}},
    {"repos": [{"name": "no-id"}]},
    {"repos": [{"id": "x", "name": "a"}, {"id": "x", "name": "b"}]},
    {"repos": [], "keys": [{"repo_id": "r1", "name": "orphan", "accessType": "READ"}]},
    {"repos": [{"id": "x", "name": "a", "storageType": "AZURE"}]},
    {"repos": [{"id": "x", "name": "a", "mode": "mirror"}]},
    {"repos": [{"id": "x", "name": "a", "workspaceId": ""}]},
    {"repos": [{"id": "x", "name": "a", "buckets": {"folder": "", "master": True}}]},
    {"repos": [{"id": "x", "name": "a", "buckets": [{"folder": "", "master": "yes"}]}]},
    {"repos": [{"id": "x", "name": "a", "buckets": [{"folder": "", "master": True, "region": "eu"}]}]},
    {"repos": [{"id": "x", "name": "a"}], "keys": [{"repo_id": "x", "name": "  ", "accessType": "READ"}]},
])
def test_reset_rejects_bad_seeds_and_keeps_state(api, control, seed):
    create_key(api)
    assert control("POST", "/reset", json=seed).status_code == 400
    assert len(api("GET", "/repo/r1/apikey").json()["keys"]) == 1


def test_python_api_with_custom_seed_leaves_the_seed_untouched():
    seed = json.loads(json.dumps(CUSTOM_SEED))
    emu = Emulator(seed)
    url = emu.start()
    try:
        response = requests.get(url + "/repo/z1/apikey", headers={"Authorization": "Bearer only-token"},
                                timeout=TIMEOUT)
        assert [k["name"] for k in response.json()["keys"]] == ["seeded"]
    finally:
        emu.stop()
    emu.stop()  # idempotent
    assert seed == CUSTOM_SEED
    assert not DEFAULT_SEED["keys"]


def test_stop_cuts_keep_alive_connections():
    emu = Emulator()
    url = emu.start()
    with requests.Session() as session:
        assert session.get(url + "/_emulator/health", timeout=TIMEOUT).status_code == 200
        emu.stop()
        with pytest.raises(requests.exceptions.ConnectionError):
            session.get(url + "/_emulator/health", timeout=TIMEOUT)


# --------------------------------------------------------------------------- TLS


def test_https_with_the_emulator_ca(tmp_path):
    emu = Emulator()
    url = emu.start(tls=True, cert_dir=str(tmp_path))
    try:
        assert url.startswith("https://127.0.0.1:")
        assert emu.ca_path == str(tmp_path / "emulator-ca.pem")
        response = requests.get(url + "/repo", headers={"Authorization": f"Bearer {ADMIN}"},
                                verify=emu.ca_path, timeout=TIMEOUT)
        assert response.status_code == 200
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(url + "/repo", verify=True, timeout=TIMEOUT)
        # The failed handshake must not disturb the server.
        assert requests.get(url + "/_emulator/health", verify=emu.ca_path, timeout=TIMEOUT).ok
    finally:
        emu.stop()
    assert os.path.exists(emu.ca_path)  # a caller-chosen cert dir is left in place


def test_https_default_cert_dir_is_removed_on_stop():
    emu = Emulator()
    url = emu.start(tls=True)
    assert requests.get(url.replace("127.0.0.1", "localhost") + "/_emulator/health",
                        verify=emu.ca_path, timeout=TIMEOUT).ok
    emu.stop()
    assert not os.path.exists(emu.ca_path)


# --------------------------------------------------------------------------- CLI


def run_cli(*args):
    return subprocess.Popen([sys.executable, str(SCRIPT), "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_file(path, deadline=10.0):
    stop = time.monotonic() + deadline
    while not path.exists():
        assert time.monotonic() < stop, "the emulator did not write its URL file"
        time.sleep(0.02)
    return path.read_text().strip()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_cli_serves_until_signalled_then_exits_cleanly(tmp_path, stop_signal):
    url_file = tmp_path / "url"
    proc = run_cli("--url-file", str(url_file))
    try:
        url = wait_for_file(url_file)
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
        assert requests.get(url + "/_emulator/health", timeout=TIMEOUT).json() == {"ok": True}
    finally:
        proc.send_signal(stop_signal)
        stdout, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert stdout == url + "\n"
    assert "Traceback" not in stderr
    assert [p.name for p in tmp_path.iterdir()] == ["url"]  # no temp file left behind


def test_cli_tls_and_seed(tmp_path):
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(json.dumps(CUSTOM_SEED))
    proc = run_cli("--tls", "--cert-dir", str(tmp_path), "--seed", str(seed_file))
    try:
        url = proc.stdout.readline().strip()
        ca_path = proc.stderr.readline().strip()
        assert url.startswith("https://") and ca_path == str(tmp_path / "emulator-ca.pem")
        response = requests.get(url + "/repo", headers={"Authorization": "Bearer only-token"},
                                verify=ca_path, timeout=TIMEOUT)
        assert [r["id"] for r in response.json()["repos"]] == ["z1"]
    finally:
        proc.send_signal(signal.SIGTERM)
        dummy, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert "Traceback" not in stderr


def test_issued_secrets_survive_resets(api, control, emulator):
    created = api("POST", "/repo/r1/apikey", json=NEW_KEY).json()["secret"]
    injected = emulator.backend.inject_key({"repo_id": "r2", "name": "x", "accessType": "READ"})["secret"]
    control("POST", "/reset")
    assert control("GET", "/issued").json() == {"secrets": [created, injected]}


def test_https_sibling_shares_the_backend(control, emulator):
    first = control("POST", "/https").json()
    assert first == control("POST", "/https").json()
    assert first["url"].startswith("https://127.0.0.1:")
    answer = requests.post(first["url"] + "/repo/r1/apikey", json=NEW_KEY, verify=first["ca_path"],
                           headers={"Authorization": "Bearer fb-test-admin-token"}, timeout=5)
    assert answer.status_code == 200
    assert [key["id"] for key in emulator.state()["keys"]] == [answer.json()["id"]]
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(first["url"] + "/repo", timeout=5, verify=True)


def test_faults_can_be_armed_as_a_list(control):
    answer = control("POST", "/faults", json=[{"method": "GET", "path": "/repo", "action": "status"},
                                              {"method": "PUT", "path": "/repo", "action": "drop_before"}])
    assert answer.json() == {"ids": [1, 2]}
    assert [fault["action"] for fault in control("GET", "/faults").json()["faults"]] == ["status", "drop_before"]
