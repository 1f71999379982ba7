"""In-memory emulator of the Flashback repository API-key API, served over real HTTP(S).

It implements the published endpoints (see docs in emulator/README.md) closely enough that
the collection's modules can be exercised end to end, and adds a `/_emulator` control
interface that lets tests inspect state, read a request log and inject faults (errors,
throttling, dropped connections, gateway pages, slowness).

Standard library only; `--tls` lazily imports `cryptography` to mint a self-signed cert.
"""

from __future__ import annotations

import argparse
import copy
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import string
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit

import hostile  # emulator/hostile.py: the hostile mode (POST /_emulator/hostile)

ACCESS_TYPES = ("READ", "WRITE", "ADMIN")
# The vendor client's StorageType and ModeType enums ("BLOB" is Azure Blob storage).
STORAGE_TYPES = ("S3", "GCS", "BLOB")
MODES = ("NORMAL", "MIRROR")
DEFAULT_WORKSPACE = "w1"
# GET /repo filters the emulator applies; others (the client's walletAddress) are accepted and ignored.
REPO_FILTERS = {"repoId": "id", "workspaceId": "workspaceId"}
CONTROL_PREFIX = "/_emulator"
CA_FILENAME = "emulator-ca.pem"
KEY_FILENAME = "emulator-key.pem"

DEFAULT_SEED: dict[str, Any] = {
    # The env token is only ever passed through environment variables, which ansible-core prints on
    # its EXEC lines at -vvv: leak audits tolerate it and only it.
    "tokens": {"fb-test-admin-token": "*", "fb-test-r1-token": ["r1"], "fb-test-env-token": "*"},
    "repos": [
        {"id": "r1", "name": "backups", "storageType": "S3", "mode": "MIRROR"},
        {"id": "r2", "name": "media", "storageType": "GCS", "mode": "MIRROR"},
        {"id": "r3", "name": "logs", "storageType": "BLOB", "mode": "MIRROR"},
        # Two repositories sharing a name: lookups by name must detect the ambiguity.
        {"id": "r4", "name": "shared", "storageType": "S3", "mode": "MIRROR"},
        {"id": "r5", "name": "shared", "storageType": "S3", "mode": "MIRROR"},
    ],
    "keys": [],
}

Headers = tuple[tuple[str, str], ...]

_KEY_ALPHABET = string.ascii_uppercase + string.digits
_GATEWAY_PAGE = (
    "<html><head><title>502 Bad Gateway</title></head>"
    "<body><center><h1>502 Bad Gateway</h1></center></body></html>"
)


# --------------------------------------------------------------------------- errors


class BadRequest(ValueError):
    """Invalid input (request body, seed, fault or key spec); answered with HTTP 400."""


class ApiError(Exception):
    """An HTTP error answer with an exact JSON payload (the API has two error shapes)."""

    def __init__(self, status: int, payload: dict[str, Any], headers: Headers = ()):
        super().__init__(status)
        self.status = status
        self.payload = payload
        self.headers = headers

    @classmethod
    def with_message(cls, status: int, text: str, headers: Headers = ()) -> ApiError:
        """An error in the usual `{"success": false, "message": ...}` shape."""
        return cls(status, {"success": False, "message": text}, headers)


def _unauthorized() -> ApiError:
    # Deliberately generic: the token is never echoed back.
    return ApiError.with_message(401, "Unauthorized")


def _forbidden() -> ApiError:
    # The real API uses this alternate error shape for scope failures; `message` is there too, since every
    # error body carries one (clients read it without knowing which shape they got).
    text = "No access to this repository"
    return ApiError(403, {"success": False, "error_code": "FORBIDDEN", "error_message": text, "message": text})


# --------------------------------------------------------------------------- helpers


