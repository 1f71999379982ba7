# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The pure decision: every action of decide() under every rule, exclusive mode, entry validation."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import re

import pytest

from ansible_collections.flashback.platform.plugins.module_utils import reconcile
from ansible_collections.flashback.platform.plugins.module_utils.reconcile import replacement_name

# Keys made by key() below are created at 2026-11-27T10:00:00Z unless told: exactly 30 days before NOW.
NOW = datetime.datetime(2026, 12, 27, 10, 0, 0)
CREATED = '2026-11-27T10:00:00.000Z'


def key(key_id, name, access='READ', created_at=CREATED):
    """A live key as apikeys.list_keys returns it."""
    return dict(id=key_id, name=name, access=access, key='FBK-' + key_id, repo_id='r1', created_at=created_at)


def entry(**fields):
    """A normalised entry for repository r1, named 'ci' unless told."""
    declared = dict(repo_id='r1', name='ci')
    declared.update(fields)
    return reconcile.validate_entry(0, declared)


def ids(keys):
    return [k['id'] for k in keys]


NOT_AN_ID = 'it holds characters other than letters, digits, ".", "_", "~" and "-", or starts with "."'

# Columns: the entry's fields, the live keys, then what the Decision must say:
# action, access, id of current, ids of doomed, id of replacement, a fragment of reason (None: no reason).
DECIDE_CASES = [
    # create: an omitted access is READ, whatever other keys have
    pytest.param(dict(), [], 'create', 'READ', None, [], None, None, id='create-omitted-access-is-read'),
    pytest.param(dict(access='ADMIN'), [], 'create', 'ADMIN', None, [], None, None, id='create-explicit-access'),
    pytest.param(dict(), [key('k1', 'other', 'WRITE')], 'create', 'READ', None, [], None, None,
                 id='create-ignores-other-names'),
    pytest.param(dict(rotate=True), [], 'create', 'READ', None, [], None, None, id='create-when-rotating-nothing'),
    pytest.param(dict(max_age_days=1), [], 'create', 'READ', None, [], None, None, id='create-with-max-age'),
    pytest.param(dict(), [key('k1', 'ci (replacing k0)')], 'create', 'READ', None, [], None, None,
                 id='create-beside-a-name-that-is-no-marker'),
    # none: an omitted access keeps the current level
    pytest.param(dict(), [key('k1', 'ci')], 'none', 'READ', 'k1', [], None, None, id='none-as-declared'),
    pytest.param(dict(), [key('k1', 'ci', 'ADMIN')], 'none', 'ADMIN', 'k1', [], None, None,
                 id='none-omitted-access-keeps-admin'),
    pytest.param(dict(access='WRITE'), [key('k1', 'ci', 'WRITE')], 'none', 'WRITE', 'k1', [], None, None,
                 id='none-explicit-access-equal'),
    pytest.param(dict(key_id='k1'), [key('k1', 'ci', 'WRITE')], 'none', 'WRITE', 'k1', [], None, None,
                 id='none-by-key-id'),
    pytest.param(dict(), [key('k1', 'ci'), key('k2', replacement_name('other', 'k1'))], 'none', 'READ', 'k1', [], None, None,
                 id='none-marker-of-another-name-is-ignored'),
    pytest.param(dict(max_age_days=31), [key('k1', 'ci')], 'none', 'READ', 'k1', [], None, None,
                 id='none-max-age-younger'),
    pytest.param(dict(max_age_days=30), [key('k1', 'ci')], 'none', 'READ', 'k1', [], None, None,
                 id='none-max-age-exactly-reached-is-not-older'),
    pytest.param(dict(max_age_days=30), [key('k1', 'ci', created_at='2026-11-27T08:00:01-02:00')],
                 'none', 'READ', 'k1', [], None, None, id='none-max-age-offset-counts'),
    # update: an explicit access change, or a rename by key_id
    pytest.param(dict(access='WRITE'), [key('k1', 'ci')], 'update', 'WRITE', 'k1', [], None, None,
                 id='update-access'),
    pytest.param(dict(access='READ'), [key('k1', 'ci', 'ADMIN')], 'update', 'READ', 'k1', [], None, None,
                 id='update-access-down'),
    pytest.param(dict(name='new', key_id='k1'), [key('k1', 'old', 'WRITE')], 'update', 'WRITE', 'k1', [], None, None,
                 id='update-rename-keeps-access'),
    pytest.param(dict(name='new', key_id='k1', access='ADMIN'), [key('k1', 'old')], 'update', 'ADMIN', 'k1', [],
                 None, None, id='update-rename-and-access'),
    pytest.param(dict(key_id='k2', access='WRITE'), [key('k1', 'ci'), key('k2', 'ci')], 'update', 'WRITE', 'k2', [],
                 None, None, id='update-key-id-picks-one-of-duplicates'),
    pytest.param(dict(access='WRITE', max_age_days=31), [key('k1', 'ci')], 'update', 'WRITE', 'k1', [], None, None,
                 id='update-young-key'),
    # rotate: every run with rotate, with max_age_days only when older
    pytest.param(dict(rotate=True), [key('k1', 'ci', 'ADMIN')], 'rotate', 'ADMIN', 'k1', ['k1'], None, None,
                 id='rotate-omitted-access-keeps-level'),
    pytest.param(dict(rotate=True, access='WRITE'), [key('k1', 'ci')], 'rotate', 'WRITE', 'k1', ['k1'], None, None,
                 id='rotate-with-access-change'),
    pytest.param(dict(rotate=True, key_id='k2'), [key('k1', 'ci'), key('k2', 'ci', 'WRITE')], 'rotate', 'WRITE', 'k2',
                 ['k2'], None, None, id='rotate-by-key-id'),
    pytest.param(dict(max_age_days=29), [key('k1', 'ci', 'WRITE')], 'rotate', 'WRITE', 'k1', ['k1'], None, None,
                 id='rotate-max-age-older'),
    pytest.param(dict(max_age_days=30), [key('k1', 'ci', created_at='2026-11-27T09:59:59Z')], 'rotate', 'READ', 'k1',
                 ['k1'], None, None, id='rotate-max-age-one-second-older'),
    pytest.param(dict(max_age_days=30), [key('k1', 'ci', created_at='2026-11-27T11:59:59+02:00')], 'rotate', 'READ',
                 'k1', ['k1'], None, None, id='rotate-max-age-offset-counts'),
    # finish_rotation: before anything else; omitted access keeps the replacement's level
    pytest.param(dict(), [key('k1', 'ci'), key('k2', replacement_name('ci', 'k1'), 'WRITE')], 'finish_rotation', 'WRITE', 'k1',
                 ['k1'], 'k2', None, id='finish-with-current'),
    pytest.param(dict(), [key('k2', replacement_name('ci', 'k0'), 'ADMIN')], 'finish_rotation', 'ADMIN', None, [], 'k2', None,
                 id='finish-without-current'),
    pytest.param(dict(access='READ'), [key('k1', 'ci'), key('k2', replacement_name('ci', 'k1'), 'WRITE')], 'finish_rotation',
                 'READ', 'k1', ['k1'], 'k2', None, id='finish-with-explicit-access'),
    pytest.param(dict(rotate=True), [key('k1', 'ci'), key('k2', replacement_name('ci', 'k1'))], 'finish_rotation', 'READ',
                 'k1', ['k1'], 'k2', None, id='finish-instead-of-another-rotation'),
    pytest.param(dict(max_age_days=30), [key('k1', 'ci', created_at=None), key('k2', replacement_name('ci', 'k1'))],
                 'finish_rotation', 'READ', 'k1', ['k1'], 'k2', None, id='finish-before-judging-age'),
    pytest.param(dict(name='new', key_id='k1'), [key('k1', 'old'), key('k2', replacement_name('new', 'k1'), 'WRITE')],
                 'finish_rotation', 'WRITE', 'k1', ['k1'], 'k2', None, id='finish-by-key-id'),
    # delete: every holder of the name and every pending replacement
    pytest.param(dict(state='absent'), [key('k1', 'ci'), key('k2', 'other')], 'delete', None, 'k1', ['k1'], None,
                 None, id='delete-one'),
    pytest.param(dict(state='absent'), [key('k1', 'ci'), key('k2', 'ci')], 'delete', None, 'k1', ['k1', 'k2'], None,
                 None, id='delete-all-duplicates'),
    pytest.param(dict(state='absent'), [key('k1', 'ci'), key('k2', 'ci'), key('k3', replacement_name('ci', 'k1')),
                                        key('k4', replacement_name('ci', 'k2'))],
                 'delete', None, 'k1', ['k1', 'k2', 'k3', 'k4'], None, None, id='delete-duplicates-and-replacements'),
    pytest.param(dict(state='absent'), [key('k2', replacement_name('ci', 'k0'))], 'delete', None, None, ['k2'], None, None,
                 id='delete-lone-replacement'),
    pytest.param(dict(state='absent', key_id='k2'), [key('k1', 'ci'), key('k2', 'ci')], 'delete', None, 'k2', ['k2'],
                 None, None, id='delete-by-key-id-spares-the-other'),
    pytest.param(dict(state='absent', access='ADMIN'), [key('k1', 'ci')], 'delete', None, 'k1', ['k1'], None, None,
                 id='delete-ignores-access'),
    # none for absent keys
    pytest.param(dict(state='absent'), [], 'none', None, None, [], None, None, id='absent-nothing'),
    pytest.param(dict(state='absent'), [key('k1', 'other')], 'none', None, None, [], None, None,
                 id='absent-other-names-only'),
    pytest.param(dict(state='absent', key_id='k9'), [key('k1', 'ci')], 'none', None, None, [], None, None,
                 id='absent-unknown-key-id'),
    # refuse
    pytest.param(dict(), [key('k1', 'ci'), key('k2', 'ci')], 'refuse', None, None, [], None,
                 "2 live API keys are named 'ci' in repository r1 (ids: k1, k2): set key_id to pick one, or delete "
                 "the extra keys", id='refuse-duplicates-present'),
    pytest.param(dict(rotate=True, access='WRITE'), [key('k1', 'ci'), key('k2', 'ci'), key('k3', 'ci')],
                 'refuse', None, None, [], None, "3 live API keys are named 'ci' in repository r1 (ids: k1, k2, k3)",
                 id='refuse-duplicates-rotate'),
    pytest.param(dict(), [key('k1', 'ci'), key('k2', 'ci'), key('k3', replacement_name('ci', 'k1'))], 'refuse', None, None,
                 [], None, "2 live API keys are named 'ci'", id='refuse-duplicates-before-finishing'),
    pytest.param(dict(key_id='k9'), [key('k1', 'ci')], 'refuse', None, None, [], None,
                 'no live API key with id k9 in repository r1: omit key_id to create a key by name',
                 id='refuse-unknown-key-id'),
    pytest.param(dict(name='new', key_id='k1'), [key('k1', 'old'), key('k2', 'new')], 'refuse', None, 'k1', [], None,
                 "cannot rename API key k1 to 'new' in repository r1: live key k2 already has that name",
                 id='refuse-rename-onto-live-name'),
    pytest.param(dict(), [key('n1', replacement_name('ci', 'k8')), key('n2', replacement_name('ci', 'k9'))], 'refuse', None, None, [],
                 None, "2 unfinished rotations of API key 'ci' in repository r1 (ids: n1, n2): delete all but one",
                 id='refuse-several-pending'),
    pytest.param(dict(), [key('k8', 'ci'), key('n1', replacement_name('ci', 'k8')), key('n2', replacement_name('ci', 'k9'))], 'refuse',
                 None, 'k8', [], None, '2 unfinished rotations', id='refuse-several-pending-with-current'),
    pytest.param(dict(), [key('k1', 'ci'), key('n1', replacement_name('ci', 'k9'))], 'refuse', None, 'k1', [], None,
                 "API key k1 is named 'ci', but the unfinished rotation n1 replaces key k9: delete one of them",
                 id='refuse-mismatched-old-id'),
    pytest.param(dict(max_age_days=30), [key('k1', 'ci', created_at=None)], 'refuse', None, 'k1', [], None,
                 'cannot tell the age of API key k1: the API gave no readable createdAt (None); use rotate instead of '
                 'max_age_days', id='refuse-max-age-no-created-at'),
    pytest.param(dict(max_age_days=30), [key('k1', 'ci', created_at='last week')], 'refuse', None, 'k1', [], None,
                 "the API gave no readable createdAt ('last week')", id='refuse-max-age-unreadable-created-at'),
    pytest.param(dict(max_age_days=30), [key('k1', 'ci', created_at='2026-02-30T00:00:00Z')], 'refuse', None, 'k1', [],
                 None, "the API gave no readable createdAt ('2026-02-30T00:00:00Z')", id='refuse-max-age-impossible-date'),
    # A rotation by key_id renames too: onto a live name it is refused like an update.
    pytest.param(dict(name='b', key_id='k1', rotate=True), [key('k1', 'a'), key('k2', 'b')], 'refuse', None, 'k1', [],
                 None, "cannot rename API key k1 to 'b' in repository r1: live key k2 already has that name",
                 id='refuse-rotate-rename-onto-live-name'),
    # An unknown key_id is refused before a pending rotation of the name is looked at.
    pytest.param(dict(key_id='k9'), [key('n1', replacement_name('ci', 'k3'))], 'refuse', None, None, [], None,
                 'no live API key with id k9 in repository r1', id='refuse-unknown-key-id-beside-pending'),
]


