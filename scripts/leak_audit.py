#!/usr/bin/env python
"""Run the integration suite (or any command) into a log, then audit that log for leaks.

usage: leak_audit.py --log FILE --vars-file integration_config.yml [--tolerate VAR ...] -- COMMAND [ARG...]

Run it inside scripts/with_emulator.py with COMMAND at -vvvv. It fails when the log shows:
- an API token from the vars file (every variable ending in _token), except --tolerate ones: the env
  token is passed through `environment:`, which ansible-core prints on its EXEC lines at -vvv;
- a key secret anywhere but once, as the `"secret": "..."` return value of the task that created it
  (the emulator lists every secret it ever handed out at /_emulator/issued, across resets);
- a Python traceback;
- a raw control character (ESC/CSI, other C0 and C1 controls, bidi controls: anything not printable but a line
  break or a tab): ansible-core 2.19 prints error messages, warnings and deprecations even under no_log, so
  server text that reached them raw would drive the terminal (the emulator's hostile mode sends such text).
The command's own output goes to the log only (at -vvvv it is large); its tail is shown if it fails.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import urllib.request

import yaml

TAIL_LINES = 80


def issued_secrets():
    url = os.environ['FLASHBACK_EMULATOR_URL'] + '/_emulator/issued'
    with urllib.request.urlopen(url, timeout=10) as answer:  # nosec - the local emulator
        return json.load(answer)['secrets']


def audit(text, tokens, secrets):
    problems = []
    for name, token in tokens.items():
        if token in text:
            problems.append('%s appears %d time(s)' % (name, text.count(token)))
    shown = 0
    for secret in secrets:
        total = text.count(secret)
        as_return_value = len(re.findall(r'"secret": "%s"' % re.escape(secret), text))
        if total > 1 or total != as_return_value:
            problems.append('a secret appears %d time(s), %d as a secret return value (allowed: at most once, '
                            'and only there)' % (total, as_return_value))
        shown += total
    if 'Traceback (most recent call last)' in text:
        problems.append('a Python traceback')
    controls = raw_controls(text)
    if controls:
        problems.append('raw control characters: %s' % ', '.join('%s x%d' % item for item in sorted(controls.items())))
    return problems, shown


def raw_controls(text):
    """``{repr(char): count}`` of the characters a terminal could act on (line breaks and tabs are fine)."""
    found = {}
    for char in text:
        if char not in '\n\t' and not char.isprintable():
            found[repr(char)] = found.get(repr(char), 0) + 1
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--log', required=True)
    parser.add_argument('--vars-file', required=True)
    parser.add_argument('--tolerate', action='append', default=[])
    parser.add_argument('command', nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ['--'] else args.command

    with open(args.log, 'w', encoding='utf-8') as log:
        status = subprocess.call(command, stdout=log, stderr=subprocess.STDOUT)
    with open(args.log, encoding='utf-8', errors='replace') as log:
        text = log.read()
    if status:
        print(''.join(text.splitlines(True)[-TAIL_LINES:]))
        sys.exit('leak_audit: the command failed (exit %d); full output in %s' % (status, args.log))

    with open(args.vars_file, encoding='utf-8') as handle:
        variables = yaml.safe_load(handle)
    tokens = dict((name, value) for name, value in variables.items()
                  if name.endswith('_token') and name not in args.tolerate)
    secrets = issued_secrets()
    problems, shown = audit(text, tokens, secrets)
    if problems:
        sys.exit('leak_audit: %s; see %s' % ('; '.join(problems), args.log))
    print('leak_audit: %d lines at high verbosity, %d tokens absent, %d secrets issued, %d shown once as their '
          'return value, the rest never; no traceback, no raw control character' % (text.count('\n'), len(tokens), len(secrets), shown))


if __name__ == '__main__':
    main()
