# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Carrying out the decisions against the in-memory FakeApi: requests, check mode, failures, concurrency."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import threading

import pytest

from ansible_collections.flashback.platform.plugins.module_utils import _converge as converge, _errors as errors
from ansible_collections.flashback.platform.plugins.module_utils._reconcile import (
    handed_back_name,
    replacement_name,
    staged_name,
)

# FakeApi keys are created at 2026-11-27T10:00:0N (N = id % 10): just under 30 days before NOW.
NOW = datetime.datetime(2026, 12, 27, 10, 0, 0)
SECRET = 'plain-secret-'


def live(api, repo_id='r1'):
    return [(k['id'], k['name'], k['accessType']) for k in api.keys[repo_id]]


def paths(calls):
    return [call[:2] for call in calls]


def run(api, entries, **kwargs):
    kwargs.setdefault('now', NOW)
    kwargs.setdefault('concurrency', 1)
    return converge.converge(api, entries, **kwargs)


def server_error(method, path):
    return errors.ServerError('the Flashback API failed on %s %s with HTTP 500: retry later' % (method, path), 500)


class TestRequests:
    def test_no_change_costs_one_listing_per_repo(self, fake_api):
        fake_api.add_key('r1', 'a', 'READ')
        fake_api.add_key('r2', 'b', 'WRITE')
        result = run(fake_api, [dict(repo_id='r1', name='a'), dict(repo_id='r2', name='b', access='WRITE'),
                                dict(repo_id='r1', name='gone', state='absent'), dict(repo_id='r2', name='b2',
                                                                                      state='absent')])
        assert result['changed'] is False
        assert result['changes'] == [] and result['new_secrets'] == [] and result['failures'] == []
        assert result['diff'] == []
        assert result['key_results'][0] == dict(repo_id='r1', name='a', action='none', state='present', id='k1',
                                                key='FBK1', access='READ', changed=False)
        assert result['key_results'][2] == dict(repo_id='r1', name='gone', action='none', state='absent', id=None,
                                                key=None, access=None, changed=False)
        assert fake_api.calls == [('GET', '/repo/r1/apikey', None), ('GET', '/repo/r2/apikey', None)]

    @pytest.mark.parametrize('exclusive', [False, True])
    def test_nothing_declared_sends_nothing(self, fake_api, exclusive):
        fake_api.add_key('r1', 'stray')
        result = run(fake_api, [], exclusive=exclusive)
        assert (result['changed'], result['changes'], result['key_results']) == (False, [], [])
        assert fake_api.calls == []

    def test_repo_names_cost_one_repo_listing(self, fake_api):
        result = run(fake_api, [dict(repo_name='backups', name='a'), dict(repo_name='media', name='b'),
                                dict(repo_id='r1', name='c')])
        assert [c['repo_id'] for c in result['changes']] == ['r1', 'r2', 'r1']
        assert [(s['repo_id'], s['repo_name'], s['name']) for s in result['new_secrets']] == [
            ('r1', 'backups', 'a'), ('r2', 'media', 'b'), ('r1', 'backups', 'c')]
        # One listing per repository to decide, one after its creates to check each answer's id.
        assert sorted(call[1] for call in fake_api.calls if call[0] == 'GET') == [
            '/repo', '/repo/r1/apikey', '/repo/r1/apikey', '/repo/r2/apikey', '/repo/r2/apikey']

    def test_no_repo_listing_without_repo_names(self, fake_api):
        run(fake_api, [dict(repo_id='r1', name='a')])
        assert [call for call in fake_api.calls if call[1] == '/repo'] == []
        assert [s['repo_name'] for s in run(fake_api, [dict(repo_id='r1', name='b')])['new_secrets']] == [None]

    def test_exactly_the_writes_needed_and_one_check_of_the_creates(self, fake_api):
        fake_api.add_key('r1', 'upd', 'READ')
        fake_api.add_key('r1', 'del', 'ADMIN')
        fake_api.add_key('r1', 'twin')
        fake_api.add_key('r1', 'twin')
        fake_api.add_key('r1', 'same', 'WRITE')
        result = run(fake_api, [dict(repo_id='r1', name='new', access='WRITE'),
                                dict(repo_id='r1', name='upd', access='ADMIN'),
                                dict(repo_id='r1', name='del', state='absent'),
                                dict(repo_id='r1', name='twin', state='absent'),
                                dict(repo_id='r1', name='same')])
        assert fake_api.calls == [
            ('GET', '/repo/r1/apikey', None),
            ('POST', '/repo/r1/apikey', dict(name='new', accessType='WRITE')),
            ('PUT', '/repo/r1/apikey/k1', dict(name='upd', accessType='ADMIN')),
            ('DELETE', '/repo/r1/apikey/k2', None),
            ('DELETE', '/repo/r1/apikey/k3', None),
            ('DELETE', '/repo/r1/apikey/k4', None),
            ('GET', '/repo/r1/apikey', None),  # the create's id is live under its name
        ]
        assert [(c['action'], c['name'], c['access'], c['key_id'], c['state']) for c in result['changes']] == [
            ('create', 'new', 'WRITE', None, 'present'),
            ('update', 'upd', 'ADMIN', 'k1', 'present'),
            ('delete', 'del', 'ADMIN', 'k2', 'absent'),
            ('delete', 'twin', 'READ', 'k3', 'absent')]
        assert result['changes'][0]['before'] == {}
        assert result['changes'][1]['before']['access'] == 'READ'
        assert result['key_results'][0] == dict(repo_id='r1', name='new', action='create', state='present', id='k6',
                                                key='FBK6', access='WRITE', changed=True)
        # A deleted key is reported as the key deleted.
        assert result['key_results'][2] == dict(repo_id='r1', name='del', action='delete', state='absent', id='k2',
                                                key='FBK2', access='ADMIN', changed=True)
        assert result['key_results'][4]['changed'] is False
        assert result['new_secrets'] == [dict(repo_id='r1', repo_name=None, name='new', id='k6', key='FBK6',
                                              access='WRITE', secret=SECRET + 'k6')]
        assert live(fake_api) == [('k1', 'upd', 'ADMIN'), ('k5', 'same', 'WRITE'), ('k6', 'new', 'WRITE')]

    def test_rotation_is_post_delete_put(self, fake_api):
        fake_api.add_key('r1', 'ci', 'WRITE')
        result = run(fake_api, [dict(repo_id='r1', name='ci', rotate=True)])
        assert fake_api.calls == [
            ('GET', '/repo/r1/apikey', None),
            ('POST', '/repo/r1/apikey', dict(name=replacement_name('ci', 'k1'), accessType='WRITE')),
            ('GET', '/repo/r1/apikey', None),  # the replacement is checked before the old key goes
            ('DELETE', '/repo/r1/apikey/k1', None),
            ('PUT', '/repo/r1/apikey/k2', dict(name='ci', accessType='WRITE')),
        ]
        assert result['key_results'] == [dict(repo_id='r1', name='ci', action='rotate', state='present', id='k2',
                                              key='FBK2', access='WRITE', changed=True)]
        assert [(s['name'], s['id'], s['secret']) for s in result['new_secrets']] == [('ci', 'k2', SECRET + 'k2')]
        assert result['outcomes'][0].replaced == dict(id='k1', key='FBK1', created_at='2026-11-27T10:00:01.000Z')
        assert live(fake_api) == [('k2', 'ci', 'WRITE')]

    def test_max_age_rotates_only_old_keys(self, fake_api):
        for name in ('forced', 'young', 'old', 'default'):
            fake_api.add_key('r1', name)
        result = run(fake_api, [dict(repo_id='r1', name='forced', rotate=True),
                                dict(repo_id='r1', name='young', max_age_days=31),
                                dict(repo_id='r1', name='old', max_age_days=29),
                                dict(repo_id='r1', name='default')], max_age_days=29)
        assert [(c['action'], c['name'], c['key_id']) for c in result['changes']] == [
            ('rotate', 'forced', 'k1'), ('rotate', 'old', 'k3'), ('rotate', 'default', 'k4')]
        assert [(r['name'], r['id'], r['changed']) for r in result['key_results']] == [
            ('forced', 'k5', True), ('young', 'k2', False), ('old', 'k6', True), ('default', 'k7', True)]
        assert [s['id'] for s in result['new_secrets']] == ['k5', 'k6', 'k7']

    def test_utc_now_is_used_without_now(self, fake_api, monkeypatch):
        fake_api.add_key('r1', 'ci')
        monkeypatch.setattr(converge, 'utc_now', lambda: datetime.datetime(2027, 1, 1))
        result = converge.converge(fake_api, [dict(repo_id='r1', name='ci', max_age_days=30)])
        assert result['changes'][0]['action'] == 'rotate'

    def test_utc_now_is_naive_utc(self):
        now = converge.utc_now()
        assert now.tzinfo is None
        aware = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        assert abs(now - aware) < datetime.timedelta(seconds=5)