class TestDecide:
    @pytest.mark.parametrize('fields, live, action, access, current, doomed, replacement, reason', DECIDE_CASES)
    def test_decide(self, fields, live, action, access, current, doomed, replacement, reason):
        declared = entry(**fields)
        decision = reconcile.decide(declared, live, NOW)
        assert decision.action == action
        assert (decision.repo_id, decision.name) == ('r1', declared['name'])
        assert decision.access == access
        assert (decision.current or {}).get('id') == current
        assert ids(decision.doomed) == doomed
        assert (decision.replacement or {}).get('id') == replacement
        if reason is None:
            assert decision.reason is None
        else:
            assert reason in decision.reason
        assert decision.changes is (action not in ('none', 'refuse'))

    @pytest.mark.parametrize('fields', [dict(access='WRITE'), dict(rotate=True), dict(state='absent')])
    def test_decide_does_not_change_its_inputs(self, fields):
        live = [key('k1', 'ci'), key('k2', replacement_name('ci', 'k1')), key('k3', 'other')]
        declared = entry(**fields)
        snapshot = (repr(live), repr(declared))
        reconcile.decide(declared, live, NOW)
        assert (repr(live), repr(declared)) == snapshot

    # Columns: the entry's fields, live keys, undelivered ids, then action, current, doomed, replacement.
    @pytest.mark.parametrize('fields, live, undelivered, action, current, doomed, replacement', [
        pytest.param(dict(rotate=True), [key('k1', 'ci', 'ADMIN'), key('k2', replacement_name('ci', 'k1'))], {'k2'},
                     'withdraw', 'k1', ['k2'], None, id='undelivered-replacement-goes-old-key-stays'),
        pytest.param(dict(max_age_days=1), [key('k2', replacement_name('ci', 'k1'))], {'k2'},
                     'withdraw', None, ['k2'], None, id='undelivered-replacement-without-old-key'),
        pytest.param(dict(), [key('k1', 'ci')], {'k1'}, 'withdraw', 'k1', ['k1'], None,
                     id='undelivered-new-key-goes'),
        pytest.param(dict(rotate=True), [key('k1', 'ci'), key('k2', replacement_name('ci', 'k1'))], {'k9', 'k1'},
                     'finish_rotation', 'k1', ['k1'], 'k2', id='delivered-replacement-is-finished'),
        pytest.param(dict(), [key('k1', 'ci')], {'k9'}, 'none', 'k1', [], None, id='other-ids-change-nothing'),
        pytest.param(dict(), [key('k1', 'other')], {'k1'}, 'create', None, [], None,
                     id='undelivered-key-of-another-name-is-not-this-entrys'),
        pytest.param(dict(state='absent'), [key('k1', 'ci')], {'k1'}, 'delete', 'k1', ['k1'], None,
                     id='absent-deletes-as-always'),
    ])
    def test_undelivered_keys_are_withdrawn(self, fields, live, undelivered, action, current, doomed, replacement):
        decision = reconcile.decide(entry(**fields), live, NOW, frozenset(undelivered))
        assert decision.action == action
        assert (decision.current or {}).get('id') == current
        assert ids(decision.doomed) == doomed
        assert (decision.replacement or {}).get('id') == replacement
        assert decision.retire_after is None

    def test_withdrawal_keeps_the_old_keys_level(self):
        live = [key('k1', 'ci', 'WRITE'), key('k2', replacement_name('ci', 'k1'), 'ADMIN')]
        decision = reconcile.decide(entry(rotate=True, access='ADMIN'), live, NOW, frozenset(['k2']))
        assert (decision.action, decision.access) == ('withdraw', 'WRITE')

    def test_max_age_is_measured_from_now(self):
        live = [key('k1', 'ci')]
        declared = entry(max_age_days=30)
        assert reconcile.decide(declared, live, NOW).action == 'none'
        assert reconcile.decide(declared, live, NOW + datetime.timedelta(seconds=1)).action == 'rotate'

    def test_repr(self):
        assert repr(reconcile.decide(entry(), [], NOW)) == 'Decision(create r1/ci)'


