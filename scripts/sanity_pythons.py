#!/usr/bin/env python
"""Sanity on every Python the modules declare, and a check that each one was exercised.

usage: sanity_pythons.py options LINK_DIR   print ansible-test's --controller/--target-python options
       sanity_pythons.py check LOG          fail unless LOG ran compile and import on each declared Python

ansible-test runs its multi-version sanity tests (compile, import) only on the Pythons it is asked for:
with ``--python 3.11`` it skips every other one silently, without the warning check_skips.py looks for. So
``make sanity`` asks for each Python that tests/config.yml declares (``modules: python_requires``), as a
``--target-python X.Y@PATH``. The interpreters are found as scripts/matrix.py finds them (pythonX.Y on
PATH, then pyenv's versions directory); a declared Python that is missing fails here instead of being
skipped. ansible-test also looks each one up by name on PATH when it builds the import test's venv, so
``options`` links them into LINK_DIR, which the Makefile puts on PATH.
"""

from __future__ import annotations

import os
import re
import sys

import yaml
from packaging.specifiers import SpecifierSet

from ansible_test._util.target.common.constants import CONTROLLER_PYTHON_VERSIONS, REMOTE_ONLY_PYTHON_VERSIONS

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from matrix import find_python  # noqa: E402  pylint: disable=wrong-import-position

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MULTI_VERSION_TESTS = ('compile', 'import')


def declared():
    """The Python versions tests/config.yml declares, each one ansible-test can test."""
    with open(os.path.join(ROOT, 'tests', 'config.yml'), encoding='utf-8') as f:
        spec = SpecifierSet(yaml.safe_load(f)['modules']['python_requires'])
    versions = ['3.%d' % minor for minor in range(0, 30) if spec.contains('3.%d' % minor)]
    supported = REMOTE_ONLY_PYTHON_VERSIONS + CONTROLLER_PYTHON_VERSIONS
    unsupported = [version for version in versions if version not in supported]
    if unsupported:
        raise SystemExit('tests/config.yml declares Python %s, which this ansible-test cannot test (it tests %s)'
                         % (', '.join(unsupported), ', '.join(supported)))
    if not versions:
        raise SystemExit('tests/config.yml declares no Python (modules: python_requires %s)' % spec)
    return versions


def options(link_dir):
    current = '%d.%d' % sys.version_info[:2]
    link_dir = os.path.abspath(link_dir)
    os.makedirs(link_dir, exist_ok=True)
    args = ['--controller', 'origin:python=%s@%s' % (current, sys.executable)]
    for version in declared():
        if version == current:
            path = sys.executable
        else:
            try:
                found = find_python(version)
            except RuntimeError as e:
                raise SystemExit('sanity: tests/config.yml declares Python %s: %s (install it, e.g. with pyenv)'
                                 % (version, e))
            path = os.path.join(link_dir, 'python' + version)
            if os.path.lexists(path):
                os.remove(path)
            os.symlink(found, path)
        args += ['--target-python', '%s@%s' % (version, path)]
    print(' '.join(args))


def check(log):
    with open(log, encoding='utf-8', errors='replace') as f:
        ran = set(re.findall(r'^Running sanity test "(\w+)" on Python (\d+\.\d+)', f.read(), re.M))
    missing = ['%s on Python %s' % (test, version) for version in declared() for test in MULTI_VERSION_TESTS
               if (test, version) not in ran]
    if missing:
        raise SystemExit('sanity: the modules declare Python %s (tests/config.yml), but %s did not run: '
                         'every declared Python must be exercised' % (', '.join(declared()), ', '.join(missing)))
    print('sanity: compile and import ran on Python %s' % ', '.join(declared()))


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ('options', 'check'):
        raise SystemExit(__doc__)
    {'options': options, 'check': check}[sys.argv[1]](sys.argv[2])


if __name__ == '__main__':
    main()