class TestCheckMode:
    def test_sends_no_write_and_reports_the_plan(self, fake_api):
        fake_api.add_key('r1', 'upd', 'READ')
        fake_api.add_key('r1', 'del', 'ADMIN')
        fake_api.add_key('r1', 'rot', 'WRITE')
        fake_api.add_key('r1', 'fin')
        fake_api.add_key('r1', handed_back_name('fin', 'k4'), 'ADMIN')
        result = run(fake_api, [dict(repo_id='r1', name='new', access='WRITE'),
                                dict(repo_id='r1', name='upd', access='ADMIN'),
                                dict(repo_id='r1', name='del', state='absent'),
                                dict(repo_id='r1', name='rot', rotate=True),
                                dict(repo_id='r1', name='fin')],
                     check_mode=True)
        assert fake_api.writes == []
        assert fake_api.calls == [('GET', '/repo/r1/apikey', None)]
        assert result['changed'] is True
        assert [(c['action'], c['name'], c['access'], c['key_id']) for c in result['changes']] == [
            ('create', 'new', 'WRITE', None), ('update', 'upd', 'ADMIN', 'k1'), ('delete', 'del', 'ADMIN', 'k2'),
            ('rotate', 'rot', 'WRITE', 'k3'), ('finish_rotation', 'fin', 'ADMIN', 'k4')]
        assert result['key_results'] == [
            dict(repo_id='r1', name='new', action='create', state='present', id=None, key=None, access='WRITE',
                 changed=True),
            dict(repo_id='r1', name='upd', action='update', state='present', id='k1', key='FBK1', access='ADMIN',
                 changed=True),
            dict(repo_id='r1', name='del', action='delete', state='absent', id='k2', key='FBK2', access='ADMIN',
                 changed=True),
            dict(repo_id='r1', name='rot', action='rotate', state='present', id=None, key=None, access='WRITE',
                 changed=True),
            dict(repo_id='r1', name='fin', action='finish_rotation', state='present', id='k5', key='FBK5',
                 access='ADMIN', changed=True),
        ]
        assert result['new_secrets'] == [] and result['failures'] == []
        assert all(not outcome.wrote for outcome in result['outcomes'])

    def test_exclusive_deletes_are_planned_only(self, fake_api):
        fake_api.add_key('r1', 'stray')
        result = run(fake_api, [dict(repo_id='r1', name='keep')], check_mode=True, exclusive=True)
        assert [(c['action'], c['name']) for c in result['changes']] == [('create', 'keep'), ('delete', 'stray')]
        assert fake_api.writes == [] and live(fake_api) == [('k1', 'stray', 'READ')]