def summary(decisions):
    return [(d.action, d.repo_id, d.name, d.current['id'], ids(d.doomed)) for d in decisions]


EXCLUSIVE_LIVE = [key('k1', 'keep'), key('k2', 'guard'), key('k3', 'stray'), key('k4', replacement_name('keep', 'k1')),
                  key('k5', replacement_name('gone', 'k0')), key('k6', 'oldname'), key('k7', 'twin'), key('k8', 'twin')]


def declared(**fields):
    base = dict(repo_id='r1')
    base.update(fields)
    return reconcile.validate_entry(0, base)


class TestDecideExclusive:
    @pytest.mark.parametrize('entries, protected, deleted', [
        pytest.param([], [], ['k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8'], id='nothing-declared-deletes-all'),
        pytest.param([declared(name='keep')], [], ['k2', 'k3', 'k5', 'k6', 'k7', 'k8'],
                     id='declared-name-and-its-replacement-spared'),
        pytest.param([declared(name='keep')], ['guard', 'twin'], ['k3', 'k5', 'k6'], id='protected-names-spared'),
        pytest.param([declared(name='keep')], None, ['k2', 'k3', 'k5', 'k6', 'k7', 'k8'], id='protected-none'),
        pytest.param([declared(name='newname', key_id='k6')], [], ['k1', 'k2', 'k3', 'k4', 'k5', 'k7', 'k8'],
                     id='key-id-declared-spared-under-its-old-name'),
        pytest.param([declared(name='gone')], [], ['k1', 'k2', 'k3', 'k4', 'k6', 'k7', 'k8'],
                     id='replacement-of-declared-name-spared'),
        pytest.param([declared(name='stray', state='absent')], [], ['k1', 'k2', 'k4', 'k5', 'k6', 'k7', 'k8'],
                     id='absent-entry-deletes-it-not-exclusive'),
        pytest.param([declared(repo_id='r2', name='keep'), declared(repo_id='r2', name='stray', key_id='k6')], [],
                     ['k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8'], id='entries-of-another-repo-spare-nothing'),
        pytest.param([declared(name=n) for n in ('keep', 'guard', 'stray', 'oldname', 'twin')], [], ['k5'],
                     id='only-the-undeclared-replacement-left'),
    ])
    def test_deletes(self, entries, protected, deleted):
        decisions = reconcile.decide_exclusive('r1', EXCLUSIVE_LIVE, entries, protected)
        by_id = dict((k['id'], k) for k in EXCLUSIVE_LIVE)
        assert summary(decisions) == [('delete', 'r1', by_id[i]['name'], i, [i]) for i in deleted]

    def test_no_live_keys(self):
        assert reconcile.decide_exclusive('r1', [], [declared(name='keep')], []) == []