def _now_iso() -> str:
    """Current UTC time the way the API formats it: milliseconds and a literal Z."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _new_access_key() -> str:
    return "FBK" + "".join(secrets.choice(_KEY_ALPHABET) for dummy in range(17))


def _fake_encrypted_secret() -> dict[str, str]:
    """Random junk shaped like the encrypted secret the real list endpoint leaks."""
    return {
        "key": secrets.token_hex(32),
        "iv": secrets.token_hex(16),
        "authTag": secrets.token_hex(16),
        "message": secrets.token_hex(40),
    }


def _require_str(spec: dict[str, Any], name: str, *, optional: bool = False) -> str | None:
    value = spec.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{name} must be a non-empty string")
    return value


def _require_object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequest(f"{what} must be a JSON object")
    return value


def _key_fields(data: Any) -> tuple[str, str]:
    """The (name, accessType) pair every key write requires."""
    data = _require_object(data, "Request body")
    name = _require_str(data, "name")
    if not name.strip():
        # Stored as given otherwise: only a name that is nothing but whitespace is refused.
        raise BadRequest("name must not be blank")
    access_type = data.get("accessType")
    if access_type not in ACCESS_TYPES:
        raise BadRequest(f"accessType must be one of {', '.join(ACCESS_TYPES)}")
    return name, access_type


class JsonBody(NamedTuple):
    """A request body parsed once; validity is kept so 400s can come after auth/scope checks."""

    value: Any
    valid: bool

    @classmethod
    def parse(cls, raw: bytes) -> JsonBody:
        """Parse raw bytes; an empty body is valid and parses to None."""
        if not raw:
            return cls(None, True)
        try:
            return cls(json.loads(raw), True)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return cls(None, False)

    def require(self) -> Any:
        """The parsed value, or BadRequest if the body was not JSON."""
        if not self.valid:
            raise BadRequest("Request body is not valid JSON")
        return self.value


# --------------------------------------------------------------------------- state records


@dataclass
class _Key:  # pylint: disable=too-many-instance-attributes  # a plain record
    """One API key as the server stores it, soft-delete flag included."""

    repo_id: str
    id: str
    name: str
    access_type: str
    key: str
    secret: str
    created_at: str
    deleted: bool = False
    encrypted: dict[str, str] = field(default_factory=_fake_encrypted_secret)

    @classmethod
    def from_spec(cls, repo_id: str, spec: dict[str, Any]) -> _Key:
        """Build a key from a seed/injection spec; unset id, key, secret and createdAt are generated."""
        name, access_type = _key_fields(spec)
        return cls(
            repo_id=repo_id,
            id=_require_str(spec, "id", optional=True) or str(uuid.uuid4()),
            name=name,
            access_type=access_type,
            key=_require_str(spec, "key", optional=True) or _new_access_key(),
            secret=_require_str(spec, "secret", optional=True) or secrets.token_urlsafe(30),
            created_at=_require_str(spec, "createdAt", optional=True) or _now_iso(),
        )

    def api_view(self) -> dict[str, Any]:
        """What GET /repo/{id}/apikey returns: no plaintext secret, only the encrypted junk."""
        return {
            "id": self.id,
            "name": self.name,
            "accessType": self.access_type,
            "key": self.key,
            "createdAt": self.created_at,
            "secret": dict(self.encrypted),
        }

    def state_view(self) -> dict[str, Any]:
        """What tests see through /_emulator/state: everything, plaintext secret included."""
        return {
            "repo_id": self.repo_id,
            "id": self.id,
            "name": self.name,
            "accessType": self.access_type,
            "key": self.key,
            "secret": self.secret,
            "createdAt": self.created_at,
            "deleted": self.deleted,
        }


class _World(NamedTuple):
    """The seeded part of the state: who may see what, and what exists."""

    tokens: dict[str, str | list[str]]
    repos: dict[str, dict[str, Any]]
    keys: list[_Key]


def _load_seed(seed: dict[str, Any]) -> _World:
    """Validate a seed and turn it into fresh state (deep-copied: the caller's dict stays untouched)."""
    seed = _require_object(seed, "seed")
    tokens = _require_object(seed.get("tokens", {}), "seed tokens")
    for scope in tokens.values():
        if scope != "*" and not (isinstance(scope, list) and all(isinstance(r, str) for r in scope)):
            raise BadRequest('each token scope must be "*" or a list of repository ids')
    repos: dict[str, dict[str, Any]] = {}
    for repo in seed.get("repos", []):
        repo = _require_object(repo, "seed repo")
        repo_id = _require_str(repo, "id")
        if repo_id in repos:
            raise BadRequest(f"duplicate repository id {repo_id!r}")
        repos[repo_id] = _repo_from_spec(repo_id, repo)
    keys = []
    for spec in seed.get("keys", []):
        spec = _require_object(spec, "seed key")
        keys.append(_Key.from_spec(_known_repo_id(repos, spec), spec))
    return _World(copy.deepcopy(tokens), repos, keys)


def _one_of(spec: dict[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = spec.get(name, default)
    if value not in allowed:
        raise BadRequest(f"{name} must be one of {', '.join(allowed)}")
    return value


def _bucket_from_spec(spec: Any) -> dict[str, Any]:
    spec = _require_object(spec, "seed repo bucket")
    unknown = set(spec) - {"folder", "master", "bucketId", "bucket"}
    if unknown:
        raise BadRequest(f"unknown bucket fields: {', '.join(sorted(unknown))}")
    if not isinstance(spec.get("folder"), str):
        raise BadRequest("bucket folder must be a string")
    if not isinstance(spec.get("master"), bool):
        raise BadRequest("bucket master must be a boolean")
    bucket = {"folder": spec["folder"], "master": spec["master"]}
    if "bucketId" in spec:
        bucket["bucketId"] = _require_str(spec, "bucketId")
    if "bucket" in spec:
        bucket["bucket"] = _require_object(spec["bucket"], "bucket bucket")
    return bucket


def _repo_from_spec(repo_id: str, repo: dict[str, Any]) -> dict[str, Any]:
    """A repository as GET /repo lists it (the client's StorageRepoWithBuckets), defaults filled in."""
    buckets = repo.get("buckets")
    if buckets is None:
        # One master bucket, as a repository needs at least one to store anything; the id is made up.
        buckets = [{"folder": "", "master": True, "bucketId": f"bucket-{repo_id}"}]
    elif not isinstance(buckets, list):
        raise BadRequest("seed repo buckets must be a list")
    record = {
        "id": repo_id,
        "name": _require_str(repo, "name"),
        "storageType": _one_of(repo, "storageType", STORAGE_TYPES, "S3"),
        "mode": _one_of(repo, "mode", MODES, "MIRROR"),
        "workspaceId": _require_str(repo, "workspaceId", optional=True) or DEFAULT_WORKSPACE,
        "buckets": [_bucket_from_spec(bucket) for bucket in buckets],
        "createdAt": _require_str(repo, "createdAt", optional=True) or _now_iso(),
    }
    # Optional fields of the client's type: listed only when the seed sets them.
    if "disabled" in repo:
        if not isinstance(repo["disabled"], bool):
            raise BadRequest("seed repo disabled must be a boolean")
        record["disabled"] = repo["disabled"]
    if "walletAddress" in repo:
        record["walletAddress"] = _require_str(repo, "walletAddress")
    return record


def _known_repo_id(repos: dict[str, Any], spec: dict[str, Any]) -> str:
    repo_id = _require_str(spec, "repo_id")
    if repo_id not in repos:
        raise BadRequest(f"unknown repo_id {repo_id!r}")
    return repo_id


# --------------------------------------------------------------------------- faults

# Per action: the parameters it accepts and their defaults.
_FAULT_PARAMS: dict[str, dict[str, Any]] = {
    "status": {"status": 500, "retry_after": 1},
    "act_then_fail": {"status": 500, "retry_after": 1},
    "drop_before": {},
    "drop_after": {},
    "slow": {"delay": 2.0},
    "raw": {"status": 502, "content_type": "text/html", "body": _GATEWAY_PAGE, "act": False, "location": ""},
}
_FAULT_METHODS = ("GET", "POST", "PUT", "DELETE", "*")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_PARAM_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "status": (lambda v: _is_int(v) and 200 <= v <= 599, "an HTTP status code from 200 to 599"),
    "retry_after": (lambda v: _is_int(v) and v >= 0, "a non-negative integer"),
    "delay": (lambda v: (_is_int(v) or isinstance(v, float)) and v >= 0, "a non-negative number"),
    "content_type": (lambda v: isinstance(v, str), "a string"),
    "body": (lambda v: isinstance(v, str), "a string"),
    "act": (lambda v: isinstance(v, bool), "a boolean"),
    "location": (lambda v: isinstance(v, str) and "\r" not in v and "\n" not in v, "a string without line breaks"),
}


@dataclass(frozen=True)
class Response:
    """An HTTP answer ready to be written."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: Headers = ()


def _json_response(status: int, payload: Any, headers: Headers = ()) -> Response:
    return Response(status, json.dumps(payload).encode(), headers=headers)


@dataclass
class Fault:
    """A pending injected fault: which requests it hits, how often, and what it does."""

    id: int
    method: str
    path: str
    action: str
    times: int
    params: dict[str, Any]

    @classmethod
    def from_spec(cls, fault_id: int, spec: Any) -> Fault:
        """Validate a POST /_emulator/faults body and fill in the action's defaults."""
        spec = dict(_require_object(spec, "fault"))
        method = spec.pop("method", "*")
        path = spec.pop("path", "")
        action = spec.pop("action", None)
        times = spec.pop("times", 1)
        if method not in _FAULT_METHODS:
            raise BadRequest(f"method must be one of {', '.join(_FAULT_METHODS)}")
        if not isinstance(path, str):
            raise BadRequest("path must be a regular expression string")
        try:
            re.compile(path)
        except re.error as exc:
            raise BadRequest(f"path is not a valid regular expression: {exc}") from None
        if action not in _FAULT_PARAMS:
            raise BadRequest(f"action must be one of {', '.join(_FAULT_PARAMS)}")
        if not _is_int(times) or times < 1:
            raise BadRequest("times must be a positive integer")
        params = dict(_FAULT_PARAMS[action])
        for name, value in spec.items():
            # Unknown parameters are rejected so a typo cannot silently become a default.
            if name not in params:
                raise BadRequest(f"parameter {name!r} does not apply to action {action!r}")
            check, expected = _PARAM_CHECKS[name]
            if not check(value):
                raise BadRequest(f"{name} must be {expected}")
            params[name] = value
        return cls(fault_id, method, path, action, times, params)

    def matches(self, method: str, path: str) -> bool:
        """Whether this fault applies to a request (path regex uses re.search)."""
        return self.method in ("*", method) and re.search(self.path, path) is not None

    @property
    def performs_action(self) -> bool:
        """Whether the real request is carried out (and may change state) under this fault."""
        return self.action in ("act_then_fail", "drop_after", "slow") or (self.action == "raw" and self.params["act"])

    @property
    def delay(self) -> float:
        """Seconds to stall before handling the request (only `slow` has one)."""
        return self.params.get("delay", 0.0)

    def respond(self, real: Response | None) -> Response | None:
        """The answer the client gets instead of `real`; None means: drop the connection."""
        if self.action == "slow":
            return real
        if self.action in ("drop_before", "drop_after"):
            return None
        if self.action == "raw":
            location = self.params["location"]
            return Response(self.params["status"], self.params["body"].encode(), self.params["content_type"],
                            (("Location", location),) if location else ())
        status = self.params["status"]
        headers = (("Retry-After", str(self.params["retry_after"])),) if status == 429 else ()
        return _json_response(status, {"success": False, "message": "injected fault"}, headers)

    def to_dict(self) -> dict[str, Any]:
        """The listing shape of GET /_emulator/faults."""
        return {"id": self.id, "method": self.method, "path": self.path, "action": self.action,
                "times": self.times, **self.params}


# --------------------------------------------------------------------------- backend


class Backend:
    """All mutable emulator state (repos, keys, request log, faults) behind one lock."""

    def __init__(self, seed: dict[str, Any] | None = None):
        self._lock = threading.Lock()
        self._world = _load_seed(DEFAULT_SEED if seed is None else seed)
        self._log: list[dict[str, Any]] = []
        self._faults: list[Fault] = []
        self._next_seq = 1
        self._next_fault_id = 1
        # Every plaintext secret ever handed out, kept across resets: a leak audit of a whole test
        # run needs them all, even those of keys a later reset wiped.
        self._issued: list[str] = [key.secret for key in self._world.keys]
        self.hostile = hostile.Hostile()
        # Set by Emulator: serves this backend over HTTPS too (POST /_emulator/https).
        self.open_https: Callable[[], dict[str, str]] | None = None

    def reset(self, seed: dict[str, Any] | None = None) -> None:
        """Replace everything (state, log, faults) with a fresh seed, DEFAULT_SEED by default."""
        world = _load_seed(DEFAULT_SEED if seed is None else seed)  # validate before touching state
        with self._lock:
            self._world = world
            self._issued.extend(key.secret for key in world.keys)
            self._log.clear()
            self._faults.clear()
            self._next_seq = 1
            self._next_fault_id = 1
        self.hostile.clear()

    # -- published API (each call does its own auth -> repo -> scope -> body checks, in that order)

    def is_authorized(self, token: str | None) -> bool:
        """Whether the token is known (for the request log)."""
        with self._lock:
            return token in self._world.tokens

    def list_repos(self, token: str | None, query: dict[str, list[str]] | None = None) -> dict[str, Any]:
        """GET /repo: the repositories the token may see, narrowed by the `repoId`/`workspaceId` filters.

        A filter that matches nothing the token can see (an unknown id, or one outside its scope) gives an
        empty list, not an error: the vendor client's getStorageRepo reads `repos[0]` and treats an empty
        list as "not found", and a 403 would tell a scoped token which ids exist.
        """
        with self._lock:
            scope = self._scope(token)  # 401 before a bad filter's 400, as for bodies
            filters = _repo_filters(query or {})
            repos = [copy.deepcopy(r) for r in self._world.repos.values()
                     if (scope == "*" or r["id"] in scope)
                     and all(r[field] == value for field, value in filters.items())]
        return {"success": True, "repos": repos}

    def list_keys(self, token: str | None, repo_id: str) -> dict[str, Any]:
        """GET /repo/{repoId}/apikey: live keys in creation order."""
        with self._lock:
            self._check_repo_access(token, repo_id)
            keys = [k.api_view() for k in self._world.keys if k.repo_id == repo_id and not k.deleted]
        return {"success": True, "keys": keys}

    def create_key(self, token: str | None, repo_id: str, body: JsonBody) -> dict[str, Any]:
        """POST /repo/{repoId}/apikey: the only answer carrying the plaintext secret."""
        with self._lock:
            self._check_repo_access(token, repo_id)
            name, access_type = _key_fields(body.require())
            key = _Key.from_spec(repo_id, {"name": name, "accessType": access_type})
            self._world.keys.append(key)
            self._issued.append(key.secret)
        return {"success": True, "id": key.id, "key": key.key, "secret": key.secret}

    def update_key(self, token: str | None, repo_id: str, key_id: str, body: JsonBody) -> dict[str, Any]:
        """PUT /repo/{repoId}/apikey/{apikeyId}: name and accessType only."""
        with self._lock:
            self._check_repo_access(token, repo_id)
            key = self._live_key(repo_id, key_id)
            key.name, key.access_type = _key_fields(body.require())
        return {"success": True, "message": "API key updated"}

    def delete_key(self, token: str | None, repo_id: str, key_id: str) -> dict[str, Any]:
        """DELETE /repo/{repoId}/apikey/{apikeyId}: a soft delete."""
        with self._lock:
            self._check_repo_access(token, repo_id)
            self._live_key(repo_id, key_id).deleted = True
        return {"success": True, "message": "API key deleted"}

    # Helpers below expect the lock to be held.

    def _scope(self, token: str | None) -> str | list[str]:
        if token not in self._world.tokens:
            raise _unauthorized()
        return self._world.tokens[token]

    def _check_repo_access(self, token: str | None, repo_id: str) -> None:
        scope = self._scope(token)
        if repo_id not in self._world.repos:
            raise ApiError.with_message(404, "Repository not found")
        if scope != "*" and repo_id not in scope:
            raise _forbidden()

    def _live_key(self, repo_id: str, key_id: str) -> _Key:
        for key in self._world.keys:
            if key.repo_id == repo_id and key.id == key_id and not key.deleted:
                return key
        raise ApiError.with_message(404, "API key not found")

    # -- control interface

    def state(self) -> dict[str, Any]:
        """Repositories and all keys, deleted ones and plaintext secrets included."""
        with self._lock:
            return {
                "repos": [copy.deepcopy(r) for r in self._world.repos.values()],
                "keys": [k.state_view() for k in self._world.keys],
            }

    def inject_key(self, spec: Any) -> dict[str, Any]:
        """Add a key directly (duplicate names, old createdAt); returns its full record."""
        spec = _require_object(spec, "key")
        with self._lock:
            key = _Key.from_spec(_known_repo_id(self._world.repos, spec), spec)
            self._world.keys.append(key)
            self._issued.append(key.secret)
            return key.state_view()

    def issued_secrets(self) -> list[str]:
        """Every plaintext secret created, injected or seeded since the emulator started."""
        with self._lock:
            return list(self._issued)

    def record_request(self, entry: dict[str, Any]) -> None:
        """Append one API request to the log, numbering it."""
        with self._lock:
            self._log.append({"seq": self._next_seq, **entry})
            self._next_seq += 1

    def requests(self) -> list[dict[str, Any]]:
        """A copy of the request log."""
        with self._lock:
            return copy.deepcopy(self._log)

    def clear_requests(self) -> None:
        """Empty the request log (sequence numbers keep counting)."""
        with self._lock:
            self._log.clear()

    def add_fault(self, spec: Any) -> int:
        """Queue a fault after the pending ones; returns its id."""
        with self._lock:
            fault = Fault.from_spec(self._next_fault_id, spec)
            self._faults.append(fault)
            self._next_fault_id += 1
            return fault.id

    def take_fault(self, method: str, path: str) -> Fault | None:
        """The first pending fault matching the request, consuming one of its `times`."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return fault
            return None

    def faults(self) -> list[dict[str, Any]]:
        """The pending faults, in matching order."""
        with self._lock:
            return [f.to_dict() for f in self._faults]

    def clear_faults(self) -> None:
        """Drop all pending faults."""
        with self._lock:
            self._faults.clear()


# --------------------------------------------------------------------------- routing


class Call(NamedTuple):
    """What a route handler gets: the token, the body, the path parameters (filled by routing), the query."""

    token: str | None
    body: JsonBody
    params: dict[str, str]
    query: dict[str, list[str]] = {}


def _repo_filters(query: dict[str, list[str]]) -> dict[str, str]:
    """The GET /repo filters in a parsed query, as {repo field: value}; an empty value is no filter."""
    filters = {}
    for parameter, repo_field in REPO_FILTERS.items():
        values = [value for value in query.get(parameter, []) if value]
        if len(values) > 1:
            raise BadRequest(f"{parameter} must be given at most once")
        if values:
            filters[repo_field] = values[0]
    return filters


Handler = Callable[[Backend, Call], Any]
Routes = list[tuple[re.Pattern[str], dict[str, Handler]]]

_REPO = r"/repo/(?P<repo_id>[^/]+)/apikey"

# Trailing slashes are tolerated, as the real (Express-based) API does.
API_ROUTES: Routes = [
    (re.compile(r"/repo/?"), {
        "GET": lambda b, c: b.list_repos(c.token, c.query),
    }),
    (re.compile(_REPO + "/?"), {
        "GET": lambda b, c: b.list_keys(c.token, c.params["repo_id"]),
        "POST": lambda b, c: b.create_key(c.token, c.params["repo_id"], c.body),
    }),
    (re.compile(_REPO + r"/(?P<key_id>[^/]+)/?"), {
        "PUT": lambda b, c: b.update_key(c.token, c.params["repo_id"], c.params["key_id"], c.body),
        "DELETE": lambda b, c: b.delete_key(c.token, c.params["repo_id"], c.params["key_id"]),
    }),
]


def _ok() -> dict[str, bool]:
    return {"ok": True}


def _reset(backend: Backend, call: Call) -> dict[str, bool]:
    backend.reset(call.body.require())
    return _ok()


def _clear_requests(backend: Backend, _call: Call) -> dict[str, bool]:
    backend.clear_requests()
    return _ok()


def _clear_faults(backend: Backend, _call: Call) -> dict[str, bool]:
    backend.clear_faults()
    return _ok()


def _add_faults(backend: Backend, call: Call) -> dict[str, Any]:
    """One fault returns {"id": n}; a list (armed all at once, one round trip) returns {"ids": [...]}."""
    spec = call.body.require()
    if isinstance(spec, list):
        return {"ids": [backend.add_fault(item) for item in spec]}
    return {"id": backend.add_fault(spec)}


def _open_https(backend: Backend, _call: Call) -> dict[str, str]:
    if backend.open_https is None:
        raise ApiError.with_message(404, "HTTPS is not available from this emulator")
    return backend.open_https()


CONTROL_ROUTES: Routes = [
    (re.compile(CONTROL_PREFIX + "/health"), {"GET": lambda b, c: _ok()}),
    (re.compile(CONTROL_PREFIX + "/requests"), {
        "GET": lambda b, c: {"requests": b.requests()},
        "DELETE": _clear_requests,
    }),
    (re.compile(CONTROL_PREFIX + "/state"), {"GET": lambda b, c: b.state()}),
    (re.compile(CONTROL_PREFIX + "/reset"), {"POST": _reset}),
    (re.compile(CONTROL_PREFIX + "/keys"), {"POST": lambda b, c: b.inject_key(c.body.require())}),
    (re.compile(CONTROL_PREFIX + "/issued"), {"GET": lambda b, c: {"secrets": b.issued_secrets()}}),
    (re.compile(CONTROL_PREFIX + "/https"), {"POST": _open_https}),
    (re.compile(CONTROL_PREFIX + "/hostile"), hostile.routes(BadRequest)),
    (re.compile(CONTROL_PREFIX + "/faults"), {
        "GET": lambda b, c: {"faults": b.faults()},
        "POST": _add_faults,
        "DELETE": _clear_faults,
    }),
]


def _route(routes: Routes, method: str, path: str) -> tuple[Handler, dict[str, str]]:
    for pattern, handlers in routes:
        match = pattern.fullmatch(path)
        if match is None:
            continue
        if method not in handlers:
            raise ApiError.with_message(405, "Method not allowed", (("Allow", ", ".join(handlers)),))
        return handlers[method], {name: unquote(value) for name, value in match.groupdict().items()}
    raise ApiError.with_message(404, "Not found")


def dispatch(backend: Backend, routes: Routes, method: str, path: str, call: Call) -> Response:
    """Route one request and turn the handler's result or error into a response.

    Routing (404/405) happens before authentication, like any path-based router.
    """
    try:
        handler, params = _route(routes, method, path)
        return _json_response(200, handler(backend, call._replace(params=params)))
    except ApiError as err:
        return _json_response(err.status, err.payload, err.headers)
    except BadRequest as err:
        return _json_response(400, {"success": False, "message": str(err)})


def _bearer_token(header: str | None) -> str | None:
    scheme, dummy, token = (header or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


# --------------------------------------------------------------------------- HTTP layer


class _RequestHandler(BaseHTTPRequestHandler):
    """Speaks HTTP/1.1 keep-alive: every response has a Content-Length, every body is read fully."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, each response would stall
    # ~40 ms on the client's delayed ACK.
    disable_nagle_algorithm = True
    server_version = "FlashbackEmulator"
    sys_version = ""
    server: EmulatorServer

    def setup(self) -> None:
        # The TLS handshake is deferred to this per-connection thread so a slow or failing
        # client cannot stall the accept loop.
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:  # pylint: disable=redefined-builtin
        """Silenced: the emulator keeps its own request log and stderr stays clean for tests."""

    def _handle(self) -> None:
        raw = self._read_body()
        if raw is None:
            return
        url = urlsplit(self.path)
        path = url.path
        body = JsonBody.parse(raw)
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            self._send(dispatch(self.server.backend, CONTROL_ROUTES, self.command, path, Call(None, body, {})))
        else:
            self._handle_api(path, url.query, body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

    def _read_body(self) -> bytes | None:
        """The full request body, or None after answering a request we cannot frame."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self._refuse(411, "Content-Length is required")
            return None
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if length < 0:
            self._refuse(400, "Invalid Content-Length")
            return None
        return self.rfile.read(length)

    def _refuse(self, status: int, message: str) -> None:
        # The body's extent is unknown, so the connection cannot be reused.
        self._send(_json_response(status, {"success": False, "message": message}, (("Connection", "close"),)))

    def _handle_api(self, path: str, query: str, body: JsonBody) -> None:
        backend = self.server.backend
        token = _bearer_token(self.headers.get("Authorization"))
        fault = backend.take_fault(self.command, path)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        real = None
        if fault is None or fault.performs_action:
            real = dispatch(backend, API_ROUTES, self.command, path,
                            Call(token, body, {}, parse_qs(query, keep_blank_values=True)))
        response = real if fault is None else fault.respond(real)
        response = backend.hostile.rewrite(backend, self.command, path, token, response)
        # Logged before answering, so a test that reads the log right after its call sees it.
        backend.record_request({
            "method": self.command,
            "path": path,
            "query": query,
            "status": None if response is None else response.status,
            "body": body.value,
            "authorized": backend.is_authorized(token),
            "fault": None if fault is None else fault.action,
            # Every routed POST/PUT/DELETE that succeeds creates, updates or deletes a key.
            "acted": real is not None and self.command != "GET" and 200 <= real.status < 300,
        })
        if response is None:
            self._drop_connection()
        else:
            self._send(response)

    def _send(self, response: Response) -> None:
        if self.server.backend.hostile.write(self, response):
            return
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)

    def _drop_connection(self) -> None:
        """Close the socket without writing a byte, as a crashed server or proxy would."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # the client already went away


class EmulatorServer(ThreadingHTTPServer):
    """A threading HTTP(S) server that tracks its connections so stop() can cut keep-alives."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], backend: Backend):
        self.backend = backend
        self.ssl_context: ssl.SSLContext | None = None  # set before serving to speak HTTPS
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _RequestHandler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        if self.ssl_context is not None:
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        with self._connections_lock:
            self._connections.add(sock)
        return sock, address

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Cut open keep-alive connections, so a stopped emulator stops answering entirely."""
        with self._connections_lock:
            connections = list(self._connections)
        for sock in connections:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by its handler

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up (timeouts, failed TLS verification) are expected, not errors.
        if isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError)):
            return
        super().handle_error(request, client_address)


# --------------------------------------------------------------------------- TLS


def _self_signed_cert_pem() -> tuple[bytes, bytes]:
    """A fresh (certificate, private key) PEM pair for 127.0.0.1/localhost, self-signed as a CA."""
    # Imported here so plain-HTTP use needs nothing beyond the standard library.
    # pylint: disable=import-outside-toplevel
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Flashback emulator")])
    now = datetime.now(timezone.utc)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=7))
        .add_extension(x509.SubjectAlternativeName([
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.DNSName("localhost"),
        ]), critical=False)
        # CA extensions so strict verifiers accept the cert as its own trust anchor.
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def write_self_signed_cert(cert_dir: str) -> tuple[str, str]:
    """Write the cert as `<cert_dir>/emulator-ca.pem` (key beside it, mode 0600); return both paths."""
    cert_pem, key_pem = _self_signed_cert_pem()
    cert_path = os.path.join(cert_dir, CA_FILENAME)
    key_path = os.path.join(cert_dir, KEY_FILENAME)
    with open(cert_path, "wb") as handle:
        handle.write(cert_pem)
    with open(os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
        handle.write(key_pem)
    return cert_path, key_path


# --------------------------------------------------------------------------- public API


# serve_forever() only notices shutdown() between polls; a short interval keeps stop() (run
# once per test by fixtures) fast at the cost of a few idle wake-ups a second.
_POLL_INTERVAL = 0.02


class Emulator:
    """An emulator instance: `start()` serves it in a background thread, `stop()` ends it."""

    def __init__(self, seed: dict[str, Any] | None = None, backend: Backend | None = None):
        self.backend = backend or Backend(seed)
        self.url: str | None = None
        self.ca_path: str | None = None
        self._server: EmulatorServer | None = None
        self._thread: threading.Thread | None = None
        self._owned_cert_dir: str | None = None
        self._https: Emulator | None = None
        self._https_lock = threading.Lock()
        if self.backend.open_https is None:
            self.backend.open_https = self.open_https

    def open_https(self) -> dict[str, str]:
        """Serve the same backend over HTTPS on another free port too (once); its URL and CA path.

        Lets TLS tests run against the emulator a test run already uses, sharing its state and log.
        """
        with self._https_lock:
            if self._https is None:
                host = self._server.server_address[0] if self._server else "127.0.0.1"
                sibling = Emulator(backend=self.backend)
                sibling.start(host, 0, tls=True)
                self._https = sibling
            return {"url": self._https.url, "ca_path": self._https.ca_path}

    def start(self, host: str = "127.0.0.1", port: int = 0, tls: bool = False,
              cert_dir: str | None = None) -> str:
        """Start serving; return the base URL. Port 0 picks a free port."""
        if self._server is not None:
            raise RuntimeError("emulator already started")
        server = EmulatorServer((host, port), self.backend)
        if tls:
            try:
                server.ssl_context = self._tls_context(cert_dir)
            except BaseException:
                server.server_close()  # do not leak the bound port
                raise
        self._server = server
        self._thread = threading.Thread(target=self._server.serve_forever, args=(_POLL_INTERVAL,),
                                        name="flashback-emulator", daemon=True)
        self._thread.start()
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://{host}:{self._server.server_address[1]}"
        return self.url

    def _tls_context(self, cert_dir: str | None) -> ssl.SSLContext:
        if cert_dir is None:
            cert_dir = self._owned_cert_dir = tempfile.mkdtemp(prefix="flashback-emulator-")
        self.ca_path, key_path = write_self_signed_cert(cert_dir)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.ca_path, key_path)
        return context

    def stop(self) -> None:
        """Stop serving and close every connection; safe to call twice."""
        if self._https is not None:
            self._https.stop()
            self._https = None
        if self._server is None:
            return
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join()
        self._server = self._thread = None
        if self._owned_cert_dir is not None:
            shutil.rmtree(self._owned_cert_dir, ignore_errors=True)
            self._owned_cert_dir = None

    @property
    def requests(self) -> list[dict[str, Any]]:
        """A copy of the request log (same entries as GET /_emulator/requests)."""
        return self.backend.requests()

    def state(self) -> dict[str, Any]:
        """Same as GET /_emulator/state."""
        return self.backend.state()


