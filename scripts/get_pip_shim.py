#!/usr/bin/env python
"""Write an offline stand-in for the pip bootstrap script that ansible-test would download.

Run with the Python that has ansible-core (ansible-test) installed. ansible-test bootstraps pip
into every virtualenv it creates (one per sanity test) with a get-pip.py fetched from a host that
these machines cannot reach; it first looks for ~/.ansible/test/cache/get_pip_<version>.py. Our
stand-in runs the pip wheel that CPython bundles for ensurepip and lets it install the pip version
ansible-test asks for from PyPI, which is reachable.
"""

from __future__ import annotations

import os
import types

from ansible_test._internal.python_requirements import get_venv_packages

SHIM = '''\
"""Offline stand-in for get-pip.py, written by flashback.platform scripts/get_pip_shim.py."""
import glob
import os
import sys

import ensurepip

WHEELS = glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), '_bundled', 'pip-*.whl'))
WHEELS += glob.glob('/usr/share/python-wheels/pip-*.whl')  # Debian strips _bundled
if not WHEELS:
    sys.exit('get_pip shim: no bundled pip wheel found for ' + sys.executable)
sys.path.insert(0, WHEELS[0])
from pip._internal.cli.main import main

# ansible-test passes get-pip.py options that pip install does not know.
ARGS = [arg for arg in sys.argv[1:] if arg not in ('--no-setuptools', '--no-wheel')]
sys.exit(main(['install'] + ARGS))
'''


def main():
    # The pip version is the same for every Python in current ansible-test; ask for 3.11's.
    version = get_venv_packages(types.SimpleNamespace(version='3.11'))['pip']
    path = os.path.expanduser('~/.ansible/test/cache/get_pip_%s.py' % version.replace('.', '_'))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(SHIM)
    print('get_pip_shim: wrote %s' % path)


if __name__ == '__main__':
    main()
