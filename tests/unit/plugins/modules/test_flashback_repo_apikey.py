# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json

import pytest

from ansible_collections.flashback.platform.plugins.module_utils import _errors as errors, _runner as runner
from ansible_collections.flashback.platform.plugins.modules import flashback_repo_apikey as module_under_test
from ansible_collections.flashback.platform.plugins.module_utils._reconcile import handed_back_name, replacement_name


def view(raw, repo_id='r1'):
    return dict(id=raw['id'], name=raw['name'], access=raw['accessType'], key=raw['key'], repo_id=repo_id,
                created_at=raw['createdAt'])


class TestRunCreate:
    def test_creates_with_default_access_and_returns_secret(self, fake_api, make_module):
        result = module_under_test.run(make_module(repo_id='r1', name='ci'), fake_api)
        assert result['changed'] is True
        assert result['secret'] == 'plain-secret-k1'
        assert result['apikey'] == dict(view(fake_api.keys['r1'][0]), created_at=None)
        assert fake_api.keys['r1'][0]['accessType'] == 'READ'
        assert 'diff' not in result

    def test_check_mode_predicts_and_writes_nothing(self, fake_api, make_module):
        result = module_under_test.run(make_module(check_mode=True, diff=True, repo_id='r1', name='ci',
                                                   access='WRITE'), fake_api)
        assert result == dict(changed=True, apikey=dict(id=None, name='ci', access='WRITE', key=None, repo_id='r1',
                                                        created_at=None),
                              diff=dict(before={}, after=result['apikey']))
        assert fake_api.writes == []

    def test_unknown_key_id_is_not_created(self, fake_api, make_module):
        with pytest.raises(errors.ResourceError) as exc:
            module_under_test.run(make_module(repo_id='r1', name='ci', key_id='k9'), fake_api)
        assert exc.value.message == 'no live API key with id k9 in repository r1: omit key_id to create a key by name'
        assert fake_api.writes == []

    def test_repo_name_is_resolved(self, fake_api, make_module):
        result = module_under_test.run(make_module(repo_name='media', name='ci'), fake_api)
        assert result['apikey']['repo_id'] == 'r2'
        assert fake_api.calls[0][:2] == ('GET', '/repo')


class TestRunExisting:
    def test_no_change_is_one_request_and_no_secret(self, fake_api, make_module):
        raw = fake_api.add_key('r1', 'ci', 'WRITE')
        result = module_under_test.run(make_module(repo_id='r1', name='ci', access='WRITE'), fake_api)
        assert result == dict(changed=False, apikey=view(raw))
        assert fake_api.calls == [('GET', '/repo/r1/apikey', None)]

    def test_omitted_access_leaves_existing(self, fake_api, make_module):
        fake_api.add_key('r1', 'ci', 'ADMIN')
        result = module_under_test.run(make_module(repo_id='r1', name='ci'), fake_api)
        assert result['changed'] is False and result['apikey']['access'] == 'ADMIN'

    def test_access_drift_fixed_in_place(self, fake_api, make_module):
        raw = fake_api.add_key('r1', 'ci', 'READ')
        before = view(raw)
        result = module_under_test.run(make_module(diff=True, repo_id='r1', name='ci', access='WRITE'), fake_api)
        assert result['changed'] is True
        assert 'secret' not in result
        assert result['apikey'] == dict(before, access='WRITE')
        assert result['diff'] == dict(before=before, after=dict(before, access='WRITE'))
        assert fake_api.writes == [('PUT', '/repo/r1/apikey/k1', dict(name='ci', accessType='WRITE'))]

    def test_rename_by_key_id(self, fake_api, make_module):
        fake_api.add_key('r1', 'old', 'WRITE')
        result = module_under_test.run(make_module(repo_id='r1', name='new', key_id='k1'), fake_api)
        assert result['changed'] is True and result['apikey']['name'] == 'new'
        assert fake_api.writes == [('PUT', '/repo/r1/apikey/k1', dict(name='new', accessType='WRITE'))]

    def test_duplicates_refused_when_present(self, fake_api, make_module):
        fake_api.add_key('r1', 'ci')
        fake_api.add_key('r1', 'ci')
        with pytest.raises(errors.ResourceError) as exc:
            module_under_test.run(make_module(repo_id='r1', name='ci'), fake_api)
        assert '(ids: k1, k2)' in exc.value.message
        assert fake_api.writes == []

    def test_duplicates_all_deleted_when_absent(self, fake_api, make_module):
        # The same rule as flashback_repo_apikeys: absent means nobody holds the name.
        fake_api.add_key('r1', 'ci')
        fake_api.add_key('r1', 'ci')
        result = module_under_test.run(make_module(repo_id='r1', name='ci', state='absent'), fake_api)
        assert result == dict(changed=True, apikey={})
        assert [call[:2] for call in fake_api.writes] == [('DELETE', '/repo/r1/apikey/k1'),
                                                          ('DELETE', '/repo/r1/apikey/k2')]

    def test_key_id_picks_one_duplicate(self, fake_api, make_module):
        fake_api.add_key('r1', 'ci')
        fake_api.add_key('r1', 'ci')
        result = module_under_test.run(make_module(repo_id='r1', name='ci', key_id='k2', state='absent'), fake_api)
        assert result['changed'] is True
        assert [k['id'] for k in fake_api.keys['r1']] == ['k1']


