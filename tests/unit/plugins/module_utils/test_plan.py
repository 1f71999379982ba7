# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest

from ansible_collections.flashback.platform.plugins.module_utils import errors, plan


class TestValidateEntries:
    def test_defaults(self):
        assert plan.validate_entries([dict(repo_id='r1', name='a')]) == [
            dict(repo_id='r1', repo_name=None, name='a', access='READ', state='present', rotate=False,
                 max_age_days=None)]

    def test_role_wide_max_age_applies_unless_the_entry_decides(self):
        entries = plan.validate_entries([dict(repo_id='r1', name='a'), dict(repo_id='r1', name='b', rotate=True),
                                         dict(repo_id='r1', name='c', max_age_days=7)], default_max_age_days=90)
        assert [(e['rotate'], e['max_age_days']) for e in entries] == [(False, 90), (True, None), (False, 7)]

    @pytest.mark.parametrize('entries, message', [
        (['x'], 'entry 0 must be a dict'),
        ([dict(repo_id='r1')], 'entry 0 needs a non-empty name'),
        ([dict(name='a')], "entry 0 (name 'a') needs exactly one of repo_id and repo_name"),
        ([dict(repo_id='r1', repo_name='b', name='a')], 'needs exactly one of repo_id and repo_name'),
        ([dict(repo_id='r1', name='a', access='OWNER')], "has access 'OWNER'; use one of READ, WRITE, ADMIN"),
        ([dict(repo_id='r1', name='a', state='gone')], "has state 'gone'"),
        ([dict(repo_id='r1', name='a', rotate=True, max_age_days=3)], 'sets both rotate and max_age_days'),
        ([dict(repo_id='r1', name='a', max_age_days=0)], "has max_age_days 0; use 1 or more"),
        ([dict(repo_id='r1', name='a'), dict(repo_id='r1', name='a', access='WRITE')],
         "entry 1 (name 'a') declares the same repository and name as entry 0"),
    ])
    def test_bad_entries_fail_naming_the_entry(self, entries, message):
        with pytest.raises(errors.ConfigurationError) as exc:
            plan.validate_entries(entries)
        assert message in exc.value.message


class TestBuildPlan:
    def test_no_change_costs_one_listing_per_repo(self, fake_api):
        fake_api.add_key('r1', 'a', 'READ')
        fake_api.add_key('r2', 'b', 'WRITE')
        result = plan.build_plan(fake_api, [dict(repo_id='r1', name='a'), dict(repo_id='r2', name='b', access='WRITE'),
                                            dict(repo_id='r1', name='gone', state='absent')])
        assert result['changes'] == []
        assert [r['changed'] for r in result['results']] == [False, False, False]
        assert result['results'][0] == dict(repo_id='r1', name='a', id='k1', key='FBK1', access='READ',
                                            state='present', changed=False)
        assert fake_api.calls == [('GET', '/repo/r1/apikey', None), ('GET', '/repo/r2/apikey', None)]

    def test_repo_names_cost_one_repo_listing(self, fake_api):
        result = plan.build_plan(fake_api, [dict(repo_name='backups', name='a'), dict(repo_name='media', name='b')])
        assert [c['repo_id'] for c in result['changes']] == ['r1', 'r2']
        assert [c[1] for c in fake_api.calls] == ['/repo', '/repo/r1/apikey', '/repo/r2/apikey']

    def test_create_update_delete(self, fake_api):
        fake_api.add_key('r1', 'upd', 'READ')
        fake_api.add_key('r1', 'del', 'ADMIN')
        result = plan.build_plan(fake_api, [dict(repo_id='r1', name='new', access='WRITE'),
                                            dict(repo_id='r1', name='upd', access='ADMIN'),
                                            dict(repo_id='r1', name='del', state='absent')])
        assert [(c['action'], c['name'], c['access'], c['key_id'], c['state']) for c in result['changes']] == [
            ('create', 'new', 'WRITE', None, 'present'),
            ('update', 'upd', 'ADMIN', 'k1', 'present'),
            ('delete', 'del', 'ADMIN', 'k2', 'absent')]
        assert result['changes'][1]['before']['access'] == 'READ'
        assert result['results'][0] == dict(repo_id='r1', name='new', id=None, key=None, access='WRITE',
                                            state='present', changed=True)
        assert result['results'][1]['access'] == 'ADMIN' and result['results'][1]['changed']
        assert result['results'][2] == dict(repo_id='r1', name='del', id=None, key=None, access=None,
                                            state='absent', changed=True)
        assert fake_api.writes == []

    def test_exclusive_spares_declared_and_protected(self, fake_api):
        for name in ('keep', 'guard', 'stray1', 'stray2'):
            fake_api.add_key('r1', name)
        fake_api.add_key('r2', 'other-repo-untouched')
        result = plan.build_plan(fake_api, [dict(repo_id='r1', name='keep')], exclusive=True, protected=['guard'])
        assert [(c['action'], c['name'], c['key_id']) for c in result['changes']] == [
            ('delete', 'stray1', 'k3'), ('delete', 'stray2', 'k4')]
        assert [r['name'] for r in result['results']] == ['keep', 'stray1', 'stray2']
        assert result['results'][1]['state'] == 'absent'

    def test_not_exclusive_leaves_strays(self, fake_api):
        fake_api.add_key('r1', 'stray')
        assert plan.build_plan(fake_api, [dict(repo_id='r1', name='keep')])['changes'][0]['action'] == 'create'
        assert len(plan.build_plan(fake_api, [dict(repo_id='r1', name='keep')])['changes']) == 1

    def test_duplicate_live_names_refused(self, fake_api):
        fake_api.add_key('r1', 'twin')
        fake_api.add_key('r1', 'twin')
        with pytest.raises(errors.ResourceError) as exc:
            plan.build_plan(fake_api, [dict(repo_id='r1', name='twin')])
        assert '(ids: k1, k2)' in exc.value.message

    def test_absent_deletes_every_holder_of_the_name(self, fake_api):
        fake_api.add_key('r1', 'twin')
        fake_api.add_key('r1', 'twin')
        result = plan.build_plan(fake_api, [dict(repo_id='r1', name='twin', state='absent')])
        assert [c['key_id'] for c in result['changes']] == ['k1', 'k2']

    @pytest.mark.parametrize('name, message', [
        ('nowhere', "entry 0 (name 'a'): repository named 'nowhere' not found"),
        ('shared', "repository name 'shared' is ambiguous (ids: r4, r5); use repo_id"),
    ])
    def test_bad_repo_names(self, fake_api, name, message):
        with pytest.raises(errors.ResourceError) as exc:
            plan.build_plan(fake_api, [dict(repo_name=name, name='a')])
        assert message in exc.value.message

    def test_same_key_by_id_and_by_name_refused(self, fake_api):
        with pytest.raises(errors.ConfigurationError) as exc:
            plan.build_plan(fake_api, [dict(repo_id='r1', name='a'), dict(repo_name='backups', name='a')])
        assert 'entry 1' in exc.value.message and 'as entry 0' in exc.value.message

    def test_bad_entry_fails_before_any_request(self, fake_api):
        with pytest.raises(errors.ConfigurationError):
            plan.build_plan(fake_api, [dict(repo_name='backups', name='a'), dict(repo_id='r1')])
        assert fake_api.calls == []