class TestRefusals:
    def test_refusal_anywhere_stops_every_write(self, fake_api):
        fake_api.add_key('r1', 'twin')
        fake_api.add_key('r1', 'twin')
        fake_api.add_key('r2', 'old')
        fake_api.add_key('r2', 'new')
        with pytest.raises(errors.ResourceError) as exc:
            run(fake_api, [dict(repo_id='r1', name='fresh'), dict(repo_id='r1', name='twin', access='WRITE'),
                           dict(repo_id='r2', name='gone', state='absent'), dict(repo_id='r2', name='new', key_id='k3'),
                           dict(repo_id='r2', name='ghost', key_id='k9')], exclusive=True)
        assert exc.value.message == (
            "entry 2 (name 'twin'): 2 live API keys are named 'twin' in repository r1 (ids: k1, k2): set key_id to "
            "pick one, or delete the extra keys; "
            "entry 4 (name 'new'): cannot rename API key k3 to 'new' in repository r2: live key k4 already has that "
            "name; "
            "entry 5 (name 'ghost'): no live API key with id k9 in repository r2: omit key_id to create a key by name; "
            "nothing was changed")
        assert fake_api.writes == []

    def test_one_refused_key_is_the_whole_story(self, fake_api):
        fake_api.add_key('r1', 'twin')
        fake_api.add_key('r1', 'twin')
        with pytest.raises(errors.ResourceError) as exc:
            run(fake_api, [dict(repo_id='r1', name='twin')])
        assert exc.value.message == ("2 live API keys are named 'twin' in repository r1 (ids: k1, k2): set key_id to "
                                     "pick one, or delete the extra keys")
        assert fake_api.writes == []

    @pytest.mark.parametrize('name, reason', [
        ('nowhere', "repository named 'nowhere' not found or not visible to this token"),
        ('shared', "2 repositories are named 'shared' (ids: r4, r5): set repo_id instead of repo_name"),
    ])
    @pytest.mark.parametrize('others, where', [([], ''), ([dict(repo_id='r1', name='x')], "entry 2 (name 'a'): ")])
    def test_bad_repo_names(self, fake_api, name, reason, others, where):
        with pytest.raises(errors.ResourceError) as exc:
            run(fake_api, others + [dict(repo_name=name, name='a')])
        assert exc.value.message == where + reason
        assert fake_api.calls == [('GET', '/repo', None)]

    def test_same_key_by_id_and_by_name_refused_after_resolving(self, fake_api):
        with pytest.raises(errors.ConfigurationError) as exc:
            run(fake_api, [dict(repo_id='r1', name='a'), dict(repo_name='backups', name='a')])
        assert exc.value.message == ("entry 2 (name 'a') declares the same repository and name as entry 1; "
                                     "declare each key once")
        assert fake_api.calls == [('GET', '/repo', None)]

    def test_bad_entry_fails_before_any_request(self, fake_api):
        with pytest.raises(errors.ConfigurationError) as exc:
            run(fake_api, [dict(repo_name='backups', name='a'), dict(repo_id='r1')])
        assert exc.value.message == 'entry 2 needs a name'
        assert fake_api.calls == []

    def test_failed_listing_stops_every_write(self, fake_api):
        with pytest.raises(errors.NotFoundError) as exc:
            run(fake_api, [dict(repo_id='r1', name='a'), dict(repo_id='r404', name='b')])
        assert exc.value.message == 'repository r404 not found or not visible to this token'
        assert fake_api.writes == []


