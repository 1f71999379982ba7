"""The emulator's answers against the shapes Flashback's TypeScript client declares, and the GET /repo filters.

The schema below is written down by hand from the field lists of the vendor client's types
(github.com/flashbacknetwork/FlashbackClient, src/api/types/storage/storage.ts: StorageRepoWithBuckets,
RepoBucketInfo, ApiKey, EncryptedKey, the list/create/update answers) plus the error body the API documents.
Stricter than TypeScript in one way: a field the client does not declare counts as a problem, so the emulator
cannot drift into answers the client has no type for.
"""

from __future__ import annotations

import pytest
import requests

from flashback_emulator import Backend, BadRequest, Emulator

ADMIN = "fb-test-admin-token"
R1_ONLY = "fb-test-r1-token"
TIMEOUT = 5


class Enum(tuple):
    """A string that must be one of these values."""


class ListOf(str):
    """A list whose items all have the named shape."""


class Literal(tuple):
    """Exactly this one value (a 1-tuple)."""


# shape name -> (required fields, optional fields); a field maps to a Python type, an Enum, a ListOf or a shape name.
SHAPES = {
    "StorageRepoWithBuckets": ({
        "id": str, "name": str, "storageType": Enum(("S3", "GCS", "BLOB")), "mode": Enum(("NORMAL", "MIRROR")),
        "workspaceId": str, "buckets": ListOf("RepoBucketInfo"), "createdAt": str,
    }, {
        "aiLlms": list, "apiKeys": ListOf("ApiKey"), "aiApiKeys": list, "disabled": bool, "walletAddress": str,
    }),
    "RepoBucketInfo": ({"folder": str, "master": bool}, {"bucketId": str, "bucket": dict}),
    "ApiKey": ({
        "id": str, "name": str, "accessType": Enum(("READ", "WRITE", "ADMIN")), "key": str, "createdAt": str,
    }, {"secret": "EncryptedKey"}),
    "EncryptedKey": ({"key": str, "iv": str, "authTag": str, "message": str}, {}),
    "GetReposResponse": ({"success": Literal((True,)), "repos": ListOf("StorageRepoWithBuckets")}, {}),
    "GetRepoKeysResponse": ({"success": Literal((True,)), "keys": ListOf("ApiKey")}, {}),
    "CreateRepoKeyResponse": ({"success": Literal((True,)), "id": str, "key": str, "secret": str}, {}),
    "ActionResponse": ({"success": Literal((True,))}, {"message": str}),
    # Not a client type: the API's error body. `message` always; some errors add error_code/error_message.
    "ErrorBody": ({"success": Literal((False,)), "message": str}, {"error_code": str, "error_message": str}),
}


def problems(value, shape, where="$"):
    """Every way `value` departs from `shape`, as readable strings (empty: it conforms)."""
    if isinstance(shape, Literal):
        return [] if value is shape[0] else [f"{where}: {value!r} is not {shape[0]!r}"]
    if isinstance(shape, Enum):
        return [] if value in shape else [f"{where}: {value!r} is not one of {'|'.join(shape)}"]
    if isinstance(shape, ListOf):
        if not isinstance(value, list):
            return [f"{where}: not a list"]
        return [p for index, item in enumerate(value) for p in problems(item, str(shape), f"{where}[{index}]")]
    if isinstance(shape, type):
        # bool is an int in Python; JSON keeps them apart, so do we.
        if isinstance(value, shape) and not (shape is not bool and isinstance(value, bool)):
            return []
        return [f"{where}: {type(value).__name__}, not {shape.__name__}"]
    required, optional = SHAPES[shape]
    if not isinstance(value, dict):
        return [f"{where}: not an object ({shape})"]
    found = [f"{where}.{name}: missing" for name in required if name not in value]
    found += [f"{where}.{name}: not declared by {shape}" for name in value if name not in required and name not in optional]
    for name, field_shape in {**required, **optional}.items():
        if name in value:
            found += problems(value[name], field_shape, f"{where}.{name}")
    return found


