"""Hostile mode of the Flashback emulator: a server that misbehaves on purpose, to test the client's defences.

Armed with `POST /_emulator/hostile` (cleared by `DELETE /_emulator/hostile` and by `/_emulator/reset`;
`GET` lists what is armed). The body is an object of modes, each optional:

- `"echo": true` - every error answer's message carries the last secret handed out in a create answer
  and the bearer token of the request;
- `"escapes": true` - every error answer's message carries terminal escape sequences (ESC/CSI, C1 CSI,
  bidi overrides) and a line break followed by a forged `fatal:` line;
- `"drip": {"interval": 1.0, "method": "*", "path": "", "times": n}` - matching answers are written one
  byte per `interval` seconds (the status line and headers too);
- `"huge": {"bytes": 800000000, "method": "*", "path": "", "times": n}` - matching answers are preceded
  by `bytes` bytes of JSON whitespace (written in chunks, never held in memory);
- `"foreign_id": {"kind": "listed"|"made_up", "times": n}` - a successful create answers with the id of
  another live key of the repository (`listed`, made up when there is none) or a made-up id, although the
  key it made has its own.

`times` defaults to unlimited (0). 429, 307 and 404 after acting are the `act_then_fail` fault of
flashback_emulator.py with that `status`; forged names are keys injected with `POST /_emulator/keys`.
Standard library only.
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

# Control and bidi characters a terminal acts on, then a line that looks like ansible-core's own.
ESCAPES = "\x1b[2J\x1b[31mRED\x1b[0m \x9b1m \u202eesrever\u202c \u2066iso\u2069\r\nfatal: [testhost]: FAILED! => forged"
CHUNK = 64 * 1024

_RULE_PARAMS = {
    "drip": {"interval": 1.0, "method": "*", "path": "", "times": 0},
    "huge": {"bytes": 800_000_000, "method": "*", "path": "", "times": 0},
    "foreign_id": {"kind": "listed", "method": "POST", "path": "", "times": 0},
}
_FLAGS = ("echo", "escapes")


class HostileError(ValueError):
    """A malformed hostile-mode spec (answered with HTTP 400 by the control route)."""


def _check_rule(name: str, spec: Any) -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise HostileError(f"{name} must be an object")
    rule = dict(_RULE_PARAMS[name])
    for key, value in spec.items():
        if key not in rule:
            raise HostileError(f"parameter {key!r} does not apply to {name}")
        expected = type(rule[key])
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or isinstance(value, bool):
            raise HostileError(f"{name}.{key} must be a {expected.__name__}")
        rule[key] = value
    try:
        re.compile(rule["path"])
    except re.error as exc:
        raise HostileError(f"{name}.path is not a valid regular expression: {exc}") from None
    if name == "foreign_id" and rule["kind"] not in ("listed", "made_up"):
        raise HostileError("foreign_id.kind must be listed or made_up")
    if rule["times"] < 0:
        raise HostileError(f"{name}.times must be 0 (unlimited) or more")
    return rule


class Hostile:
    """The armed modes of one backend; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flags: set[str] = set()
        self._rules: dict[str, dict[str, Any]] = {}
        self._last_secret = ""

    # -- control interface

    def configure(self, spec: Any) -> dict[str, Any]:
        if not isinstance(spec, dict):
            raise HostileError("the hostile spec must be an object")
        flags, rules = set(), {}
        for name, value in spec.items():
            if name in _FLAGS:
                if not isinstance(value, bool):
                    raise HostileError(f"{name} must be true or false")
                if value:
                    flags.add(name)
            elif name in _RULE_PARAMS:
                rules[name] = _check_rule(name, value)
            else:
                raise HostileError(f"unknown hostile mode {name!r}; use {', '.join(_FLAGS + tuple(_RULE_PARAMS))}")
        with self._lock:
            self._flags, self._rules = flags, rules
        return self.describe()

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {"hostile": dict({flag: True for flag in sorted(self._flags)}, **self._rules)}

    def clear(self) -> dict[str, Any]:
        with self._lock:
            self._flags, self._rules = set(), {}
        return {"ok": True}

    # -- hooks called by the emulator's request handler

    def _take(self, name: str, method: str, path: str) -> dict[str, Any] | None:
        with self._lock:
            rule = self._rules.get(name)
            if rule is None or rule["method"] not in ("*", method) or not re.search(rule["path"], path):
                return None
            if rule["times"]:
                rule["times"] -= 1
                if rule["times"] == 0:
                    del self._rules[name]
            return dict(rule)

    def rewrite(self, backend: Any, method: str, path: str, token: str | None, response: Any) -> Any:
        """The answer to send instead of `response` (a flashback_emulator.Response, or None for a drop)."""
        if response is None:
            return None
        if method == "POST" and 200 <= response.status < 300:
            response = self._created(backend, path, response)
        elif response.status >= 300:
            response = self._error(token, response)
        return response

    def _created(self, backend: Any, path: str, response: Any) -> Any:
        try:
            body = json.loads(response.body)
        except ValueError:
            return response
        if not isinstance(body, dict) or not isinstance(body.get("secret"), str):
            return response
        with self._lock:
            self._last_secret = body["secret"]
        rule = self._take("foreign_id", "POST", path)
        if rule is None:
            return response
        other = None
        if rule["kind"] == "listed":
            repo_id = path.strip("/").split("/")[1]
            others = [key["id"] for key in backend.state()["keys"]
                      if key["repo_id"] == repo_id and not key["deleted"] and key["id"] != body.get("id")]
            other = others[0] if others else None
        body["id"] = other or str(uuid.uuid4())
        return dataclasses.replace(response, body=json.dumps(body).encode())

    def _error(self, token: str | None, response: Any) -> Any:
        with self._lock:
            flags, secret = set(self._flags), self._last_secret
        if not flags:
            return response
        try:
            body = json.loads(response.body)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {"success": False, "message": response.body.decode("utf-8", "replace")}
        message = str(body.get("message", ""))
        if "echo" in flags:
            message += f" (last secret: {secret}; your token: {token})"
        if "escapes" in flags:
            message += " " + ESCAPES
        body["message"] = message
        return dataclasses.replace(response, body=json.dumps(body, ensure_ascii=False).encode(),
                                   content_type="application/json")

    def write(self, handler: Any, response: Any) -> bool:
        """Write `response` the hostile way (dripped, or after a flood); False when no such mode applies."""
        path = urlsplit(handler.path).path
        if path.startswith("/_emulator"):
            return False  # the control interface is never hostile
        drip = self._take("drip", handler.command, path)
        huge = None if drip else self._take("huge", handler.command, path)
        if drip is None and huge is None:
            return False
        handler.close_connection = True
        padding = huge["bytes"] if huge else 0
        head = [f"HTTP/1.1 {response.status} Hostile", f"Content-Type: {response.content_type}",
                f"Content-Length: {padding + len(response.body)}", "Connection: close"]
        head += [f"{name}: {value}" for name, value in response.headers]
        raw_head = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        try:
            if drip:
                for byte in raw_head + response.body:
                    handler.wfile.write(bytes([byte]))
                    handler.wfile.flush()
                    time.sleep(drip["interval"])
            else:
                handler.wfile.write(raw_head)
                spaces = b" " * CHUNK
                left = padding
                while left > 0:
                    handler.wfile.write(spaces[:min(left, CHUNK)])
                    left -= CHUNK
                handler.wfile.write(response.body)
        except OSError:
            pass  # the client gave up: what it is for
        return True


def routes(bad_request: type[Exception]) -> dict[str, Any]:
    """The handlers of /_emulator/hostile (called with the backend and the call); a malformed spec raises
    `bad_request`, the emulator's HTTP 400."""

    def configure(backend: Any, call: Any) -> dict[str, Any]:
        try:
            return backend.hostile.configure(call.body.require())
        except HostileError as exc:
            raise bad_request(str(exc)) from None

    return {
        "GET": lambda b, c: b.hostile.describe(),
        "POST": configure,
        "DELETE": lambda b, c: b.hostile.clear(),
    }