class TestRunAbsent:
    def test_deletes_then_is_idempotent(self, fake_api, make_module):
        raw = fake_api.add_key('r1', 'ci')
        module = make_module(diff=True, repo_id='r1', name='ci', state='absent')
        first = module_under_test.run(module, fake_api)
        assert first == dict(changed=True, apikey={}, diff=dict(before=view(raw), after={}))
        second = module_under_test.run(module, fake_api)
        assert second == dict(changed=False, apikey={}, diff=dict(before={}, after={}))
        assert fake_api.writes == [('DELETE', '/repo/r1/apikey/k1', None)]

    def test_check_mode_delete_sends_nothing(self, fake_api, make_module):
        fake_api.add_key('r1', 'ci')
        result = module_under_test.run(make_module(check_mode=True, repo_id='r1', name='ci', state='absent'), fake_api)
        assert result['changed'] is True
        assert fake_api.writes == [] and len(fake_api.keys['r1']) == 1


class TestMain:
    """The AnsibleModule wiring: argument validation and error handling end in clean JSON."""

    def run_main(self, module_args, capsys, args):
        with module_args(args):
            with pytest.raises(SystemExit):
                module_under_test.main()
        return json.loads(capsys.readouterr().out)

    def test_missing_token(self, module_args, capsys, monkeypatch):
        monkeypatch.delenv('FLASHBACK_API_TOKEN', raising=False)
        out = self.run_main(module_args, capsys, dict(repo_id='r1', name='ci'))
        assert out['failed'] is True
        assert out['msg'].startswith('no API token: set api_token')

    def test_repo_options_mutually_exclusive(self, module_args, capsys):
        out = self.run_main(module_args, capsys, dict(api_token='unit-test-token', repo_id='r1', repo_name='x', name='ci'))
        assert 'mutually exclusive' in out['msg']

    def test_bad_access(self, module_args, capsys):
        out = self.run_main(module_args, capsys, dict(api_token='unit-test-token', repo_id='r1', name='ci', access='OWNER'))
        assert 'access' in out['msg'] and 'READ' in out['msg']

    def test_env_token_and_api_error_fail_cleanly(self, module_args, capsys, monkeypatch, fake_api):
        monkeypatch.setenv('FLASHBACK_API_TOKEN', 'env-token-xyz')
        built = {}

        def fake_client(**kwargs):
            built.update(kwargs)
            return fake_api
        monkeypatch.setattr(runner.client_module, 'FlashbackClient', fake_client)
        out = self.run_main(module_args, capsys, dict(repo_id='r404', name='ci'))
        assert built['api_token'] == 'env-token-xyz'
        assert out['failed'] is True
        assert out['msg'] == 'repository r404 not found or not visible to this token'
        assert out['status'] == 404
        assert 'env-token-xyz' not in json.dumps(out)

    def test_success_through_main(self, module_args, capsys, monkeypatch, fake_api):
        monkeypatch.setattr(runner.client_module, 'FlashbackClient', lambda **kwargs: fake_api)
        out = self.run_main(module_args, capsys, dict(api_token='unit-test-token', repo_id='r1', name='ci', access='ADMIN'))
        assert out['changed'] is True and out['secret'] == 'plain-secret-k1'
        assert out['apikey']['access'] == 'ADMIN'


