# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Rotation with a grace period (retire_after_days): the decision and its execution against the fake API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

import pytest

from ansible_collections.flashback.platform.plugins.module_utils import _converge as converge, _errors as errors, _reconcile as reconcile
from ansible_collections.flashback.platform.plugins.module_utils._reconcile import (
    handed_back_name,
    replacement_name,
    retiring_name,
)

NOW = datetime.datetime(2026, 12, 27, 10, 0, 0)


def key(key_id, name, access='READ', created_at='2026-11-27T10:00:00Z'):
    return dict(id=key_id, name=name, access=access, key='FBK-' + key_id, repo_id='r1', created_at=created_at)


def entry(**fields):
    declared = dict(repo_id='r1', name='ci')
    declared.update(fields)
    return reconcile.validate_entry(0, declared)


class TestRetiringName:
    def test_format_is_pinned(self):
        # The name is the only record of the date: this shape is read back by every later run.
        assert re.match(r'^ci \(retiring after 2026-12-04 #[0-9a-f]{8}\)$', retiring_name('ci', '2026-12-04'))
        assert reconcile.parse_retiring(retiring_name('my key', '2026-12-04')) == ('my key', '2026-12-04')

    @pytest.mark.parametrize('name', ['ci (retiring after 2026-12-04)', 'ci (retiring after 2026-12-04 #00000000)',
                                      retiring_name('ci', '2026-12-04').replace('12-04', '12-05'),
                                      replacement_name('ci', 'k1'), 'ci', None])
    def test_lookalikes_are_ordinary_keys(self, name):
        assert reconcile.parse_retiring(name) is None


class TestDecide:
    def test_rotation_with_grace_keeps_the_old_key_until_a_date(self):
        old = key('k1', 'ci', 'ADMIN')
        decision = reconcile.decide(entry(rotate=True, retire_after_days=7), [old], NOW)
        assert (decision.action, decision.access, decision.doomed) == ('rotate', 'ADMIN', [old])
        assert decision.retire_after == '2027-01-03'

    def test_without_grace_no_date(self):
        assert reconcile.decide(entry(rotate=True), [key('k1', 'ci')], NOW).retire_after is None

    @pytest.mark.parametrize('date, action, expired', [
        ('2026-12-28', 'none', []),      # before the date: nothing
        ('2026-12-27', 'retire', ['k0']),  # on the date: deleted
        ('2026-12-01', 'retire', ['k0']),  # after it
    ])
    def test_retiring_key_deleted_on_or_after_its_date(self, date, action, expired):
        live = [key('k1', 'ci'), key('k0', retiring_name('ci', date))]
        decision = reconcile.decide(entry(), live, NOW)
        assert decision.action == action
        assert [k['id'] for k in decision.expired] == expired

    def test_expired_deleted_beside_another_change(self):
        live = [key('k1', 'ci'), key('k0', retiring_name('ci', '2026-12-01'))]
        decision = reconcile.decide(entry(access='WRITE'), live, NOW)
        assert decision.action == 'update' and [k['id'] for k in decision.expired] == ['k0']

    def test_retiring_keys_of_other_names_are_not_ours(self):
        live = [key('k1', 'ci'), key('k0', retiring_name('other', '2026-12-01'))]
        assert reconcile.decide(entry(), live, NOW).action == 'none'

    def test_absent_removes_retiring_predecessors(self):
        live = [key('k1', 'ci'), key('k0', retiring_name('ci', '2027-06-01')), key('k9', retiring_name('x', '2020-01-01'))]
        decision = reconcile.decide(entry(state='absent'), live, NOW)
        assert decision.action == 'delete' and [k['id'] for k in decision.doomed] == ['k1', 'k0']

    def test_absent_with_only_a_retiring_key(self):
        decision = reconcile.decide(entry(state='absent'), [key('k0', retiring_name('ci', '2027-06-01'))], NOW)
        assert decision.action == 'delete' and [k['id'] for k in decision.doomed] == ['k0']

    def test_finishing_an_interrupted_rotation_keeps_the_grace(self):
        live = [key('k1', 'ci'), key('k2', handed_back_name('ci', 'k1'))]
        decision = reconcile.decide(entry(retire_after_days=2), live, NOW)
        assert decision.action == 'finish_rotation' and decision.retire_after == '2026-12-29'

    def test_exclusive_spares_retiring_keys_of_declared_names(self):
        live = [key('k1', 'ci'), key('k0', retiring_name('ci', '2027-01-01')), key('k9', retiring_name('gone', '2027-01-01'))]
        deletes = reconcile.decide_exclusive('r1', live, [entry()], ())
        assert [d.current['id'] for d in deletes] == ['k9']

    @pytest.mark.parametrize('fields, default, message', [
        (dict(retire_after_days=-1), None, "entry 1 (name 'ci') has retire_after_days -1; use 0"),
        (dict(state='absent', retire_after_days=3), None, 'sets state absent with rotate, max_age_days or retire_after'),
        (dict(), -2, 'retire_after_days is -2; use 0 or more'),
    ])
    def test_bad_grace(self, fields, default, message):
        with pytest.raises(reconcile.EntryError) as exc:
            reconcile.validate_entries([dict(repo_id='r1', name='ci', **fields)], default_retire_after_days=default)
        assert message in str(exc.value)

    def test_role_wide_default_and_override(self):
        entries = reconcile.validate_entries([dict(repo_id='r1', name='a'), dict(repo_id='r1', name='b', retire_after_days=0),
                                              dict(repo_id='r1', name='c', state='absent')], default_retire_after_days=7)
        assert [e['retire_after_days'] for e in entries] == [7, 0, None]


