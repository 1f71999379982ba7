# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Shared unit-test doubles: an in-memory stand-in for the client, and module plumbing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json
import re
import threading

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes
from ansible.module_utils.six.moves.urllib.parse import parse_qs, urlsplit

from ansible_collections.flashback.platform.plugins.module_utils import _errors as errors
from ansible_collections.flashback.platform.plugins.module_utils._sanitize import Scrubber

try:  # ansible-core >= 2.19
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # older cores read the serialized args from basic._ANSIBLE_ARGS
    @contextlib.contextmanager
    def patch_module_args(args=None):
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': args or {}}))
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved


class FakeApi(object):
    """Answers FlashbackClient.request like the published API, from memory; records every call.

    ``failures`` maps ``(method, path)`` to an error that request raises (after recording the call)
    instead of answering. ``GET /repo?repoId=`` narrows the list like the API, unless ``ignores_repo_filter``
    (older servers). Safe to share between the threads of converge's pool.
    """

    def __init__(self):
        self.repos = [dict(id='r1', name='backups'), dict(id='r2', name='media'),
                      dict(id='r4', name='shared'), dict(id='r5', name='shared')]
        self.keys = {'r1': [], 'r2': [], 'r4': [], 'r5': []}
        self.calls = []
        self.failures = {}
        self.ignores_repo_filter = False
        self._serial = 0
        self.lock = threading.RLock()
        self.remembered = []  # secrets handed to remember_secret, as the client's scrubber gets them
        self.holds = []
        self.scrubber = Scrubber('unit-test-token')
        self.max_retries = 3
        self.timeout = 30

    def remember_secret(self, secret):
        self.remembered.append(secret)
        self.scrubber.add(secret)

    def environment_warnings(self):
        return []

    def sleep(self, seconds):
        pass

    def hold_back(self, delay):
        self.holds.append(delay)

    def add_key(self, repo_id, name, access='READ'):
        with self.lock:
            self._serial += 1
            key = dict(id='k%d' % self._serial, name=name, accessType=access, key='FBK%d' % self._serial,
                       createdAt='2026-11-27T10:00:0%d.000Z' % (self._serial % 10),
                       secret=dict(key='enc', iv='iv', authTag='tag', message='m'))
            self.keys[repo_id].append(key)
            return key

    @property
    def writes(self):
        return [call for call in self.calls if call[0] != 'GET']

    def request(self, method, path, payload=None, context=None):
        with self.lock:
            self.calls.append((method, path, payload))
            if (method, path) in self.failures:
                raise self.failures[(method, path)]
            return self._answer(method, path, payload, context)

    def _answer(self, method, path, payload, context):
        if path == '/repo':
            return dict(success=True, repos=self.repos)
        if path.startswith('/repo?'):
            query = parse_qs(urlsplit(path).query)
            wanted = query.get('repoId', [None])[0]
            return dict(success=True, repos=[repo for repo in self.repos
                                             if self.ignores_repo_filter or repo['id'] == wanted])
        match = re.match(r'^/repo/([^/]+)/apikey(?:/([^/]+))?$', path)
        repo_id, key_id = match.group(1), match.group(2)
        if repo_id not in self.keys:
            raise errors.NotFoundError('%s not found or not visible to this token' % context, 404)
        keys = self.keys[repo_id]
        if method == 'GET':
            return dict(success=True, keys=[dict(key) for key in keys])
        if method == 'POST':
            key = self.add_key(repo_id, payload['name'], payload['accessType'])
            return dict(success=True, id=key['id'], key=key['key'], secret='plain-secret-%s' % key['id'])
        key = [k for k in keys if k['id'] == key_id][0]
        if method == 'PUT':
            key.update(name=payload['name'], accessType=payload['accessType'])
        else:
            keys.remove(key)
        return dict(success=True)


class FakeModule(object):
    """What run() needs of AnsibleModule: params, check_mode, _diff and warn."""

    def __init__(self, params, check_mode=False, diff=False):
        self.params = params
        self.check_mode = check_mode
        self._diff = diff
        self.no_log = False
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)


@pytest.fixture
def fake_api():
    return FakeApi()


@pytest.fixture
def fake_api_factory():
    """For tests that need a fresh FakeApi per case (hypothesis runs many cases in one test call)."""
    return FakeApi


@pytest.fixture
def make_module():
    """FakeModule with the modules' defaults filled in; keyword arguments override them."""
    def factory(check_mode=False, diff=False, **overrides):
        params = dict(api_url='https://backend.flashback.tech', api_token='unit-test-token', validate_certs=True, ca_path=None,
                      timeout=30, max_retries=3, repo_id=None, repo_name=None, name=None, key_id=None, access=None,
                      state='present', rotate=False, max_age_days=None, retire_after_days=None)
        params.update(overrides)
        return FakeModule(params, check_mode=check_mode, diff=diff)
    return factory


try:  # ansible-core >= 2.19 records whether this process is the controller or a module
    from ansible.module_utils import _internal as _process_kind
except ImportError:  # older cores: module and controller code behave the same in one process
    _process_kind = None


@contextlib.contextmanager
def run_as_module(args=None):
    """Arguments for AnsibleModule, in a process that behaves like a module's own.

    A module runs in a process of its own. pytest runs module tests next to controller tests (the filter),
    and importing controller code flips ansible-core 2.19+ into controller mode for the whole process:
    module.warn() then goes to Display instead of the result. So a module test runs in module mode.
    """
    saved = getattr(_process_kind, 'is_controller', None)
    if _process_kind is not None:
        _process_kind.is_controller = False
    try:
        with patch_module_args(args):
            yield
    finally:
        if _process_kind is not None:
            _process_kind.is_controller = saved


@pytest.fixture
def module_args():
    """Context manager exposing module arguments to AnsibleModule on every supported ansible-core."""
    return run_as_module