ALL_FIELDS = 'repo_id, repo_name, name, key_id, access, state, rotate, max_age_days, retire_after_days'


def ok(**fields):
    base = dict(repo_id='r1', name='a')
    base.update(fields)
    return base


class TestValidateEntries:
    def test_defaults(self):
        assert reconcile.validate_entries([dict(repo_id='r1', name='a')]) == [
            dict(repo_id='r1', repo_name=None, name='a', key_id=None, access=None, state='present', rotate=False,
                 max_age_days=None, retire_after_days=0)]

    def test_module_filled_nones_are_defaults(self):
        # AnsibleModule sets every unset suboption to None (or its default); None state and rotate still work.
        filled = dict((field, None) for field in reconcile.ENTRY_SPEC)
        filled.update(repo_name='backups', name='a')
        [clean] = reconcile.validate_entries([filled])
        assert (clean['repo_id'], clean['repo_name'], clean['state'], clean['rotate']) == (
            None, 'backups', 'present', False)

    def test_input_is_not_changed(self):
        raw = dict(repo_id='r1', name='a')
        reconcile.validate_entries([raw], default_max_age_days=9)
        assert raw == dict(repo_id='r1', name='a')

    @pytest.mark.parametrize('default', [None, 90])
    def test_role_wide_max_age_only_for_present_entries_without_rotate(self, default):
        entries = reconcile.validate_entries([ok(name='plain'), ok(name='forced', rotate=True),
                                              ok(name='own', max_age_days=7), ok(name='gone', state='absent'),
                                              ok(name='upd', access='WRITE')], default_max_age_days=default)
        assert [(e['name'], e['rotate'], e['max_age_days']) for e in entries] == [
            ('plain', False, default), ('forced', True, None), ('own', False, 7), ('gone', False, None),
            ('upd', False, default)]

    @pytest.mark.parametrize('entries, default, message', [
        pytest.param(['x'], None, 'entry 1 must be a dict with name and repo_id or repo_name', id='not-a-dict'),
        pytest.param([ok(), None], None, 'entry 2 must be a dict with name and repo_id or repo_name',
                     id='second-not-a-dict'),
        pytest.param([ok(colour='red', size=1)], None,
                     "entry 1 (name 'a') has unknown field(s) colour, size; use " + ALL_FIELDS, id='unknown-fields'),
        pytest.param([ok(repo_id='')], None, "entry 1 (name 'a') has an empty repo_id; give a value or leave it out",
                     id='empty-repo-id'),
        pytest.param([ok(repo_id=None, repo_name='  ')], None,
                     "entry 1 (name 'a') has an empty repo_name; give a value or leave it out", id='blank-repo-name'),
        pytest.param([ok(name='')], None, 'entry 1 has an empty name; give a value or leave it out', id='empty-name'),
        pytest.param([ok(), ok(name=' ')], None, "entry 2 (name ' ') has an empty name; give a value or leave it out",
                     id='blank-name'),
        pytest.param([ok(key_id='')], None, "entry 1 (name 'a') has an empty key_id; give a value or leave it out",
                     id='empty-key-id'),
        pytest.param([dict(repo_id='r1')], None, 'entry 1 needs a name', id='no-name'),
        pytest.param([ok(repo_id='..')], None, "entry 1 (name 'a') has repo_id '..', which cannot be an id: " + NOT_AN_ID,
                     id='dot-dot-repo'),
        pytest.param([ok(key_id='.')], None, "entry 1 (name 'a') has key_id '.', which cannot be an id: " + NOT_AN_ID,
                     id='dot-key-id'),
        pytest.param([ok(repo_id='r1/apikey')], None,
                     "entry 1 (name 'a') has repo_id 'r1/apikey', which cannot be an id: " + NOT_AN_ID, id='slash'),
        pytest.param([ok(key_id='k' * 129)], None, "entry 1 (name 'a') has key_id %r, which cannot be an id: it is "
                     'longer than 128 characters' % ('k' * 129), id='long-id'),
        pytest.param([dict(name='a')], None, "entry 1 (name 'a') needs exactly one of repo_id and repo_name",
                     id='no-repo'),
        pytest.param([ok(repo_name='b')], None, "entry 1 (name 'a') needs exactly one of repo_id and repo_name",
                     id='both-repos'),
        pytest.param([ok(access='OWNER')], None, "entry 1 (name 'a') has access 'OWNER'; use one of READ, WRITE, ADMIN",
                     id='bad-access'),
        pytest.param([ok(access='read')], None, "entry 1 (name 'a') has access 'read'; use one of READ, WRITE, ADMIN",
                     id='lowercase-access'),
        pytest.param([ok(state='gone')], None, "entry 1 (name 'a') has state 'gone'; use one of present, absent",
                     id='bad-state'),
        pytest.param([ok(rotate=True, max_age_days=3)], None,
                     "entry 1 (name 'a') sets both rotate and max_age_days: rotate replaces the key on every run, "
                     "max_age_days only when it is older; choose one", id='rotate-and-max-age'),
        pytest.param([ok(state='absent', rotate=True)], None,
                     "entry 1 (name 'a') sets state absent with rotate, max_age_days or retire_after_days; a deleted key is not rotated",
                     id='absent-and-rotate'),
        pytest.param([ok(state='absent', max_age_days=5)], None,
                     "entry 1 (name 'a') sets state absent with rotate, max_age_days or retire_after_days; a deleted key is not rotated",
                     id='absent-and-max-age'),
        pytest.param([ok(max_age_days=0)], None, "entry 1 (name 'a') has max_age_days 0; use 1 or more",
                     id='max-age-zero'),
        pytest.param([ok(max_age_days=-3)], 90, "entry 1 (name 'a') has max_age_days -3; use 1 or more",
                     id='max-age-negative'),
        pytest.param([ok()], 0, 'max_age_days is 0; use 1 or more', id='default-max-age-zero'),
        pytest.param([ok(), ok(name='b'), ok(access='WRITE')], None,
                     "entry 3 (name 'a') declares the same repository and name as entry 1; declare each key once",
                     id='duplicate-name'),
        pytest.param([ok(repo_id=None, repo_name='backups'), ok(repo_id=None, repo_name='backups', state='absent')],
                     None, "entry 2 (name 'a') declares the same repository and name as entry 1; declare each key once",
                     id='duplicate-name-by-repo-name'),
        pytest.param([ok(key_id='k1'), ok(name='b', key_id='k1')], None,
                     "entry 2 (name 'b') declares the same repository and key id as entry 1; declare each key once",
                     id='duplicate-key-id'),
    ])
    def test_bad_entries_fail_naming_the_entry(self, entries, default, message):
        with pytest.raises(reconcile.EntryError) as exc:
            reconcile.validate_entries(entries, default_max_age_days=default)
        assert str(exc.value) == message

    @pytest.mark.parametrize('entries', [
        pytest.param([ok(), ok(repo_id='r2')], id='same-name-other-repo'),
        pytest.param([ok(), ok(repo_id=None, repo_name='backups')], id='repo-id-and-repo-name-checked-after-resolving'),
        pytest.param([ok(key_id='k1'), ok(repo_id='r2', name='b', key_id='k1')], id='same-key-id-other-repo'),
        pytest.param([ok(name='a'), ok(name=replacement_name('a', 'k1'))], id='marker-name-is-another-name'),
    ])
    def test_not_duplicates(self, entries):
        assert len(reconcile.validate_entries(entries)) == 2

    def test_label_names_the_entry(self):
        with pytest.raises(reconcile.EntryError) as exc:
            reconcile.validate_entries([ok(access='x')], label=lambda index, item: 'API key %r' % item['name'])
        assert str(exc.value).startswith("API key 'a' has access 'x'")

    def test_refuse_duplicates_after_resolution(self):
        resolved = reconcile.validate_entries([ok(), ok(repo_id=None, repo_name='backups')])
        resolved[1]['repo_id'] = 'r1'
        with pytest.raises(reconcile.EntryError) as exc:
            reconcile.refuse_duplicates(resolved)
        assert str(exc.value) == ("entry 2 (name 'a') declares the same repository and name as entry 1; "
                                  "declare each key once")

    @pytest.mark.parametrize('index, item, expected', [
        (0, dict(name='a'), "entry 1 (name 'a')"),
        (4, dict(name=''), 'entry 5'),
        (1, 'x', 'entry 2'),
        (2, dict(repo_id='r1'), 'entry 3'),
    ])
    def test_describe(self, index, item, expected):
        assert reconcile.describe(index, item) == expected