def run(api, entries, **kwargs):
    kwargs.setdefault('now', NOW)
    kwargs.setdefault('concurrency', 1)
    return converge.converge(api, entries, **kwargs)


def names(api):
    return sorted(k['name'] for k in api.keys['r1'])


class TestExecute:
    def test_rotation_keeps_the_old_key_valid_under_its_retiring_name(self, fake_api):
        fake_api.add_key('r1', 'ci', 'WRITE')
        result = run(fake_api, [dict(repo_id='r1', name='ci', rotate=True, retire_after_days=7)])
        assert [(c[0], c[2]) for c in fake_api.writes] == [
            ('POST', dict(name=replacement_name('ci', 'k1'), accessType='WRITE')),
            ('PUT', dict(name=retiring_name('ci', '2027-01-03'), accessType='WRITE')),
            ('PUT', dict(name='ci', accessType='WRITE'))]
        assert names(fake_api) == sorted(['ci', retiring_name('ci', '2027-01-03')])
        assert [(s['id'], s['name']) for s in result['new_secrets']] == [('k2', 'ci')]
        retiring = result['key_results'][0]['retiring']
        assert (retiring['id'], retiring['retire_after']) == ('k1', '2027-01-03')
        assert retiring['name'] == retiring_name('ci', '2027-01-03')

    def test_reruns_before_the_date_change_nothing_and_the_first_after_deletes_once(self, fake_api):
        fake_api.add_key('r1', 'ci')  # created 2026-11-27: 30 days old at NOW, so due under max_age_days=20
        run(fake_api, [dict(repo_id='r1', name='ci', max_age_days=20, retire_after_days=7)])
        assert names(fake_api) == sorted(['ci', retiring_name('ci', '2027-01-03')])
        del fake_api.calls[:]
        # The fake gives every key the same createdAt, so the later runs declare a longer max age.
        declared = [dict(repo_id='r1', name='ci', max_age_days=60, retire_after_days=7)]
        for day in range(7):  # 2026-12-27 .. 2027-01-02
            result = run(fake_api, declared, now=NOW + datetime.timedelta(days=day))
            assert result['changed'] is False and fake_api.writes == []
        result = run(fake_api, declared, now=NOW + datetime.timedelta(days=7))
        assert [c[:2] for c in fake_api.writes] == [('DELETE', '/repo/r1/apikey/k1')]
        assert result['key_results'][0]['action'] == 'retire' and result['changed'] is True
        assert names(fake_api) == ['ci']

    def test_check_mode_shows_the_date_and_writes_nothing(self, fake_api):
        fake_api.add_key('r1', 'ci')
        result = run(fake_api, [dict(repo_id='r1', name='ci', rotate=True, retire_after_days=7)], check_mode=True)
        assert fake_api.writes == []
        assert result['key_results'][0]['retiring']['retire_after'] == '2027-01-03'

    @pytest.mark.parametrize('failing', ['retire-rename', 'new-rename'])
    def test_interruptions_heal_without_a_second_key(self, fake_api, failing):
        fake_api.add_key('r1', 'ci')
        declared = [dict(repo_id='r1', name='ci', rotate=True, retire_after_days=7)]
        # k2 will be the replacement: fail the rename of the old key (k1) or of the new one (k2).
        path = '/repo/r1/apikey/%s' % ('k1' if failing == 'retire-rename' else 'k2')
        fake_api.failures[('PUT', path)] = errors.ServerError('the Flashback API failed on PUT with HTTP 500', 500)
        first = run(fake_api, declared)
        assert [(s['id'], s['secret']) for s in first['new_secrets']] == [('k2', 'plain-secret-k2')]
        assert first['failures']
        del fake_api.failures[('PUT', path)]
        del fake_api.calls[:]
        second = run(fake_api, declared)
        if failing == 'retire-rename':
            # The first run recorded the hand-back on the new key: the rerun finishes it, no second key.
            assert 'POST' not in [c[0] for c in fake_api.writes]
            assert second['new_secrets'] == [] and second['failures'] == []
            assert names(fake_api) == sorted(['ci', retiring_name('ci', '2027-01-03')])
            assert [k['id'] for k in fake_api.keys['r1'] if k['name'] == 'ci'] == ['k2']
        else:
            # Every PUT of the new key failed, the hand-back's too: nothing records that its secret reached anyone,
            # so the rerun withdraws it and mints another, handed back in its result; the old key is still valid.
            assert first['failures'][0].endswith('a rerun withdraws the new key and makes another')
            assert [c[:2] for c in fake_api.writes] == [('DELETE', '/repo/r1/apikey/k2'), ('POST', '/repo/r1/apikey')]
            assert [s['id'] for s in second['new_secrets']] == ['k3'] and second['failures'] == []
            assert names(fake_api) == sorted(['ci', retiring_name('ci', '2027-01-03')])