NOW = datetime.datetime(2026, 12, 27, 10, 0, 0)   # FakeApi keys are created on 2026-11-27


class TestRotationPlan:
    def test_rotate_and_max_age(self, fake_api):
        for name in ('forced', 'young', 'old'):
            fake_api.add_key('r1', name)
        entries = [dict(repo_id='r1', name='forced', rotate=True), dict(repo_id='r1', name='young', max_age_days=31),
                   dict(repo_id='r1', name='old', max_age_days=29)]
        result = plan.build_plan(fake_api, entries, now=NOW)
        assert [(c['action'], c['name'], c['key_id'], c['rotate'], c['max_age_days']) for c in result['changes']] == [
            ('rotate', 'forced', 'k1', True, None), ('rotate', 'old', 'k3', False, 29)]
        assert [(r['name'], r['id'], r['changed']) for r in result['results']] == [
            ('forced', None, True), ('young', 'k2', False), ('old', None, True)]

    def test_unfinished_rotation_is_finished(self, fake_api):
        fake_api.add_key('r1', 'ci')
        fake_api.add_key('r1', 'ci (replacing k1)', 'WRITE')
        result = plan.build_plan(fake_api, [dict(repo_id='r1', name='ci', access='WRITE')], now=NOW)
        assert [(c['action'], c['key_id']) for c in result['changes']] == [('finish_rotation', 'k1')]
        assert (result['results'][0]['id'], result['results'][0]['changed']) == ('k2', True)

    def test_exclusive_spares_unfinished_rotations_of_declared_names(self, fake_api):
        fake_api.add_key('r1', 'ci (replacing k0)')
        fake_api.add_key('r1', 'gone (replacing k0)')
        result = plan.build_plan(fake_api, [dict(repo_id='r1', name='ci')], exclusive=True, now=NOW)
        assert [(c['action'], c['name']) for c in result['changes']] == [
            ('finish_rotation', 'ci'), ('delete', 'gone (replacing k0)')]

    def test_absent_also_deletes_the_replacement(self, fake_api):
        fake_api.add_key('r1', 'ci')
        fake_api.add_key('r1', 'ci (replacing k1)')
        result = plan.build_plan(fake_api, [dict(repo_id='r1', name='ci', state='absent')], now=NOW)
        assert [c['key_id'] for c in result['changes']] == ['k1', 'k2']
