#!/usr/bin/env python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fail when a junit XML report holds a secret the emulator issued, or when no report recorded the delivery."""

from __future__ import annotations

import json
import pathlib
import sys


def main(junit_dir, issued_path, delivered_dir):
    reports = sorted(pathlib.Path(junit_dir).glob('*.xml'))
    secrets = json.loads(pathlib.Path(issued_path).read_text(encoding='utf-8'))
    delivered = [path.read_text(encoding='utf-8') for path in pathlib.Path(delivered_dir).glob('delivered-*')]
    text = ''.join(path.read_text(encoding='utf-8') for path in reports)
    problems = []
    if not reports or 'Store the new secret' not in text:
        problems.append('no junit report recorded the delivery hook')
    if len(delivered) != 2 or not set(delivered) <= set(secrets):
        problems.append('the hook did not receive the two new secrets')
    leaked = [secret for secret in secrets if secret in text]
    if leaked:
        problems.append('%d secret(s) appear in the junit report' % len(leaked))
    if problems:
        sys.exit('junit leak audit failed: ' + '; '.join(problems))
    print('junit leak audit passed: %d report(s), %d secrets absent' % (len(reports), len(secrets)))


if __name__ == '__main__':
    main(*sys.argv[1:4])