class TestFailures:
    def test_a_failing_write_keeps_the_other_changes_and_secrets(self, fake_api):
        fake_api.add_key('r1', 'b')
        fake_api.failures[('PUT', '/repo/r1/apikey/k1')] = server_error('PUT', '/repo/r1/apikey/k1')
        result = run(fake_api, [dict(repo_id='r1', name='a'), dict(repo_id='r1', name='b', access='WRITE'),
                                dict(repo_id='r2', name='c')])
        assert result['failures'] == [
            "entry 2 (name 'b'): the Flashback API failed on PUT /repo/r1/apikey/k1 with HTTP 500: retry later"]
        assert result['changed'] is True
        assert [(s['name'], s['id'], s['secret']) for s in result['new_secrets']] == [
            ('a', 'k2', SECRET + 'k2'), ('c', 'k3', SECRET + 'k3')]
        assert [(c['action'], c['name']) for c in result['changes']] == [
            ('create', 'a'), ('update', 'b'), ('create', 'c')]
        assert result['key_results'][1] == dict(repo_id='r1', name='b', action='update', state='present', id='k1',
                                                key='FBK1', access='READ', changed=False, failed=True,
                                                msg='the Flashback API failed on PUT /repo/r1/apikey/k1 with HTTP 500: '
                                                'retry later')
        assert 'failed' not in result['key_results'][0] and 'failed' not in result['key_results'][2]
        assert [len(d['after']) > 0 for d in result['diff']] == [True, True]
        assert live(fake_api, 'r1') == [('k1', 'b', 'READ'), ('k2', 'a', 'READ')]
        assert live(fake_api, 'r2') == [('k3', 'c', 'READ')]

    def test_a_failing_create_mints_no_secret(self, fake_api):
        fake_api.failures[('POST', '/repo/r1/apikey')] = errors.BadRequestError('rejected', 400)
        result = run(fake_api, [dict(repo_id='r1', name='a'), dict(repo_id='r2', name='b')])
        assert result['failures'] == ["entry 1 (name 'a'): rejected"]
        assert [s['name'] for s in result['new_secrets']] == ['b']
        assert result['key_results'][0]['id'] is None and result['key_results'][0]['changed'] is False
        assert live(fake_api, 'r1') == []

    def test_a_failing_exclusive_delete_names_the_undeclared_key(self, fake_api):
        fake_api.add_key('r1', 'stray')
        fake_api.add_key('r1', 'other')
        fake_api.failures[('DELETE', '/repo/r1/apikey/k1')] = server_error('DELETE', '/repo/r1/apikey/k1')
        result = run(fake_api, [dict(repo_id='r1', name='keep')], exclusive=True)
        assert result['failures'] == ["undeclared key r1/stray: the Flashback API failed on DELETE "
                                      "/repo/r1/apikey/k1 with HTTP 500: retry later"]
        assert [(r['name'], r['state'], r.get('failed')) for r in result['key_results']] == [
            ('keep', 'present', None), ('stray', 'absent', True), ('other', 'absent', None)]
        assert live(fake_api) == [('k1', 'stray', 'READ'), ('k3', 'keep', 'READ')]

    def test_a_delete_failing_halfway_reports_the_change_made(self, fake_api):
        fake_api.add_key('r1', 'twin')
        fake_api.add_key('r1', 'twin')
        fake_api.failures[('DELETE', '/repo/r1/apikey/k2')] = server_error('DELETE', '/repo/r1/apikey/k2')
        result = run(fake_api, [dict(repo_id='r1', name='twin', state='absent')])
        assert result['changed'] is True
        assert result['key_results'][0]['failed'] is True and result['key_results'][0]['changed'] is True
        assert live(fake_api) == [('k2', 'twin', 'READ')]

    def test_rotation_whose_create_fails_leaves_the_old_key(self, fake_api):
        fake_api.add_key('r1', 'ci')
        fake_api.failures[('POST', '/repo/r1/apikey')] = errors.BadRequestError('rejected', 400)
        result = run(fake_api, [dict(repo_id='r1', name='ci', rotate=True)])
        assert result['failures'] == ["entry 1 (name 'ci'): rejected"]
        assert result['new_secrets'] == [] and result['changed'] is False
        assert result['key_results'][0]['id'] == 'k1'
        assert paths(fake_api.writes) == [('POST', '/repo/r1/apikey')]
        assert live(fake_api) == [('k1', 'ci', 'READ')]

    def test_rotation_failing_after_create_keeps_the_secret(self, fake_api):
        fake_api.add_key('r1', 'ci', 'WRITE')
        fake_api.failures[('DELETE', '/repo/r1/apikey/k1')] = server_error('DELETE', '/repo/r1/apikey/k1')
        result = run(fake_api, [dict(repo_id='r1', name='ci', rotate=True)])
        assert [(s['id'], s['secret']) for s in result['new_secrets']] == [('k2', SECRET + 'k2')]
        [failure] = result['failures']
        assert failure.startswith("entry 1 (name 'ci'): rotating API key 'ci' in repository r1: the new key k2 "
                                  "exists and its secret is in this result, but retiring the old key k1 and giving "
                                  "the new key the name did not finish (the Flashback API failed on DELETE")
        assert failure.endswith('store the secret now, then rerun to finish the rotation')
        assert SECRET not in failure
        assert result['key_results'][0]['id'] == 'k2' and result['key_results'][0]['failed'] is True
        # Before returning the secret, the run recorded on the key that it handed it back.
        assert paths(fake_api.writes) == [('POST', '/repo/r1/apikey'), ('DELETE', '/repo/r1/apikey/k1'),
                                          ('PUT', '/repo/r1/apikey/k2')]
        assert live(fake_api) == [('k1', 'ci', 'WRITE'), ('k2', handed_back_name('ci', 'k1'), 'WRITE')]
        del fake_api.calls[:]
        # The rerun finishes it: no new key, no new secret.
        del fake_api.failures[('DELETE', '/repo/r1/apikey/k1')]
        del fake_api.calls[:]
        rerun = run(fake_api, [dict(repo_id='r1', name='ci', rotate=True)])
        assert paths(fake_api.writes) == [('DELETE', '/repo/r1/apikey/k1'), ('PUT', '/repo/r1/apikey/k2')]
        assert rerun['new_secrets'] == [] and rerun['failures'] == []
        assert [c['action'] for c in rerun['changes']] == ['finish_rotation']
        assert live(fake_api) == [('k2', 'ci', 'WRITE')]


