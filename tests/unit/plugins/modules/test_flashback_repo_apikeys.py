# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json

import pytest

from ansible_collections.flashback.platform.plugins.module_utils import _converge as converge, _errors as errors, _runner as runner
from ansible_collections.flashback.platform.plugins.modules import flashback_repo_apikey_plan as plan_module
from ansible_collections.flashback.platform.plugins.modules import flashback_repo_apikeys as module_under_test
from ansible_collections.flashback.platform.plugins.module_utils._reconcile import replacement_name

RETURNED = {'changed', 'changes', 'key_results', 'new_secrets', 'new_keys', 'failures'}
# FakeApi keys are created at 2026-11-27T10:00:0N.
NOW = datetime.datetime(2026, 12, 27, 10, 0, 0)


@pytest.fixture
def set_module(make_module):
    """FakeModule with the declared-set options' defaults; keyword arguments override them."""
    def factory(apikeys, check_mode=False, diff=False, **overrides):
        params = dict(apikeys=apikeys, exclusive=False, protected=[], max_age_days=None, concurrency=4,
                      phase='all', delivered=[])
        params.update(overrides)
        return make_module(check_mode=check_mode, diff=diff, **params)
    return factory


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch):
    monkeypatch.setattr(converge, 'utc_now', lambda: NOW)