@pytest.fixture
def api(emulator):
    session = requests.Session()

    def call(method, path, token=ADMIN, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return session.request(method, emulator.url + path, headers=headers, timeout=TIMEOUT, **kwargs)

    yield call
    session.close()


# --------------------------------------------------------------------------- the checker itself


VALID_REPO = {"id": "r", "name": "n", "storageType": "S3", "mode": "MIRROR", "workspaceId": "w",
              "buckets": [{"folder": "", "master": True}], "createdAt": "2020-01-01T00:00:00.000Z"}


@pytest.mark.parametrize("change, expected", [
    ({"storageType": "AZURE"}, "$.storageType: 'AZURE' is not one of S3|GCS|BLOB"),
    ({"mode": "mirror"}, "$.mode: 'mirror' is not one of NORMAL|MIRROR"),
    ({"workspaceId": None}, "$.workspaceId: NoneType, not str"),
    ({"workspaceId": 7}, "$.workspaceId: int, not str"),
    ({"buckets": [{"folder": "", "master": 1}]}, "$.buckets[0].master: int, not bool"),
    ({"buckets": [{"master": True}]}, "$.buckets[0].folder: missing"),
    ({"buckets": {}}, "$.buckets: not a list"),
    ({"disabled": "no"}, "$.disabled: str, not bool"),
    ({"units": []}, "$.units: not declared by StorageRepoWithBuckets"),
])
def test_the_checker_catches_what_the_client_type_forbids(change, expected):
    assert problems(VALID_REPO, "StorageRepoWithBuckets") == []
    assert problems({**VALID_REPO, **change}, "StorageRepoWithBuckets") == [expected]


def test_the_checker_catches_missing_required_fields():
    repo = {k: v for k, v in VALID_REPO.items() if k not in ("workspaceId", "buckets")}
    assert problems(repo, "StorageRepoWithBuckets") == ["$.workspaceId: missing", "$.buckets: missing"]
    assert problems({"success": False, "error_code": "X", "error_message": "y"}, "ErrorBody") == ["$.message: missing"]


# --------------------------------------------------------------------------- answers against the shapes


def test_every_listed_repo_is_a_storage_repo_with_buckets(api):
    body = api("GET", "/repo").json()
    assert problems(body, "GetReposResponse") == []
    assert {r["id"]: r["storageType"] for r in body["repos"]} == {"r1": "S3", "r2": "GCS", "r3": "BLOB",
                                                                  "r4": "S3", "r5": "S3"}
    # Defaults: one workspace, one master bucket per repository.
    assert {r["workspaceId"] for r in body["repos"]} == {"w1"}
    assert [[b["master"] for b in r["buckets"]] for r in body["repos"]] == [[True]] * 5


def test_key_answers_have_the_client_shapes(api):
    created = api("POST", "/repo/r1/apikey", json={"repoId": "r1", "name": "ci", "accessType": "READ"}).json()
    assert problems(created, "CreateRepoKeyResponse") == []
    listed = api("GET", "/repo/r1/apikey").json()
    assert problems(listed, "GetRepoKeysResponse") == []
    assert "secret" in listed["keys"][0]  # the optional encrypted secret is there, and was checked
    path = f"/repo/r1/apikey/{created['id']}"
    assert problems(api("PUT", path, json={"name": "ci2", "accessType": "ADMIN"}).json(), "ActionResponse") == []
    assert problems(api("DELETE", path).json(), "ActionResponse") == []


def error_answers(api, emulator):
    """(label, response) for every kind of error the emulator answers in JSON."""
    yield "401", api("GET", "/repo", token="nope")
    yield "403", api("GET", "/repo/r2/apikey", token=R1_ONLY)
    yield "404 repo", api("GET", "/repo/r9/apikey")
    yield "404 key", api("DELETE", "/repo/r1/apikey/none")
    yield "404 path", api("GET", "/nothing")
    yield "405", api("DELETE", "/repo")
    yield "400 body", api("POST", "/repo/r1/apikey", json={"name": "x"})
    yield "400 blank name", api("POST", "/repo/r1/apikey", json={"name": "  ", "accessType": "READ"})
    yield "400 filter", api("GET", "/repo?repoId=r1&repoId=r2")
    yield "411", requests.post(emulator.url + "/repo/r1/apikey", data=iter([b"{}"]), timeout=TIMEOUT)
    emulator.backend.add_fault({"action": "status", "status": 429})
    yield "429 injected", api("GET", "/repo")


def test_every_error_body_carries_a_message(api, emulator):
    answers = list(error_answers(api, emulator))
    assert [label.split()[0] for label, r in answers] == [str(r.status_code) for label, r in answers]
    for label, response in answers:
        assert problems(response.json(), "ErrorBody") == [], label


def test_the_403_keeps_its_alternate_fields(api):
    body = api("GET", "/repo/r2/apikey", token=R1_ONLY).json()
    assert (body["error_code"], body["error_message"]) == ("FORBIDDEN", body["message"])


def test_a_key_name_with_spaces_around_it_is_stored_as_given(api):
    created = api("POST", "/repo/r1/apikey", json={"name": " ci ", "accessType": "READ"}).json()
    assert [k["name"] for k in api("GET", "/repo/r1/apikey").json()["keys"]] == [" ci "]
    response = api("PUT", f"/repo/r1/apikey/{created['id']}", json={"name": "\t", "accessType": "READ"})
    assert response.status_code == 400
    assert [k["name"] for k in api("GET", "/repo/r1/apikey").json()["keys"]] == [" ci "]


# --------------------------------------------------------------------------- GET /repo filters


def repo_ids(api, query="", token=ADMIN):
    response = api("GET", "/repo" + query, token=token)
    assert response.status_code == 200, response.text
    assert problems(response.json(), "GetReposResponse") == []
    return [repo["id"] for repo in response.json()["repos"]]


def test_repo_id_filter_gives_that_repository_first_as_get_storage_repo_reads_it(api):
    assert repo_ids(api, "?repoId=r3") == ["r3"]
    assert api("GET", "/repo?repoId=r3").json()["repos"][0]["name"] == "logs"
    assert repo_ids(api, "/?repoId=r3") == ["r3"]  # trailing slash
    assert repo_ids(api, "?repoId=%72%32") == ["r2"]  # percent-encoded


@pytest.mark.parametrize("query, token", [
    ("?repoId=r9", ADMIN),      # unknown
    ("?repoId=r2", R1_ONLY),    # exists, outside the token's scope: as if unknown, not a 403
])
def test_repo_id_filter_without_a_visible_match_is_an_empty_list(api, query, token):
    response = api("GET", "/repo" + query, token=token)
    assert (response.status_code, response.json()) == (200, {"success": True, "repos": []})


def test_an_empty_or_unknown_parameter_filters_nothing(api):
    everything = ["r1", "r2", "r3", "r4", "r5"]
    assert repo_ids(api, "?") == everything  # what the client sends with no filter at all
    assert repo_ids(api, "?repoId=") == everything
    assert repo_ids(api, "?walletAddress=0xabc") == everything


def test_a_repeated_filter_is_refused_after_the_token_check(api):
    assert api("GET", "/repo?repoId=r1&repoId=r2").status_code == 400
    assert api("GET", "/repo?repoId=r1&repoId=r2", token="nope").status_code == 401


def test_workspace_filter_and_both_filters_together():
    seed = {
        "tokens": {"t": "*", "scoped": ["a1", "b1"]},
        "repos": [
            {"id": "a1", "name": "alpha", "workspaceId": "wa"},
            {"id": "a2", "name": "alpha-2", "workspaceId": "wa", "storageType": "BLOB", "mode": "NORMAL",
             "buckets": [{"folder": "x/", "master": True, "bucketId": "b-x"}, {"folder": "y/", "master": False}],
             "disabled": True, "walletAddress": "0xabc"},
            {"id": "b1", "name": "beta", "workspaceId": "wb"},
        ],
    }
    emu = Emulator(seed)
    url = emu.start()
    try:
        def ids(query, token="t"):
            body = requests.get(url + "/repo" + query, headers={"Authorization": f"Bearer {token}"},
                                timeout=TIMEOUT).json()
            assert problems(body, "GetReposResponse") == []
            return [repo["id"] for repo in body["repos"]]

        assert ids("?workspaceId=wa") == ["a1", "a2"]
        assert ids("?workspaceId=wa", token="scoped") == ["a1"]
        assert ids("?workspaceId=wa&repoId=a2") == ["a2"]
        assert ids("?workspaceId=wb&repoId=a2") == []
        assert ids("?workspaceId=nowhere") == []
        a2 = emu.state()["repos"][1]
        assert (a2["disabled"], a2["walletAddress"], len(a2["buckets"])) == (True, "0xabc", 2)
        assert a2["buckets"][1] == {"folder": "y/", "master": False}
    finally:
        emu.stop()


def test_the_request_log_keeps_the_query(api, emulator):
    api("GET", "/repo?repoId=r1")
    assert (emulator.requests[-1]["path"], emulator.requests[-1]["query"]) == ("/repo", "repoId=r1")


@pytest.mark.parametrize("repo, message", [
    ({"storageType": "AZURE"}, "storageType must be one of S3, GCS, BLOB"),
    ({"mode": "BACKUP"}, "mode must be one of NORMAL, MIRROR"),
])
def test_seeds_outside_the_enums_are_refused(repo, message):
    with pytest.raises(BadRequest, match=message):
        Backend({"repos": [{"id": "x", "name": "x", **repo}]})