class TestCreatedAt:
    @pytest.mark.parametrize('value, expected', [
        ('2026-11-27T10:00:00.123Z', datetime.datetime(2026, 11, 27, 10, 0, 0)),
        ('2026-11-27T10:00:00.123456Z', datetime.datetime(2026, 11, 27, 10, 0, 0)),
        ('2026-11-27T10:00:00Z', datetime.datetime(2026, 11, 27, 10, 0, 0)),
        ('2026-11-27T10:00:00', datetime.datetime(2026, 11, 27, 10, 0, 0)),
        ('2026-11-27T10:00:00+00:00', datetime.datetime(2026, 11, 27, 10, 0, 0)),
        ('2026-11-27T12:30:00+02:30', datetime.datetime(2026, 11, 27, 10, 0, 0)),
        ('2026-11-27T08:00:00-0200', datetime.datetime(2026, 11, 27, 10, 0, 0)),
        ('2026-11-27T01:00:00+0200', datetime.datetime(2026, 11, 26, 23, 0, 0)),
        ('2026-12-31T23:30:00-01:00', datetime.datetime(2027, 1, 1, 0, 30, 0)),
        ('yesterday', None), (None, None), ('', None), ('2026-11-27 10:00:00Z', None), ('2026-11-27T10:00Z', None),
        ('2026-11-27T10:00:00ZZ', None), ('2026-11-27', None), (' 2026-11-27T10:00:00Z', None),
    ])
    def test_parse(self, value, expected):
        assert reconcile.parse_created_at(value) == expected