class TestRun:
    def test_converges_and_returns_the_documented_keys(self, fake_api, set_module):
        fake_api.add_key('r1', 'upd')
        fake_api.add_key('r2', 'gone')
        result = module_under_test.run(set_module([dict(repo_id='r1', name='upd', access='WRITE'),
                                                   dict(repo_name='media', name='new', access='ADMIN'),
                                                   dict(repo_id='r2', name='gone', state='absent')]), fake_api)
        assert set(result) == RETURNED
        assert result['changed'] is True and result['failures'] == []
        assert [(c['action'], c['repo_id'], c['name']) for c in result['changes']] == [
            ('update', 'r1', 'upd'), ('create', 'r2', 'new'), ('delete', 'r2', 'gone')]
        assert result['new_secrets'] == [dict(repo_id='r2', repo_name='media', name='new', id='k3', key='FBK3',
                                              access='ADMIN', secret='plain-secret-k3')]
        assert [(k['id'], k['name'], k['accessType']) for k in fake_api.keys['r2']] == [('k3', 'new', 'ADMIN')]
        json.dumps(result)

    def test_diff_mode_adds_a_secret_free_diff(self, fake_api, set_module):
        result = module_under_test.run(set_module([dict(repo_id='r1', name='new')], diff=True), fake_api)
        assert set(result) == RETURNED | {'diff'}
        assert [(d['before'], d['after']['name']) for d in result['diff']] == [({}, 'new')]
        assert 'plain-secret' in json.dumps(result['new_secrets'])
        assert 'plain-secret' not in json.dumps(result['diff'])

    def test_check_mode_writes_nothing(self, fake_api, set_module):
        fake_api.add_key('r1', 'stray')
        result = module_under_test.run(set_module([dict(repo_id='r1', name='new')], check_mode=True, exclusive=True),
                                       fake_api)
        assert result['changed'] is True
        assert [(c['action'], c['name']) for c in result['changes']] == [('create', 'new'), ('delete', 'stray')]
        assert result['new_secrets'] == []
        assert fake_api.writes == []

    def test_exclusive_and_protected(self, fake_api, set_module):
        for name in ('keep', 'guard', 'stray'):
            fake_api.add_key('r1', name)
        result = module_under_test.run(set_module([dict(repo_id='r1', name='keep')], exclusive=True,
                                                  protected=['guard']), fake_api)
        assert [(c['action'], c['name']) for c in result['changes']] == [('delete', 'stray')]
        assert [k['name'] for k in fake_api.keys['r1']] == ['keep', 'guard']

    def test_module_wide_max_age_days(self, fake_api, set_module):
        fake_api.add_key('r1', 'old')
        fake_api.add_key('r1', 'young')
        result = module_under_test.run(set_module([dict(repo_id='r1', name='old'),
                                                   dict(repo_id='r1', name='young', max_age_days=60)],
                                                  max_age_days=29), fake_api)
        assert [(c['action'], c['name']) for c in result['changes']] == [('rotate', 'old')]
        assert [s['id'] for s in result['new_secrets']] == ['k3']

    def test_stage_then_commit(self, fake_api, set_module):
        fake_api.add_key('r1', 'ci', 'WRITE')
        entries = [dict(repo_id='r1', name='ci', rotate=True)]
        first = module_under_test.run(set_module(entries, phase='stage'), fake_api)
        assert first['key_results'][0]['action'] == 'stage_rotation'
        assert first['new_keys'] == [dict(repo_id='r1', id='k2', name='ci')]
        assert [(k['id'], k['name']) for k in fake_api.keys['r1']] == [('k1', 'ci'), ('k2', replacement_name('ci', 'k1'))]
        second = module_under_test.run(set_module(entries, phase='commit', delivered=first['new_keys']), fake_api)
        assert [c['action'] for c in second['changes']] == ['finish_rotation'] and second['new_secrets'] == []
        assert [(k['id'], k['name']) for k in fake_api.keys['r1']] == [('k2', 'ci')]

    @pytest.mark.parametrize('concurrency', [0, 17])
    def test_bad_concurrency(self, fake_api, set_module, concurrency):
        with pytest.raises(errors.ConfigurationError) as exc:
            module_under_test.run(set_module([dict(repo_id='r1', name='a')], concurrency=concurrency), fake_api)
        assert exc.value.message == 'concurrency is %d; use 1 to 16' % concurrency

    def test_refusal_changes_nothing(self, fake_api, set_module):
        fake_api.add_key('r1', 'twin')
        fake_api.add_key('r1', 'twin')
        with pytest.raises(errors.ResourceError) as exc:
            module_under_test.run(set_module([dict(repo_id='r2', name='a'), dict(repo_id='r1', name='twin')]),
                                  fake_api)
        assert exc.value.message.startswith("entry 2 (name 'twin'): 2 live API keys are named 'twin'")
        assert exc.value.message.endswith('; nothing was changed')
        assert fake_api.writes == []

    def test_failures_fail_the_module_with_the_secrets(self, fake_api, set_module):
        fake_api.add_key('r1', 'b')
        fake_api.failures[('PUT', '/repo/r1/apikey/k1')] = errors.ServerError('the Flashback API failed on PUT', 500)
        with pytest.raises(errors.FlashbackError) as exc:
            module_under_test.run(set_module([dict(repo_id='r1', name='a'), dict(repo_id='r1', name='b',
                                                                                 access='ADMIN')], diff=True), fake_api)
        assert exc.value.message == ("1 of 2 changes failed (the changes made and new secrets are in this result): "
                                     "entry 2 (name 'b'): the Flashback API failed on PUT")
        details = exc.value.details
        assert set(details) == RETURNED | {'diff'}
        assert [(s['name'], s['id'], s['secret']) for s in details['new_secrets']] == [('a', 'k2', 'plain-secret-k2')]
        assert details['failures'] == ["entry 2 (name 'b'): the Flashback API failed on PUT"]
        assert details['changed'] is True
        kwargs = exc.value.fail_kwargs()
        assert kwargs['msg'] == exc.value.message and kwargs['new_secrets'] == details['new_secrets']
        json.dumps(kwargs)


class TestPlanModule:
    """flashback_repo_apikey_plan is flashback_repo_apikeys in check mode, whatever the play's mode."""

    def test_plans_without_writing(self, fake_api, set_module):
        fake_api.add_key('r1', 'upd')
        fake_api.add_key('r1', 'stray')
        module = set_module([dict(repo_id='r1', name='upd', access='ADMIN'), dict(repo_id='r1', name='new')],
                            exclusive=True)
        del module.params['phase'], module.params['delivered']
        result = plan_module.run(module, fake_api)
        assert set(result) == {'changed', 'changes', 'key_results'}
        assert result['changed'] is False
        assert [(c['action'], c['name']) for c in result['changes']] == [
            ('update', 'upd'), ('create', 'new'), ('delete', 'stray')]
        assert [(r['name'], r['id']) for r in result['key_results']] == [('upd', 'k1'), ('new', None), ('stray', 'k2')]
        assert fake_api.writes == []


