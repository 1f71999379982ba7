"""Fixtures shared by the ecosystem tests: paths, the installed collection, an emulator, ansible's env.

These tests run the collection the way its users do (ansible-playbook, ansible-runner, ansible-builder,
galaxy-importer) against the collection as built and installed by `make collection` into
build/collections, never against the source tree.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / 'build'
COLLECTIONS = BUILD / 'collections'
INSTALLED = COLLECTIONS / 'ansible_collections' / 'flashback' / 'platform'
# The venv running pytest also has ansible-core, requests and the ecosystem tools.
BIN = Path(sys.executable).parent
ADMIN_TOKEN = 'fb-test-admin-token'  # the emulator's default seed: a token for every repository

sys.path.insert(0, str(ROOT / 'emulator'))
from flashback_emulator import Emulator  # noqa: E402  pylint: disable=wrong-import-position


def tarball():
    found = sorted(BUILD.glob('flashback-platform-*.tar.gz'))
    if len(found) != 1:
        pytest.fail('expected one built tarball in %s, found %s: run make collection' % (BUILD, found))
    return found[0]


@pytest.fixture(scope='session')
def installed_collection():
    if not (INSTALLED / 'MANIFEST.json').is_file():
        pytest.fail('%s is not installed: run make collection first' % INSTALLED)
    return INSTALLED


@pytest.fixture
def emulator():
    """A plain-HTTP emulator with the default seed (repositories r1..r5, no keys), stopped afterwards."""
    emu = Emulator()
    emu.start()
    yield emu
    emu.stop()


def live_keys(emu, repo_id):
    return {key['name']: key for key in emu.backend.state()['keys'] if key['repo_id'] == repo_id and not key['deleted']}


def ansible_env(tmp_path, **extra):
    """The environment for an ansible command: our venv first, our collection only, no ambient config."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(('ANSIBLE_', 'FLASHBACK_')) and name not in ('VIRTUAL_ENV', 'PYTHONPATH')}
    config = tmp_path / 'ansible.cfg'  # empty: no ansible.cfg from the working directory or $HOME
    config.touch()
    env.update({
        'PATH': str(BIN) + os.pathsep + os.environ.get('PATH', ''),
        'ANSIBLE_COLLECTIONS_PATH': str(COLLECTIONS),
        'ANSIBLE_CONFIG': str(config),
        'ANSIBLE_LOCAL_TEMP': str(tmp_path / 'ansible-tmp'),
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
    })
    env.update(extra)
    return env


def write_inventory(path):
    """localhost as AWX's demo inventory and our docs define it: local, with this venv's Python."""
    path.write_text('localhost ansible_connection=local ansible_python_interpreter=%s\n' % sys.executable)
    return path


def run(argv, env, cwd=None, timeout=300):
    return subprocess.run([str(a) for a in argv], env=env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout, check=False)