class TestPhases:
    """stage mints beside the old keys; commit finishes what was delivered and withdraws the rest."""

    def test_stage_then_commit(self, fake_api):
        fake_api.add_key('r1', 'ok', 'WRITE')
        fake_api.add_key('r1', 'bad', 'ADMIN')
        fake_api.add_key('r1', 'upd')
        entries = [dict(repo_id='r1', name='ok', rotate=True), dict(repo_id='r1', name='bad', rotate=True),
                   dict(repo_id='r1', name='fresh'), dict(repo_id='r1', name='good-new'),
                   dict(repo_id='r1', name='upd', access='ADMIN')]
        staged = run(fake_api, entries, phase='stage')
        assert [(w[0], (w[2] or {}).get('name')) for w in fake_api.writes] == [
            ('POST', replacement_name('ok', 'k1')), ('POST', replacement_name('bad', 'k2')),
            ('POST', staged_name('fresh')), ('POST', staged_name('good-new'))]
        assert [(r['action'], r['id'], r.get('pending')) for r in staged['key_results']] == [
            ('stage_rotation', 'k4', None), ('stage_rotation', 'k5', None), ('stage_create', 'k6', None),
            ('stage_create', 'k7', None), ('none', 'k3', 'update')]
        assert staged['new_keys'] == [dict(repo_id='r1', id=k, name=n) for k, n in
                                      (('k4', 'ok'), ('k5', 'bad'), ('k6', 'fresh'), ('k7', 'good-new'))]
        assert [s['secret'] for s in staged['new_secrets']] == [SECRET + k for k in ('k4', 'k5', 'k6', 'k7')]
        assert SECRET not in json.dumps(staged['new_keys'])
        del fake_api.calls[:]

        committed = run(fake_api, entries, phase='commit',
                        delivered=[dict(repo_id='r1', id='k4'), dict(repo_id='r1', id='k7', name='good-new'),
                                   dict(repo_id='r2', id='k5')])  # k5 of another repository: not this one
        assert paths(fake_api.writes) == [
            ('DELETE', '/repo/r1/apikey/k1'), ('PUT', '/repo/r1/apikey/k4'), ('DELETE', '/repo/r1/apikey/k5'),
            ('DELETE', '/repo/r1/apikey/k6'), ('PUT', '/repo/r1/apikey/k7'), ('PUT', '/repo/r1/apikey/k3')]
        assert [(r['action'], r['id'], r.get('withdrawn')) for r in committed['key_results']] == [
            ('finish_rotation', 'k4', None), ('withdraw', 'k2', ['k5']), ('withdraw', None, ['k6']),
            ('finish_create', 'k7', None), ('update', 'k3', None)]
        assert committed['new_secrets'] == [] and committed['failures'] == []
        assert sorted(live(fake_api)) == [('k2', 'bad', 'ADMIN'), ('k3', 'upd', 'ADMIN'), ('k4', 'ok', 'WRITE'),
                                          ('k7', 'good-new', 'READ')]

        # The rerun stages again what was withdrawn: another secret to deliver; the old key was valid all along.
        again = run(fake_api, entries[1:3], phase='stage')
        assert sorted(s['name'] for s in again['new_secrets']) == ['bad', 'fresh']

    def test_a_stage_withdraws_what_an_interrupted_stage_left_and_mints_again(self, fake_api):
        fake_api.add_key('r1', 'ci', 'WRITE')
        entries = [dict(repo_id='r1', name='ci', rotate=True), dict(repo_id='r1', name='new')]
        run(fake_api, entries, phase='stage')  # the play stops here: nobody delivered k2, k3
        del fake_api.calls[:]
        rerun = run(fake_api, entries, phase='stage')
        assert paths(fake_api.writes) == [('DELETE', '/repo/r1/apikey/k2'), ('POST', '/repo/r1/apikey'),
                                          ('DELETE', '/repo/r1/apikey/k3'), ('POST', '/repo/r1/apikey')]
        assert [(r['action'], r['id'], r['withdrawn']) for r in rerun['key_results']] == [
            ('stage_rotation', 'k4', ['k2']), ('stage_create', 'k5', ['k3'])]
        assert live(fake_api) == [('k1', 'ci', 'WRITE'), ('k4', replacement_name('ci', 'k1'), 'WRITE'),
                                  ('k5', staged_name('new'), 'READ')]

    def test_a_run_of_all_after_an_interrupted_stage_never_finishes_onto_the_unknown_secret(self, fake_api):
        fake_api.add_key('r1', 'ci', 'WRITE')
        run(fake_api, [dict(repo_id='r1', name='ci', rotate=True)], phase='stage')
        del fake_api.calls[:]
        rerun = run(fake_api, [dict(repo_id='r1', name='ci', rotate=True)])
        assert paths(fake_api.writes) == [('DELETE', '/repo/r1/apikey/k2'), ('POST', '/repo/r1/apikey'),
                                          ('DELETE', '/repo/r1/apikey/k1'), ('PUT', '/repo/r1/apikey/k3')]
        assert [s['id'] for s in rerun['new_secrets']] == ['k3']
        assert live(fake_api) == [('k3', 'ci', 'WRITE')]

    def test_a_commit_mints_nothing(self, fake_api):
        fake_api.add_key('r1', 'due')
        fake_api.add_key('r1', 'upd')
        result = run(fake_api, [dict(repo_id='r1', name='due', rotate=True), dict(repo_id='r1', name='missing'),
                                dict(repo_id='r1', name='upd', access='ADMIN')], phase='commit')
        assert paths(fake_api.writes) == [('PUT', '/repo/r1/apikey/k2')]
        assert result['new_secrets'] == []
        assert [(r['action'], r['changed'], r.get('pending')) for r in result['key_results']] == [
            ('none', False, 'rotate'), ('none', False, 'create'), ('update', True, None)]

    def test_a_stage_changes_nothing_else(self, fake_api):
        fake_api.add_key('r1', 'upd')
        fake_api.add_key('r1', 'gone')
        fake_api.add_key('r1', 'stray')
        result = run(fake_api, [dict(repo_id='r1', name='upd', access='WRITE'),
                                dict(repo_id='r1', name='gone', state='absent')], phase='stage', exclusive=True)
        assert fake_api.writes == []
        assert [(r['action'], r.get('pending')) for r in result['key_results']] == [('none', 'update'), ('none', 'delete')]

    def test_withdrawal_in_check_mode_sends_nothing(self, fake_api):
        fake_api.add_key('r1', staged_name('ci'))
        result = run(fake_api, [dict(repo_id='r1', name='ci')], phase='commit', check_mode=True)
        assert fake_api.writes == []
        assert result['changes'][0]['action'] == 'withdraw' and result['changed'] is True

    def test_a_failing_withdrawal_is_a_failure_and_not_reported_withdrawn(self, fake_api):
        fake_api.add_key('r1', 'ci')
        fake_api.add_key('r1', replacement_name('ci', 'k1'))
        fake_api.failures[('DELETE', '/repo/r1/apikey/k2')] = server_error('DELETE', '/repo/r1/apikey/k2')
        result = run(fake_api, [dict(repo_id='r1', name='ci', rotate=True)], phase='commit')
        [failure] = result['failures']
        assert failure.startswith("entry 1 (name 'ci'): withdrawing API key k2 ('ci' in repository r1, a new key whose "
                                  "secret is not known to have been delivered) failed (the Flashback API failed on "
                                  "DELETE /repo/r1/apikey/k2 with HTTP 500")
        assert 'withdrawn' not in result['key_results'][0] and result['key_results'][0]['failed'] is True
        # It is still staged: the next run withdraws it again, never finishes onto it.
        del fake_api.failures[('DELETE', '/repo/r1/apikey/k2')]
        rerun = run(fake_api, [dict(repo_id='r1', name='ci', rotate=True)], phase='commit')
        assert rerun['key_results'][0]['withdrawn'] == ['k2']
        assert live(fake_api) == [('k1', 'ci', 'READ')]

    def test_a_stage_whose_withdrawal_fails_mints_nothing(self, fake_api):
        fake_api.add_key('r1', staged_name('ci'))
        fake_api.failures[('DELETE', '/repo/r1/apikey/k1')] = server_error('DELETE', '/repo/r1/apikey/k1')
        result = run(fake_api, [dict(repo_id='r1', name='ci')], phase='stage')
        assert result['new_secrets'] == [] and len(result['failures']) == 1
        assert paths(fake_api.writes) == [('DELETE', '/repo/r1/apikey/k1')]

    def test_a_delivered_rotation_whose_retirement_fails_is_handed_back(self, fake_api):
        fake_api.add_key('r1', 'ci')
        fake_api.add_key('r1', replacement_name('ci', 'k1'))
        fake_api.failures[('DELETE', '/repo/r1/apikey/k1')] = server_error('DELETE', '/repo/r1/apikey/k1')
        result = run(fake_api, [dict(repo_id='r1', name='ci')], phase='commit', delivered=[dict(repo_id='r1', id='k2')])
        assert result['failures'][0].endswith('rerun to finish it')
        assert live(fake_api) == [('k1', 'ci', 'READ'), ('k2', handed_back_name('ci', 'k1'), 'READ')]
        del fake_api.failures[('DELETE', '/repo/r1/apikey/k1')]
        rerun = run(fake_api, [dict(repo_id='r1', name='ci')], phase='stage')  # the role's next run starts with a stage
        assert rerun['new_secrets'] == [] and rerun['key_results'][0]['pending'] == 'finish_rotation'
        run(fake_api, [dict(repo_id='r1', name='ci')], phase='commit')
        assert live(fake_api) == [('k2', 'ci', 'READ')]

    def test_a_rotation_that_cannot_record_the_hand_back_says_a_rerun_replaces_it(self, fake_api):
        fake_api.add_key('r1', 'ci')
        fake_api.failures[('DELETE', '/repo/r1/apikey/k1')] = server_error('DELETE', '/repo/r1/apikey/k1')
        fake_api.failures[('PUT', '/repo/r1/apikey/k2')] = server_error('PUT', '/repo/r1/apikey/k2')
        result = run(fake_api, [dict(repo_id='r1', name='ci', rotate=True)])
        assert result['failures'][0].endswith('a rerun withdraws the new key and makes another')
        assert live(fake_api) == [('k1', 'ci', 'READ'), ('k2', replacement_name('ci', 'k1'), 'READ')]

    @pytest.mark.parametrize('phase, delivered, message', [
        ('later', [], "phase is 'later'; use one of all, stage, commit"),
        ('stage', [dict(repo_id='r1', id='k1')], 'delivered is for phase commit (or all)'),
    ])
    def test_bad_phase_options(self, fake_api, phase, delivered, message):
        with pytest.raises(errors.ConfigurationError) as exc:
            run(fake_api, [dict(repo_id='r1', name='ci')], phase=phase, delivered=delivered)
        assert message in exc.value.message
        assert fake_api.calls == []