class TestMain:
    def run_main(self, module, module_args, capsys, args):
        with module_args(args):
            with pytest.raises(SystemExit):
                module.main()
        return json.loads(capsys.readouterr().out)

    @pytest.fixture
    def client(self, monkeypatch, fake_api):
        monkeypatch.setattr(runner.client_module, 'FlashbackClient', lambda **kwargs: fake_api)
        return fake_api

    def test_success(self, module_args, capsys, client):
        out = self.run_main(module_under_test, module_args, capsys, dict(
            api_token='unit-test-token', apikeys=[dict(repo_id='r1', name='ci', access='WRITE')]))
        assert out['changed'] is True and out['failures'] == []
        assert out['new_secrets'][0]['secret'] == 'plain-secret-k1'
        assert 'diff' not in out

    def test_failure_still_returns_the_secrets(self, module_args, capsys, client):
        client.failures[('POST', '/repo/r2/apikey')] = errors.BadRequestError('rejected', 400)
        out = self.run_main(module_under_test, module_args, capsys, dict(
            api_token='unit-test-token', apikeys=[dict(repo_id='r1', name='a'), dict(repo_id='r2', name='b')],
            _ansible_no_log=True))
        assert out['failed'] is True
        assert out['msg'] == ("1 of 2 changes failed (the changes made and new secrets are in this result): "
                              "entry 2 (name 'b'): rejected")
        assert [s['secret'] for s in out['new_secrets']] == ['plain-secret-k1']

    def test_failure_without_no_log_is_ok_with_warnings_and_the_secrets(self, module_args, capsys, client):
        # Failed results are printed at every verbosity: without no_log the run is ok, with a warning that says so;
        # the failure is in msg (2.19 prints warnings even under no_log, so they carry no failure text).
        client.failures[('POST', '/repo/r2/apikey')] = errors.BadRequestError('rejected', 400)
        out = self.run_main(module_under_test, module_args, capsys, dict(
            api_token='unit-test-token', apikeys=[dict(repo_id='r1', name='a'), dict(repo_id='r2', name='b')]))
        assert 'failed' not in out and out['changed'] is True
        assert out['failures'] == ["entry 2 (name 'b'): rejected"]
        assert [s['secret'] for s in out['new_secrets']] == ['plain-secret-k1']
        warnings = str(out['warnings'])  # strings before ansible-core 2.19, structured events since
        assert "entry 2 (name 'b'): rejected" in out['msg'] and 'rejected' not in warnings
        assert 'not finished, rerun to finish' in warnings and 'set no_log: true' in warnings
        assert 'plain-secret' not in warnings

    @pytest.mark.parametrize('args, fragment', [
        (dict(), 'missing required arguments: apikeys'),
        (dict(apikeys=[dict(repo_id='r1', name='a', access='OWNER')]), 'value of access must be one of: READ, WRITE, '
                                                                       'ADMIN, got: OWNER'),
        (dict(apikeys=[dict(repo_id='r1', name='a', colour='red')]), 'colour'),
        (dict(apikeys=[dict(repo_id='r1')]), 'entry 1 needs a name'),
        (dict(apikeys=[dict(repo_id='r1', name='a')], concurrency=0), 'concurrency is 0; use 1 to 16'),
        (dict(apikeys=[dict(repo_id='r1', name='a')], phase='later'), 'value of phase must be one of: all, stage, commit'),
        (dict(apikeys=[dict(repo_id='r1', name='a')], retire_old_keys=False), 'retire_old_keys'),
        (dict(apikeys=[dict(repo_id='r1', name='a')], delivered=[dict(id='k1')]), 'repo_id'),
        (dict(apikeys=[dict(repo_id='r1', name='a')], delivered=[dict(repo_id='r1', id='k1', secret='x')]), 'secret'),
    ])
    def test_bad_options_fail_cleanly(self, module_args, capsys, client, args, fragment):
        out = self.run_main(module_under_test, module_args, capsys, dict(args, api_token='unit-test-token'))
        assert out['failed'] is True
        assert fragment in out['msg']
        assert client.writes == []

    def test_plan_module_through_main(self, module_args, capsys, client):
        out = self.run_main(plan_module, module_args, capsys, dict(
            api_token='unit-test-token', apikeys=[dict(repo_id='r1', name='ci')]))
        assert out['changed'] is False and [c['action'] for c in out['changes']] == ['create']
        assert client.writes == []