class TestDueSoon:
    @pytest.mark.parametrize('created_at, max_age, action, due', [
        ('2026-12-20T10:00:00Z', 30, 'none', 23),     # 7 days old of 30
        ('2026-11-20T10:00:00Z', 30, 'rotate', 30),   # overdue: rotated now, so a whole period again
        ('2026-12-26T10:00:00Z', 1, 'none', 0),       # exactly one day old: due (not yet older than 1 day)
    ])
    def test_due_in_days(self, created_at, max_age, action, due):
        decision = reconcile.decide(entry(max_age_days=max_age), [key('k1', 'ci', created_at=created_at)], NOW)
        assert (decision.action, decision.due_in_days) == (action, due)

    def test_no_max_age_no_due(self):
        assert reconcile.decide(entry(), [key('k1', 'ci')], NOW).due_in_days is None

    def test_due_soon_lists_keys_within_the_window(self, fake_api):
        fake_api.add_key('r1', 'a')  # the fake creates keys at 2026-11-27T10:00:0N: 29 whole days old at NOW
        fake_api.add_key('r1', 'b')
        params = dict(apikeys=[dict(repo_id='r1', name='a', max_age_days=33), dict(repo_id='r1', name='b', max_age_days=90)],
                      exclusive=False, protected=[], max_age_days=None, concurrency=1, phase='all', delivered=[],
                      retire_after_days=None, warn_before_days=5)
        converge_now = converge.utc_now
        try:
            converge.utc_now = lambda: NOW
            result = converge.converge_set(fake_api, params, check_mode=True, diff=False)
        finally:
            converge.utc_now = converge_now
        assert [r['due_in_days'] for r in result['key_results']] == [33 - 29, 90 - 29]
        assert result['due_soon'] == ['r1/a is due for rotation in 4 days']