class TestExclusive:
    def test_deletes_undeclared_keys_of_named_repos_only(self, fake_api):
        for name in ('keep', 'guard', 'stray1', 'stray2'):
            fake_api.add_key('r1', name)
        fake_api.add_key('r2', 'other-repo-untouched')
        result = run(fake_api, [dict(repo_id='r1', name='keep')], exclusive=True, protected=['guard'])
        assert [(c['action'], c['name'], c['key_id'], c['state']) for c in result['changes']] == [
            ('delete', 'stray1', 'k3', 'absent'), ('delete', 'stray2', 'k4', 'absent')]
        assert [(r['name'], r['state'], r['action']) for r in result['key_results']] == [
            ('keep', 'present', 'none'), ('stray1', 'absent', 'delete'), ('stray2', 'absent', 'delete')]
        assert paths(fake_api.writes) == [('DELETE', '/repo/r1/apikey/k3'), ('DELETE', '/repo/r1/apikey/k4')]
        assert [k[1] for k in live(fake_api)] == ['keep', 'guard']
        assert live(fake_api, 'r2') == [('k5', 'other-repo-untouched', 'READ')]

    def test_spares_unfinished_rotations_of_declared_names(self, fake_api):
        fake_api.add_key('r1', handed_back_name('ci', 'k0'))
        fake_api.add_key('r1', replacement_name('gone', 'k0'))
        result = run(fake_api, [dict(repo_id='r1', name='ci')], exclusive=True)
        assert [(c['action'], c['name']) for c in result['changes']] == [
            ('finish_rotation', 'ci'), ('delete', replacement_name('gone', 'k0'))]
        # The old key is already gone: finishing is one rename.
        assert paths(fake_api.writes) == [('PUT', '/repo/r1/apikey/k1'), ('DELETE', '/repo/r1/apikey/k2')]
        assert live(fake_api) == [('k1', 'ci', 'READ')]

    def test_not_exclusive_leaves_strays(self, fake_api):
        fake_api.add_key('r1', 'stray')
        result = run(fake_api, [dict(repo_id='r1', name='keep')])
        assert [c['action'] for c in result['changes']] == ['create']
        assert paths(fake_api.writes) == [('POST', '/repo/r1/apikey')]


def per_repo_ids(api):
    """Number key ids per repository, so interleaved threads mint the same ids as one thread; note threads."""
    api.keys.update(r3=[], r6=[])
    serials = {}
    api.threads = set()
    answer = api.request

    def add_key(repo_id, name, access='READ'):
        with api.lock:
            serials[repo_id] = serials.get(repo_id, 0) + 1
            number = serials[repo_id]
            raw = dict(id='%s-k%d' % (repo_id, number), name=name, accessType=access,
                       key='FBK-%s-%d' % (repo_id, number), createdAt='2026-11-27T10:00:0%d.000Z' % number,
                       secret=dict(key='enc'))
            api.keys[repo_id].append(raw)
            return raw

    def request(method, path, payload=None, context=None):
        api.threads.add(threading.current_thread().name)
        return answer(method, path, payload, context)

    api.add_key = add_key
    api.request = request
    return api