class TestRunRotation:
    def test_rotate_replaces_and_returns_both(self, fake_api, make_module):
        old = view(fake_api.add_key('r1', 'ci', 'WRITE'))
        result = module_under_test.run(make_module(diff=True, repo_id='r1', name='ci', rotate=True), fake_api)
        assert result['changed'] is True
        assert result['secret'] == 'plain-secret-k2'
        assert result['apikey']['id'] == 'k2' and result['apikey']['name'] == 'ci'
        assert result['apikey']['access'] == 'WRITE'
        assert result['replaced'] == dict(id='k1', key='FBK1', created_at=old['created_at'])
        assert result['diff']['before'] == old
        assert 'plain-secret' not in str(result['diff'])
        assert [k['id'] for k in fake_api.keys['r1']] == ['k2']

    def test_max_age_rotates_old_keys_only(self, fake_api, make_module, monkeypatch):
        fake_api.add_key('r1', 'ci')     # created 2026-11-27T10:00:01Z
        monkeypatch.setattr(module_under_test.converge, 'utc_now', lambda: datetime.datetime(2026, 12, 27, 10, 0, 0))
        young = module_under_test.run(make_module(repo_id='r1', name='ci', max_age_days=30), fake_api)
        assert young == dict(changed=False, apikey=view(fake_api.keys['r1'][0]))
        monkeypatch.setattr(module_under_test.converge, 'utc_now', lambda: datetime.datetime(2026, 12, 28, 10, 0, 0))
        old = module_under_test.run(make_module(repo_id='r1', name='ci', max_age_days=30), fake_api)
        assert old['changed'] is True and old['replaced']['id'] == 'k1' and 'secret' in old

    @pytest.mark.parametrize('options, message', [
        (dict(max_age_days=0), "API key 'ci' has max_age_days 0; use 1 or more"),
        (dict(max_age_days=30, rotate=True), "API key 'ci' sets both rotate and max_age_days"),
        (dict(max_age_days=30, state='absent'), "API key 'ci' sets state absent with rotate, max_age_days or retire_after_days"),
        (dict(rotate=True, state='absent'), "API key 'ci' sets state absent with rotate, max_age_days or retire_after_days"),
    ])
    def test_bad_rotation_options(self, fake_api, make_module, options, message):
        with pytest.raises(errors.ConfigurationError) as exc:
            module_under_test.run(make_module(repo_id='r1', name='ci', **options), fake_api)
        assert message in exc.value.message
        assert fake_api.calls == []

    def test_rerun_finishes_a_handed_back_rotation_without_a_new_key(self, fake_api, make_module):
        fake_api.add_key('r1', 'ci')
        fake_api.add_key('r1', handed_back_name('ci', 'k1'))
        result = module_under_test.run(make_module(repo_id='r1', name='ci', rotate=True), fake_api)
        assert result['changed'] is True and 'secret' not in result
        assert result['apikey']['id'] == 'k2' and result['replaced']['id'] == 'k1'
        assert [c[0] for c in fake_api.writes] == ['DELETE', 'PUT']

    def test_absent_removes_pending_replacements_too(self, fake_api, make_module):
        fake_api.add_key('r1', 'ci')
        fake_api.add_key('r1', replacement_name('ci', 'k1'))
        result = module_under_test.run(make_module(repo_id='r1', name='ci', state='absent'), fake_api)
        assert result == dict(changed=True, apikey={})
        assert fake_api.keys['r1'] == []
