#!/usr/bin/env python
"""Fail when an ansible-test run skipped or excluded tests instead of running them.

usage: check_skips.py STAGE LOG

ansible-test passes a stage whose tool is missing (a sanity test without shellcheck or pwsh), whose
Python cannot be found (units), or whose targets it excluded (integration): it only warns. Every
test `make test` lists must run, so any such warning fails the stage, naming what to install.
"""

from __future__ import annotations

import re
import sys

SKIP = re.compile(r'^WARNING: (Skipping|Excluding|Required program)|Skipping sanity test')


def skipped_lines(path):
    with open(path, encoding='utf-8', errors='replace') as f:
        return [line.strip() for line in f if SKIP.search(line)]


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    stage, path = sys.argv[1:]
    lines = skipped_lines(path)
    for line in lines:
        print(line, file=sys.stderr)
    if lines:
        raise SystemExit('%s: ansible-test skipped the tests above; every tool comes from tests/requirements.txt '
                         '(make venv), so add the missing one there' % stage)


if __name__ == '__main__':
    main()