def rendezvous(api, parties, method):
    """The first ``method`` request of each of ``parties`` repositories waits for the others: only threads
    that run at the same time get through (a lone thread breaks the barrier after 10 s)."""
    barrier = threading.Barrier(parties, timeout=10)
    met = set()
    answer = api.request

    def request(method_, path, payload=None, context=None):
        repo_id = path.split('/')[2]
        if method_ == method and repo_id not in met:
            met.add(repo_id)
            barrier.wait()
        return answer(method_, path, payload, context)

    api.request = request
    return barrier


def seeded(api):
    for repo_id in ('r1', 'r2', 'r3', 'r4', 'r6'):
        api.add_key(repo_id, 'upd')
        api.add_key(repo_id, 'rot', 'WRITE')
        api.add_key(repo_id, 'del')
        api.add_key(repo_id, 'stray')
        api.add_key(repo_id, 'same', 'ADMIN')
    return api


FLEET = [dict(repo_id=repo_id, name=name, **options) for repo_id in ('r1', 'r2', 'r3', 'r4', 'r6')
         for name, options in (('new', dict(access='WRITE')), ('upd', dict(access='ADMIN')), ('rot', dict(rotate=True)),
                               ('del', dict(state='absent')), ('same', dict()))]


class TestConcurrency:
    @pytest.mark.parametrize('concurrency', [0, -1, 17, 100])
    def test_out_of_range(self, fake_api, concurrency):
        with pytest.raises(errors.ConfigurationError) as exc:
            run(fake_api, [dict(repo_id='r1', name='a')], concurrency=concurrency)
        assert exc.value.message == 'concurrency is %d; use 1 to 16' % concurrency
        assert fake_api.calls == []

    @pytest.mark.parametrize('concurrency', [1, 16])
    def test_bounds_accepted(self, fake_api, concurrency):
        result = run(fake_api, [dict(repo_id=r, name='a') for r in ('r1', 'r2', 'r4')], concurrency=concurrency)
        assert [s['name'] for s in result['new_secrets']] == ['a', 'a', 'a']

    @pytest.mark.parametrize('concurrency', [2, 4, 16])
    def test_same_outcome_as_one_at_a_time(self, fake_api_factory, concurrency):
        serial, parallel = seeded(per_repo_ids(fake_api_factory())), seeded(per_repo_ids(fake_api_factory()))
        expected = run(serial, FLEET, exclusive=True, concurrency=1)
        result = run(parallel, FLEET, exclusive=True, concurrency=concurrency)
        del expected['outcomes'], result['outcomes']
        assert result == expected
        assert len(result['changes']) == 5 * 5 and len(result['new_secrets']) == 10
        assert parallel.keys == serial.keys
        assert sorted(parallel.calls, key=repr) == sorted(serial.calls, key=repr)
        for repo_id in ('r1', 'r2', 'r3', 'r4', 'r6'):
            prefix = '/repo/%s/' % repo_id
            assert ([c for c in parallel.calls if c[1].startswith(prefix)]
                    == [c for c in serial.calls if c[1].startswith(prefix)])
        assert serial.threads == {threading.current_thread().name}
        assert threading.current_thread().name not in parallel.threads

    @pytest.mark.parametrize('method', ['GET', 'POST'])
    def test_repositories_are_worked_on_at_once(self, fake_api_factory, method):
        api = per_repo_ids(fake_api_factory())
        barrier = rendezvous(api, 3, method)
        result = run(api, [dict(repo_id=r, name='a') for r in ('r1', 'r2', 'r3')], concurrency=3)
        assert [s['id'] for s in result['new_secrets']] == ['r1-k1', 'r2-k1', 'r3-k1']
        assert not barrier.broken
        assert threading.current_thread().name not in api.threads


class TestDiff:
    def test_diff_never_holds_a_secret(self, fake_api):
        fake_api.add_key('r1', 'rot')
        fake_api.add_key('r1', 'upd')
        fake_api.add_key('r1', 'del')
        fake_api.add_key('r1', 'fin')
        fake_api.add_key('r1', handed_back_name('fin', 'k4'))
        result = run(fake_api, [dict(repo_id='r1', name='new'), dict(repo_id='r1', name='rot', rotate=True),
                                dict(repo_id='r1', name='upd', access='ADMIN'),
                                dict(repo_id='r1', name='del', state='absent'), dict(repo_id='r1', name='fin')])
        assert len(result['new_secrets']) == 2 and all(s['secret'].startswith(SECRET) for s in result['new_secrets'])
        assert SECRET not in json.dumps(result['diff'])
        assert 'enc' not in json.dumps(result['diff'])
        assert [(d['before_header'], d['before'].get('id'), d['after'].get('id')) for d in result['diff']] == [
            ('r1/new', None, 'k6'), ('r1/rot', 'k1', 'k7'), ('r1/upd', 'k2', 'k2'), ('r1/del', 'k3', None),
            ('r1/fin', 'k4', 'k5')]
        assert result['diff'][2]['after']['access'] == 'ADMIN' and result['diff'][2]['before']['access'] == 'READ'


