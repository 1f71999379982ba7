#!/usr/bin/env python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a playbook into a log, then fail when the log shows what a hostile server must not get printed.

usage: check_output.py --log FILE --vars-file integration_config.yml -- COMMAND [ARG...]

Fails when the output holds an API token, any secret the emulator ever issued, a raw control character
(anything not printable but a line break: ESC/CSI, C0, C1, bidi controls), a line that starts like a
forged fatal line, or a traceback; or when the command's processes peaked above MAX_RSS_MB.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import time
import urllib.request

import yaml

MAX_RSS_MB = 400  # a module that read the 800 MB answer would need far more
FORGED = re.compile(r'^\s*fatal: \[testhost\]: FAILED! => (forged|\{"msg": "forged")', re.MULTILINE)


def raw_controls(text):
    found = {}
    for char in text:
        if char != '\n' and not char.isprintable():
            found[repr(char)] = found.get(repr(char), 0) + 1
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--log', required=True)
    parser.add_argument('--vars-file', required=True)
    parser.add_argument('command', nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ['--'] else args.command

    started = time.monotonic()
    with open(args.log, 'w', encoding='utf-8') as log:
        status = subprocess.call(command, stdout=log, stderr=subprocess.STDOUT)
    elapsed = time.monotonic() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    with open(args.log, encoding='utf-8', errors='surrogateescape') as log:
        text = log.read()
    if status:
        print(text)
        sys.exit('check_output: the playbook failed (exit %d)' % status)

    with open(args.vars_file, encoding='utf-8') as handle:
        variables = yaml.safe_load(handle)
    tokens = [value for name, value in variables.items() if name.endswith('_token')]
    with urllib.request.urlopen(variables['flashback_api_url'] + '/_emulator/issued', timeout=10) as answer:
        secrets = json.load(answer)['secrets']  # nosec - the local emulator

    problems = []
    if any(token in text for token in tokens):
        problems.append('an API token appears')
    shown = [secret for secret in secrets if secret in text]
    if shown:
        problems.append('%d secret(s) appear' % len(shown))
    controls = raw_controls(text)
    if controls:
        problems.append('raw control characters appear: %s' % controls)
    if FORGED.search(text):
        problems.append('a forged fatal line appears: %r' % FORGED.search(text).group(0))
    if 'Traceback' in text:
        problems.append('a traceback appears')
    if peak_mb > MAX_RSS_MB:
        problems.append('a process peaked at %.0f MB (allowed: %d)' % (peak_mb, MAX_RSS_MB))
    if problems:
        sys.exit('check_output: %s; see %s' % ('; '.join(problems), args.log))
    drip = re.search(r'dripped listing ended after [0-9.]+ s[^"]*', text)
    verbosity = ([arg for arg in command if re.match(r'^-v+$', arg)] or ['verbosity 0'])[0]
    print('check_output: %s: %d lines, %d tokens and %d secrets absent, no raw control character, no forged line, '
          'peak RSS %.0f MB, %.0f s in all; %s'
          % (verbosity, text.count('\n'), len(tokens), len(secrets), peak_mb, elapsed, drip.group(0) if drip else ''))


if __name__ == '__main__':
    main()
