#!/usr/bin/env python
"""Print the retiring name of key NAME until DATE, written independently of the collection to pin its format.

usage: retiring_name.py NAME YYYY-MM-DD
"""

from __future__ import annotations

import hashlib
import sys


def main():
    name, date = sys.argv[1:3]
    check = hashlib.sha256(('flashback.platform rotation\0%s\0%s' % (name, date)).encode('utf-8')).hexdigest()[:8]
    print('%s (retiring after %s #%s)' % (name, date, check))


if __name__ == '__main__':
    main()
