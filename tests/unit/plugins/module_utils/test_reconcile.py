# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The pure decision: every action of decide() under every rule, exclusive mode, entry validation."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import re

import pytest

from ansible_collections.flashback.platform.plugins.module_utils import _reconcile as reconcile
from ansible_collections.flashback.platform.plugins.module_utils._reconcile import (
    handed_back_name,
    replacement_name,
    staged_name,
)

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
    # finish_rotation of a handed-back replacement: before anything else; omitted access keeps the replacement's level
    pytest.param(dict(), [key('k1', 'ci'), key('k2', handed_back_name('ci', 'k1'), 'WRITE')], 'finish_rotation', 'WRITE', 'k1',
                 ['k1'], 'k2', None, id='finish-with-current'),
    pytest.param(dict(), [key('k2', handed_back_name('ci', 'k0'), 'ADMIN')], 'finish_rotation', 'ADMIN', None, [], 'k2', None,
                 id='finish-without-current'),
    pytest.param(dict(access='READ'), [key('k1', 'ci'), key('k2', handed_back_name('ci', 'k1'), 'WRITE')], 'finish_rotation',
                 'READ', 'k1', ['k1'], 'k2', None, id='finish-with-explicit-access'),
    pytest.param(dict(rotate=True), [key('k1', 'ci'), key('k2', handed_back_name('ci', 'k1'))], 'finish_rotation', 'READ',
                 'k1', ['k1'], 'k2', None, id='finish-instead-of-another-rotation'),
    pytest.param(dict(max_age_days=30), [key('k1', 'ci', created_at=None), key('k2', handed_back_name('ci', 'k1'))],
                 'finish_rotation', 'READ', 'k1', ['k1'], 'k2', None, id='finish-before-judging-age'),
    pytest.param(dict(name='new', key_id='k1'), [key('k1', 'old'), key('k2', handed_back_name('new', 'k1'), 'WRITE')],
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
    pytest.param(dict(), [key('k1', 'ci'), key('n1', handed_back_name('ci', 'k9'))], 'refuse', None, 'k1', [], None,
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
    pytest.param(dict(key_id='k9'), [key('n1', handed_back_name('ci', 'k3'))], 'refuse', None, None, [], None,
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

    def test_max_age_is_measured_from_now(self):
        live = [key('k1', 'ci')]
        declared = entry(max_age_days=30)
        assert reconcile.decide(declared, live, NOW).action == 'none'
        assert reconcile.decide(declared, live, NOW + datetime.timedelta(seconds=1)).action == 'rotate'

    def test_repr(self):
        assert repr(reconcile.decide(entry(), [], NOW)) == 'Decision(create r1/ci)'


K1 = key('k1', 'ci', 'WRITE')
REPLACING = key('k2', replacement_name('ci', 'k1'), 'ADMIN')  # staged by a run that handed nothing back
HANDED_BACK = key('k2', handed_back_name('ci', 'k1'), 'ADMIN')  # its minting run returned the secret
STAGED = key('k2', staged_name('ci'))  # a new key staged for a delivery
# Columns: phase, the entry's fields, live keys, ids confirmed delivered, then what the Decision must say: action,
# ids withdrawn first, id of current, ids of doomed, id of replacement, the name a mint creates under, pending.
RULE_CASES = [
    # Phase all, nothing pending: the run that mints finishes in the result that hands the secret back (a).
    pytest.param('all', dict(rotate=True), [K1], (), 'rotate', [], 'k1', ['k1'], None, replacement_name('ci', 'k1'),
                 None, id='all-rotates-in-one-run'),
    pytest.param('all', dict(), [], (), 'create', [], None, [], None, 'ci', None, id='all-creates-under-the-name'),
    # Stage only mints, under the markers; the old key is not touched.
    pytest.param('stage', dict(rotate=True), [K1], (), 'stage_rotation', [], 'k1', [], None,
                 replacement_name('ci', 'k1'), None, id='stage-mints-a-replacement-beside-the-old-key'),
    pytest.param('stage', dict(), [], (), 'stage_create', [], None, [], None, staged_name('ci'), None,
                 id='stage-mints-a-new-key-under-the-staged-name'),
    pytest.param('stage', dict(access='ADMIN'), [K1], (), 'none', [], 'k1', [], None, None, 'update',
                 id='stage-leaves-updates-to-the-commit'),
    pytest.param('stage', dict(state='absent'), [K1], (), 'none', [], 'k1', [], None, None, 'delete',
                 id='stage-leaves-deletes-to-the-commit'),
    # Commit never mints.
    pytest.param('commit', dict(rotate=True), [K1], (), 'none', [], 'k1', [], None, None, 'rotate',
                 id='commit-does-not-rotate'),
    pytest.param('commit', dict(), [], (), 'none', [], None, [], None, None, 'create', id='commit-does-not-create'),
    pytest.param('commit', dict(access='ADMIN'), [K1], (), 'update', [], 'k1', [], None, None, None,
                 id='commit-updates'),
    # (c) a commit that names the new key delivered finishes it.
    pytest.param('commit', dict(rotate=True), [K1, REPLACING], {'k2'}, 'finish_rotation', [], 'k1', ['k1'], 'k2',
                 None, None, id='commit-finishes-a-delivered-replacement'),
    pytest.param('commit', dict(), [STAGED], {'k2'}, 'finish_create', [], None, [], 'k2', None, None,
                 id='commit-names-a-delivered-staged-key'),
    pytest.param('all', dict(), [STAGED], {'k2'}, 'finish_create', [], None, [], 'k2', None, None,
                 id='all-with-delivered-names-a-staged-key'),
    # Nothing confirms the secret: the commit withdraws the new key, the old key stays.
    pytest.param('commit', dict(rotate=True), [K1, REPLACING], (), 'withdraw', ['k2'], 'k1', [], None, None, None,
                 id='commit-withdraws-an-undelivered-replacement'),
    pytest.param('commit', dict(), [STAGED], (), 'withdraw', ['k2'], None, [], None, None, None,
                 id='commit-withdraws-an-undelivered-staged-key'),
    pytest.param('commit', dict(rotate=True), [K1, REPLACING], {'k9'}, 'withdraw', ['k2'], 'k1', [], None, None, None,
                 id='commit-other-ids-confirm-nothing'),
    # ... and a stage or a run of all withdraws it and mints another (an interrupted delivery, a hook that did not
    # load, a killed play): the outage, where a rerun finished onto a secret nobody held.
    pytest.param('all', dict(rotate=True), [K1, REPLACING], (), 'rotate', ['k2'], 'k1', ['k1'], None,
                 replacement_name('ci', 'k1'), None, id='all-withdraws-and-rotates-again'),
    pytest.param('stage', dict(rotate=True), [K1, REPLACING], (), 'stage_rotation', ['k2'], 'k1', [], None,
                 replacement_name('ci', 'k1'), None, id='stage-withdraws-and-stages-again'),
    pytest.param('stage', dict(), [STAGED], (), 'stage_create', ['k2'], None, [], None, staged_name('ci'), None,
                 id='stage-withdraws-a-staged-key-and-stages-again'),
    pytest.param('all', dict(), [STAGED], (), 'create', ['k2'], None, [], None, 'ci', None,
                 id='all-withdraws-a-staged-key-and-creates'),
    pytest.param('all', dict(), [K1, REPLACING], (), 'withdraw', ['k2'], 'k1', [], None, None, None,
                 id='all-withdraws-when-no-rotation-is-due'),
    pytest.param('all', dict(access='ADMIN'), [K1, REPLACING], (), 'update', ['k2'], 'k1', [], None, None, None,
                 id='all-withdraws-then-updates'),
    pytest.param('all', dict(), [REPLACING], (), 'create', ['k2'], None, [], None, 'ci', None,
                 id='all-withdraws-a-replacement-whose-old-key-is-gone-and-creates'),
    # (b) the minting run handed the secret back and recorded it on the key: any later run but a stage finishes it.
    pytest.param('all', dict(), [K1, HANDED_BACK], (), 'finish_rotation', [], 'k1', ['k1'], 'k2', None, None,
                 id='all-finishes-a-handed-back-replacement'),
    pytest.param('all', dict(rotate=True), [K1, HANDED_BACK], (), 'finish_rotation', [], 'k1', ['k1'], 'k2', None, None,
                 id='all-finishes-a-handed-back-replacement-before-rotating'),
    pytest.param('all', dict(), [HANDED_BACK], (), 'finish_rotation', [], None, [], 'k2', None, None,
                 id='all-finishes-a-handed-back-replacement-whose-old-key-is-gone'),
    pytest.param('commit', dict(), [K1, HANDED_BACK], (), 'finish_rotation', [], 'k1', ['k1'], 'k2', None, None,
                 id='commit-finishes-a-handed-back-replacement'),
    pytest.param('stage', dict(rotate=True), [K1, HANDED_BACK], (), 'none', [], 'k1', [], None, None,
                 'finish_rotation', id='stage-leaves-a-handed-back-replacement-to-the-commit'),
    # Markers of other names, and names that only look like markers, are not this entry's.
    pytest.param('commit', dict(), [K1, key('k2', replacement_name('other', 'k1'))], {'k2'}, 'none', [], 'k1', [],
                 None, None, None, id='commit-a-delivered-key-of-another-name-is-not-this-entrys'),
    pytest.param('all', dict(), [key('k2', 'ci (staged #00000000)')], (), 'create', [], None, [], None, 'ci', None,
                 id='a-name-like-a-staged-marker-is-an-ordinary-key'),
    pytest.param('all', dict(state='absent'), [K1, STAGED], (), 'delete', [], 'k1', ['k1', 'k2'], None, None, None,
                 id='absent-deletes-the-staged-key-too'),
]


class TestDeliveryRule:
    """A new key is finished only when its secret is known to have reached someone."""

    @pytest.mark.parametrize('phase, fields, live, delivered, action, withdrawn, current, doomed, replacement, '
                             'mint_as, pending', RULE_CASES)
    def test_rule(self, phase, fields, live, delivered, action, withdrawn, current, doomed, replacement, mint_as,
                  pending):
        decision = reconcile.decide(entry(**fields), live, NOW, phase, frozenset(delivered))
        assert decision.action == action
        assert ids(decision.withdrawn) == withdrawn
        assert (decision.current or {}).get('id') == current
        assert ids(decision.doomed) == doomed
        assert (decision.replacement or {}).get('id') == replacement
        assert decision.mint_as == mint_as
        assert decision.pending == pending

    @pytest.mark.parametrize('phase', reconcile.PHASES)
    @pytest.mark.parametrize('pending_key', [REPLACING, STAGED], ids=['replacing', 'staged'])
    def test_never_finishes_an_unconfirmed_new_key(self, phase, pending_key):
        for fields in (dict(), dict(rotate=True), dict(access='READ'), dict(max_age_days=1)):
            live = [K1, pending_key] if pending_key is REPLACING else [pending_key]
            decision = reconcile.decide(entry(**fields), live, NOW, phase)
            assert decision.action not in ('finish_rotation', 'finish_create')
            assert ids(decision.withdrawn) == ['k2']
            assert decision.replacement is None

    def test_a_rotation_that_cannot_finish_hands_back_under_the_handed_back_name(self):
        assert reconcile.decide(entry(rotate=True), [K1], NOW).hand_back_as == handed_back_name('ci', 'k1')
        assert reconcile.decide(entry(rotate=True), [K1], NOW, 'stage').hand_back_as is None
        finishing = reconcile.decide(entry(), [K1, REPLACING], NOW, 'commit', frozenset(['k2']))
        assert finishing.hand_back_as == handed_back_name('ci', 'k1')
        assert reconcile.decide(entry(), [STAGED], NOW, 'commit', frozenset(['k2'])).hand_back_as is None

    def test_withdrawal_keeps_the_old_keys_level(self):
        decision = reconcile.decide(entry(rotate=True, access='ADMIN'), [K1, REPLACING], NOW, 'commit')
        assert (decision.action, decision.access) == ('withdraw', 'WRITE')

    def test_finishing_keeps_the_new_keys_level_unless_declared(self):
        assert reconcile.decide(entry(), [K1, HANDED_BACK], NOW).access == 'ADMIN'
        assert reconcile.decide(entry(access='READ'), [K1, HANDED_BACK], NOW).access == 'READ'

    def test_a_delivered_staged_key_beside_a_live_key_of_the_name_is_refused(self):
        decision = reconcile.decide(entry(), [K1, STAGED], NOW, 'commit', frozenset(['k2']))
        assert decision.action == 'refuse'
        assert decision.reason == ("API key k1 is named 'ci', but the unfinished creation k2 is a new key: delete one "
                                   "of them")

    def test_stage_deletes_no_expired_retiring_key(self):
        live = [K1, key('k0', reconcile.retiring_name('ci', '2026-12-01'))]
        assert reconcile.decide(entry(), live, NOW, 'stage').expired == []
        assert ids(reconcile.decide(entry(), live, NOW, 'commit').expired) == ['k0']

    def test_stage_deletes_nothing_in_exclusive_mode(self):
        live = [K1, key('k3', 'stray')]
        assert reconcile.decide_exclusive('r1', live, [entry()], [], 'stage') == []
        assert ids(reconcile.decide_exclusive('r1', live, [entry()], [], 'commit')[0].doomed) == ['k3']

    def test_exclusive_spares_every_marker_of_a_declared_name(self):
        live = [K1, key('k2', staged_name('ci')), key('k4', handed_back_name('ci', 'k1')),
                key('k5', staged_name('gone'))]
        assert [d.current['id'] for d in reconcile.decide_exclusive('r1', live, [entry()], [])] == ['k5']


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