class TestMarker:
    @pytest.mark.parametrize('value, expected', [
        (replacement_name('ci', 'k1'), ('ci', 'k1')),
        (replacement_name('my key', '5d0f-4c8e'), ('my key', '5d0f-4c8e')),
        (replacement_name(replacement_name('a', 'k1'), 'k2'), (replacement_name('a', 'k1'), 'k2')),
        # What a user may call a key: looks like a marker, but has no check or a wrong one.
        ('ci (replacing k1)', None),
        ('ci (replacing k1 #00000000)', None),
        (replacement_name('ci', 'k1').replace('ci', 'cj', 1), None),
        (replacement_name('ci', 'k1').replace('k1', 'k2'), None),
        ('ci (replacing)', None),
        (replacement_name('ci', 'k1') + ' ', None),
        ('ci', None), ('', None), (None, None),
    ])
    def test_parse_marker(self, value, expected):
        assert reconcile.parse_marker(value) == expected

    def test_marker_format_is_pinned(self):
        # Interrupted rotations are recognised across versions by this exact shape.
        assert re.match(r'^ci \(replacing k1 #[0-9a-f]{8}\)$', replacement_name('ci', 'k1'))
        assert replacement_name('ci', 'k1') != replacement_name('ci', 'k2')

    def test_round_trip(self):
        assert reconcile.replacement_name('ci', 'k1') == replacement_name('ci', 'k1')
        assert reconcile.parse_marker(reconcile.replacement_name('a b', 'x-1')) == ('a b', 'x-1')

    def test_pending_replacements(self):
        live = [key('n1', reconcile.replacement_name('ci', 'k1')), key('n2', 'ci (replacing)'),
                key('n3', reconcile.replacement_name('other', 'k1')), key('k1', 'ci'),
                key('n4', reconcile.replacement_name('ci', 'k0'))]
        assert reconcile.pending_replacements(live, 'ci') == [(live[0], 'k1'), (live[4], 'k0')]
        assert reconcile.pending_replacements(live, 'nothing') == []