# --------------------------------------------------------------------------- CLI


def _write_atomically(path: str, text: str) -> None:
    """Write via a temp file and rename, so a poller never reads a half-written file."""
    fd, tmp_path = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".url-")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp_path, path)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Serve an in-memory Flashback API emulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    parser.add_argument("--tls", action="store_true", help="serve HTTPS with a self-signed cert")
    parser.add_argument("--cert-dir", help=f"where --tls writes {CA_FILENAME} (default: a temp dir)")
    parser.add_argument("--seed", help="JSON seed file (default: the built-in seed)")
    parser.add_argument("--url-file", help="also write the base URL to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """CLI entry point: serve until SIGINT/SIGTERM, then exit 0."""
    args = _parse_args(argv)
    seed = None
    if args.seed:
        with open(args.seed, encoding="utf-8") as handle:
            seed = json.load(handle)
    # Block the stop signals before any thread starts (threads inherit the mask), then wait
    # for them synchronously: no handler runs at an arbitrary point, so shutdown is clean.
    stop_signals = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    emulator = Emulator(seed)
    url = emulator.start(args.host, args.port, tls=args.tls, cert_dir=args.cert_dir)
    print(url, flush=True)
    if emulator.ca_path:
        print(emulator.ca_path, file=sys.stderr, flush=True)
    if args.url_file:
        _write_atomically(args.url_file, url + "\n")
    signal.sigwait(stop_signals)
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
