#!/usr/bin/env python
"""Fail unless the JUnit reports in DIR record at least one test, no failures and no skipped test.

usage: check_junit.py DIR

ansible-test units exits 0 when there are no unit tests at all, and treats pytest's exit code 5
(nothing collected, or everything skipped) as success. A test stage that tested nothing must fail.
"""

from __future__ import annotations

import glob
import os
import sys
import xml.etree.ElementTree as ET


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    counts = {'tests': 0, 'failures': 0, 'errors': 0, 'skipped': 0}
    reports = glob.glob(os.path.join(sys.argv[1], '*.xml'))
    for report in reports:
        for suite in ET.parse(report).getroot().iter('testsuite'):
            for key in counts:
                counts[key] += int(suite.get(key, 0))
    ran = counts['tests'] - counts['skipped']
    print('check_junit: %d reports: %d tests, %d skipped, %d failures, %d errors'
          % (len(reports), counts['tests'], counts['skipped'], counts['failures'], counts['errors']))
    if ran <= 0:
        raise SystemExit('check_junit: no unit test ran')
    if counts['failures'] or counts['errors']:
        raise SystemExit('check_junit: failures recorded')
    if counts['skipped']:  # a skipped test proves nothing; fix or remove it
        raise SystemExit('check_junit: %d tests were skipped' % counts['skipped'])


if __name__ == '__main__':
    main()
