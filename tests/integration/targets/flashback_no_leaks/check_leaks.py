#!/usr/bin/env python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fail when an -vvv playbook output shows a token, or shows a secret anywhere but its `secret` return value."""

from __future__ import annotations

import json
import re
import sys


def main(log_path, values_path):
    with open(log_path, encoding='utf-8') as handle:
        output = handle.read()
    with open(values_path, encoding='utf-8') as handle:
        values = json.load(handle)

    problems = []
    for token in values['tokens']:
        if token in output:
            problems.append('an API token appears %d time(s) in the output' % output.count(token))
    for secret in values['secrets']:
        total = output.count(secret)
        as_return_value = len(re.findall(r'"secret": "%s"' % re.escape(secret), output))
        # -vvv prints each task result once; the secret belongs in exactly that one place.
        if total != 1 or as_return_value != 1:
            problems.append('a secret appears %d time(s), %d of them as the secret return value (want 1 and 1)'
                            % (total, as_return_value))
    if 'Traceback' in output:
        problems.append('a traceback appears in the output')
    if problems:
        sys.exit('leak audit failed: ' + '; '.join(problems))
    print('leak audit passed: %d lines checked, %d tokens absent, %d secrets each shown once'
          % (output.count('\n'), len(values['tokens']), len(values['secrets'])))


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