class TestConvergeSet:
    def params(self, **overrides):
        params = dict(apikeys=[dict(repo_id='r1', name='a')], exclusive=False, protected=[], max_age_days=None,
                      concurrency=4)
        params.update(overrides)
        return params

    @pytest.mark.parametrize('diff', [False, True])
    def test_documented_return_only(self, fake_api, diff):
        result = converge.converge_set(fake_api, self.params(), check_mode=False, diff=diff)
        keys = {'changed', 'changes', 'key_results', 'new_secrets', 'new_keys', 'failures'}
        assert set(result) == (keys | {'diff'} if diff else keys)
        json.dumps(result)

    def test_options_reach_converge(self, fake_api, monkeypatch):
        monkeypatch.setattr(converge, 'utc_now', lambda: NOW)
        fake_api.add_key('r1', 'stray')
        fake_api.add_key('r1', 'guard')
        fake_api.add_key('r1', 'old')
        result = converge.converge_set(fake_api, self.params(
            apikeys=[dict(repo_id='r1', name='old')], exclusive=True, protected=['guard'], max_age_days=1,
            phase='stage'), check_mode=True, diff=False)
        assert [(c['action'], c['name']) for c in result['changes']] == [('stage_rotation', 'old')]
        assert fake_api.writes == []

    def test_phase_defaults_to_all(self, fake_api):
        fake_api.add_key('r1', 'a')
        converge.converge_set(fake_api, self.params(apikeys=[dict(repo_id='r1', name='a', rotate=True)]),
                              check_mode=False, diff=False)
        assert [c[0] for c in fake_api.writes] == ['POST', 'DELETE', 'PUT']

    def test_bad_concurrency(self, fake_api):
        with pytest.raises(errors.ConfigurationError):
            converge.converge_set(fake_api, self.params(concurrency=0), check_mode=False, diff=False)

    # The key is 29 days and some seconds old at NOW: due in 1 day.
    @pytest.mark.parametrize('warn_before_days, expected', [(None, None), (0, []),
                                                            (1, ['r1/a is due for rotation in 1 day'])])
    def test_due_soon_is_returned_and_warned(self, fake_api, monkeypatch, warn_before_days, expected):
        monkeypatch.setattr(converge, 'utc_now', lambda: NOW)
        fake_api.add_key('r1', 'a')
        warned = []
        result = converge.converge_set(fake_api, self.params(apikeys=[dict(repo_id='r1', name='a', max_age_days=30)],
                                                             warn_before_days=warn_before_days),
                                       check_mode=True, diff=False, warn=warned.append)
        assert result.get('due_soon') == expected
        assert warned == (expected or [])


class ForgingApi(object):
    """FakeApi whose create answers carry a made-up id (the key is made under another one)."""

    def __init__(self, api, forged_id='k999'):
        self.api = api
        self.forged_id = forged_id

    def __getattr__(self, name):
        return getattr(self.api, name)

    def request(self, method, path, payload=None, context=None):
        answer = self.api.request(method, path, payload, context)
        if method == 'POST':
            answer = dict(answer, id=self.forged_id)
        return answer


class TestCreatesAreChecked:
    """A 2xx create answer is checked against one listing: an id the listing does not show under the name
    leaves no key and hands out no secret."""

    def test_a_forged_id_leaves_no_key_and_no_secret(self, fake_api):
        result = run(ForgingApi(fake_api), [dict(repo_id='r1', name='n'), dict(repo_id='r1', name='ok')])
        assert result['new_secrets'] == []
        assert live(fake_api) == []
        assert [r.get('failed') for r in result['key_results']] == [True, True]
        assert result['failures'][0].startswith("entry 1 (name 'n'): the API answered the create of 'n' with id k999, "
                                                "which the listing does not show under that name")

    def test_a_forged_rotation_keeps_the_old_key(self, fake_api):
        fake_api.add_key('r1', 'ci', 'WRITE')
        result = run(ForgingApi(fake_api), [dict(repo_id='r1', name='ci', rotate=True)])
        assert live(fake_api) == [('k1', 'ci', 'WRITE')]  # the replacement made under k2 is gone; k1 untouched
        assert result['new_secrets'] == [] and result['key_results'][0]['id'] == 'k1'
        assert [call[0] for call in fake_api.calls] == ['GET', 'POST', 'GET', 'DELETE']
        assert fake_api.calls[-1][1] == '/repo/r1/apikey/k2'

    def test_a_true_answer_costs_one_listing_per_repository(self, fake_api):
        result = run(fake_api, [dict(repo_id='r1', name='a'), dict(repo_id='r1', name='b')])
        assert [call[0] for call in fake_api.calls] == ['GET', 'POST', 'POST', 'GET']
        assert [s['name'] for s in result['new_secrets']] == ['a', 'b']

    def test_rotations_wait_for_the_one_check_listing(self, fake_api):
        fake_api.add_key('r1', 'a', 'READ')
        fake_api.add_key('r1', 'b', 'WRITE')
        result = run(fake_api, [dict(repo_id='r1', name='a', rotate=True), dict(repo_id='r1', name='b', rotate=True)])
        assert [call[0] for call in fake_api.calls] == ['GET', 'POST', 'POST', 'GET', 'DELETE', 'PUT', 'DELETE', 'PUT']
        assert live(fake_api) == [('k3', 'a', 'READ'), ('k4', 'b', 'WRITE')]
        assert [s['name'] for s in result['new_secrets']] == ['a', 'b'] and result['failures'] == []

    def test_a_failed_check_listing_keeps_the_old_keys_and_hands_back_the_secrets(self, fake_api):
        fake_api.add_key('r1', 'a', 'READ')
        calls = []

        class ListOnce(ForgingApi):
            def request(self, method, path, payload=None, context=None):
                calls.append(method)
                if method == 'GET' and calls.count('GET') == 2:
                    raise server_error(method, path)
                return self.api.request(method, path, payload, context)
        result = run(ListOnce(fake_api), [dict(repo_id='r1', name='a', rotate=True)])
        assert [s['name'] for s in result['new_secrets']] == ['a']
        # The secret was handed back, and the replacement's name records it: the next run finishes it.
        assert [key[1] for key in live(fake_api)] == ['a', handed_back_name('a', 'k1')]
        assert 'listing the keys to check it failed' in result['failures'][0]
        rerun = run(fake_api, [dict(repo_id='r1', name='a', rotate=True)])
        assert rerun['new_secrets'] == [] and rerun['failures'] == []
        assert [key[1] for key in live(fake_api)] == ['a'] and live(fake_api)[0][0] == result['new_secrets'][0]['id']
