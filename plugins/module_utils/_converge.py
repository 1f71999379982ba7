# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Flashback platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Carry out the decisions of :mod:`reconcile` for a declared set of keys, at HTTP speed.

One ``GET /repo`` when any entry names its repository, one listing per repository, then exactly
the writes the decisions need: one POST per create, one PUT per update, one DELETE per key deleted,
POST + DELETE + PUT per rotation (create-before-delete under a marker name of :mod:`_names`, so a rerun
can tell what an interrupted run left), and one listing per repository after its creates that checks every
create answer's id before any rotation retires its old key. ``phase`` splits a run around a delivery step; what
each phase does is :func:`reconcile.decide`'s; the executor runs each action's fixed steps (``Converger.STEPS``).
Repositories are listed and worked on concurrently by a bounded pool of threads sharing one client
(one connection pool, one 429 backoff); the keys of one repository are worked on in order. Nothing is written when any entry is refused or any listing fails.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.flashback.platform.plugins.module_utils import _apikeys as apikeys, _reconcile as reconcile
from ansible_collections.flashback.platform.plugins.module_utils._errors import (
    ConfigurationError,
    FlashbackError,
    ResourceError,
)

DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 16


def utc_now():
    # Naive UTC, like reconcile.parse_created_at.
    return datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=time.time())


def replaced_view(old):
    return dict(id=old['id'], key=old['key'], created_at=old['created_at'])


def _resolve_repos(client, entries, label):
    """Fill in repo_id from repo_name with at most one ``GET /repo``; returns ``{id: name}`` of the repos seen."""
    if not any(entry['repo_name'] for entry in entries):
        return {}
    repos = apikeys.list_repos(client)
    by_name = {}
    for repo in repos:
        by_name.setdefault(repo['name'], []).append(repo['id'])
    for index, entry in enumerate(entries):
        if entry['repo_name']:
            ids = by_name.get(entry['repo_name'], [])
            if len(ids) != 1:
                reason = ('repository named %r not found or not visible to this token' % entry['repo_name'] if not ids
                          else '%d repositories are named %r (ids: %s): set repo_id instead of repo_name'
                          % (len(ids), entry['repo_name'], ', '.join(sorted(ids))))
                # One key: the reason is the whole story; several: say which entry.
                raise ResourceError(reason if len(entries) == 1 else '%s: %s' % (label(index, entry), reason))
            entry['repo_id'] = ids[0]
    return dict((repo['id'], repo['name']) for repo in repos)


def _pool_map(func, items, concurrency):
    """``[func(item) for item in items]`` on at most ``concurrency`` threads, in order."""
    if concurrency <= 1 or len(items) <= 1:
        return [func(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(concurrency, len(items))) as pool:
        return list(pool.map(func, items))


class Outcome(object):
    """What carrying out one decision did; filled step by step, so a failure keeps what was done."""

    __slots__ = ('decision', 'after', 'secret', 'replaced', 'changed', 'wrote', 'error', 'withdrawn')
    # replaced: the old key a rotation replaced ({id, key, created_at}, plus name and retire_after when it
    # is kept valid under its retiring name for a grace period); withdrawn: ids of the keys withdrawn (deleted)

    def __init__(self, decision):
        self.decision = decision
        self.after = decision.current
        self.secret = None
        self.replaced = None
        self.changed = False  # a write was made (or, in check mode, would be)
        self.wrote = False  # a write was sent
        self.error = None
        self.withdrawn = []


class Converger(object):
    """Carry out decisions on one repository's keys through :class:`apikeys.ApiKeys` (which honours check mode).

    Each action is a fixed list of steps (``STEPS``); every decision first withdraws its ``withdrawn`` keys and
    last deletes its ``expired`` ones. What the steps write (names, access) is in the decision: nothing here
    decides.
    """

    STEPS = {
        reconcile.NONE: (),
        reconcile.RETIRE: (),
        reconcile.WITHDRAW: (),
        reconcile.CREATE: ('mint',),
        reconcile.STAGE_CREATE: ('mint',),
        reconcile.STAGE_ROTATION: ('mint',),
        reconcile.ROTATE: ('mint', 'defer_take_over'),  # taken over in verify(), once its create checked out
        reconcile.FINISH_ROTATION: ('take_over',),
        reconcile.FINISH_CREATE: ('take_over',),
        reconcile.UPDATE: ('update',),
        reconcile.DELETE: ('delete',),
    }

    def __init__(self, client, repo_id, live, check_mode):
        self.api = apikeys.ApiKeys(client, repo_id, check_mode=check_mode)
        # Ids an ambiguous create must not take for its orphan: the listed keys and the ones made here.
        self.known_ids = set(key['id'] for key in live)
        # Outcomes of creates whose answer is checked against one listing once the repository's work is done, and
        # the rotations whose take-over (retire the old key, rename the replacement) waits for that check.
        self.unverified = []
        self.takeovers = []
        self.check_mode = check_mode

    def apply(self, decision):
        outcome = Outcome(decision)
        try:
            self._withdraw(decision, outcome)
            for step in self.STEPS[decision.action]:
                getattr(self, '_' + step)(decision, outcome)
            for key in decision.expired:  # retiring keys whose date has come: one DELETE each
                self.api.delete(key)
                self._mark_written(outcome)
        except FlashbackError as exc:
            outcome.error = exc.message
        return outcome

    def _mark_written(self, outcome):
        outcome.changed = True
        outcome.wrote = not self.check_mode

    def _withdraw(self, decision, outcome):
        for key in decision.withdrawn:
            try:
                self.api.delete(key)
            except FlashbackError as exc:
                raise FlashbackError(
                    'withdrawing API key %s (%r in repository %s, a new key whose secret is not known to have been '
                    'delivered) failed (%s): it is still live and nothing else was done for this key; rerun, or '
                    'delete it (state=absent, key_id=%s)' % (key['id'], decision.name, decision.repo_id,
                                                             exc.message, key['id']))
            self._mark_written(outcome)
            outcome.withdrawn.append(key['id'])

    def _mint(self, decision, outcome):
        outcome.after, outcome.secret = self.api.create(decision.mint_as, decision.access, known_ids=self.known_ids)
        self._mark_written(outcome)
        if outcome.after['id']:
            self.known_ids.add(outcome.after['id'])
        self.unverified.append(outcome)

    def _defer_take_over(self, decision, outcome):
        outcome.replaced = replaced_view(decision.current)
        self.takeovers.append((decision, outcome))

    def verify(self):
        """One listing checks every create of this repository: a 2xx answer whose id is not a live key of that name
        is not trusted (its key is deleted, its secret dropped). Then the rotations whose replacement checked out
        retire their old keys; an untrusted replacement must not cost the key that works."""
        outcomes, self.unverified = [o for o in self.unverified if o.after and o.after['id']], []
        takeovers, self.takeovers = self.takeovers, []
        try:
            dropped = self._check_created(outcomes)
        except FlashbackError as exc:
            for decision, outcome in takeovers:
                self._hand_back(decision, outcome.after)  # the secret is in this result: a rerun may finish it
            for outcome in outcomes:
                if outcome.error is None:
                    outcome.error = FlashbackError(
                        'created API key %s but listing the keys to check it failed (%s): the secret is in this '
                        'result; rerun to check (and to finish a rotation)' % (outcome.after['id'], exc.message)).message
            return
        for decision, outcome in takeovers:
            if outcome in dropped:
                outcome.after, outcome.replaced = decision.current, None
                continue
            try:
                self._take_over(decision, outcome)
            except FlashbackError as exc:
                outcome.error = exc.message  # the other decisions of the repository go on

    def _check_created(self, outcomes):
        """Drop the outcomes whose created key the listing does not show; raises when the listing fails."""
        if self.check_mode or not outcomes:
            return []
        bad = self.api.verify_created([outcome.after for outcome in outcomes], self.known_ids)
        dropped = []
        for outcome in outcomes:
            if outcome.after['id'] in bad:
                outcome.error = FlashbackError(
                    'the API answered the create of %r with id %s, which the listing does not show under that name: '
                    'the key it made (if any) was deleted and its secret dropped; rerun'
                    % (outcome.decision.name, outcome.after['id'])).message
                self.known_ids.discard(outcome.after['id'])
                outcome.secret = None
                outcome.after = None
                dropped.append(outcome)
        return dropped

    def _update(self, decision, outcome):
        outcome.after = self.api.update(decision.current, decision.name, decision.access)
        self._mark_written(outcome)

    def _delete(self, decision, outcome):
        for key in decision.doomed:
            self.api.delete(key)
            self._mark_written(outcome)
        outcome.after = None

    def _take_over(self, decision, outcome):
        """Retire the old key (delete it, or rename it for its grace period), then give the new key the name.

        When that fails after the new key's secret was handed back (minted in this run) or delivered, the new key
        takes its handed-back name first, so that a rerun finishes it instead of minting another.
        """
        old = decision.current
        new = outcome.after if decision.action == reconcile.ROTATE else decision.replacement
        if old is not None:
            outcome.replaced = replaced_view(old)
        try:
            if old is not None and decision.retire_after:
                kept = self.api.update(old, reconcile.retiring_name(decision.name, decision.retire_after),
                                       old['access'])
                outcome.replaced = dict(replaced_view(old), name=kept['name'], retire_after=decision.retire_after)
                self._mark_written(outcome)
            elif old is not None:
                self.api.delete(old)
                self._mark_written(outcome)
            outcome.after = self.api.update(new, decision.name, decision.access)
            self._mark_written(outcome)
        except FlashbackError as exc:
            outcome.after = new
            minted = decision.action == reconcile.ROTATE
            if self._hand_back(decision, new):
                todo = 'store the secret now, then rerun to finish the rotation' if minted else 'rerun to finish it'
            else:
                todo = 'a rerun withdraws the new key and makes another'
            old_id = old['id'] if old else '(none left)'
            raise FlashbackError(
                ('rotating API key %r in repository %s: the new key %s exists and its secret is in this result, but '
                 'retiring the old key %s and giving the new key the name did not finish (%s): %s'
                 % (decision.name, decision.repo_id, new['id'], old_id, exc.message, todo)) if minted else
                ('finishing API key %r in repository %s: the new key %s was delivered, but retiring the old key %s and '
                 'giving the new key the name did not finish (%s): %s'
                 % (decision.name, decision.repo_id, new['id'], old_id, exc.message, todo)))

    def _hand_back(self, decision, new):
        """Give ``new`` its handed-back name, so that a rerun finishes it; True when it has that name."""
        if not decision.hand_back_as:
            return False
        if new['name'] == decision.hand_back_as:
            return True
        try:
            self.api.update(new, decision.hand_back_as, new['access'])
        except FlashbackError:
            return False
        return True


def _work(job):
    converger, decisions = job
    outcomes = [converger.apply(decision) for decision in decisions]
    converger.verify()
    return outcomes


def _change(outcome):
    decision = outcome.decision
    return dict(action=decision.action, repo_id=decision.repo_id, name=decision.name,
                access=(decision.current or {}).get('access') if decision.action == reconcile.DELETE
                else decision.access,
                state='absent' if decision.action == reconcile.DELETE else 'present',
                key_id=decision.current['id'] if decision.current else None, before=decision.current or {})


def _result(outcome, state):
    decision = outcome.decision
    # A deleted key is reported as the key that was deleted (exclusive mode's report names what it removed).
    after = (decision.current if decision.action == reconcile.DELETE else outcome.after) or {}
    result = dict(repo_id=decision.repo_id, name=decision.name, action=decision.action, state=state,
                  id=after.get('id'), key=after.get('key'), access=after.get('access'), changed=outcome.changed)
    if decision.pending:
        result['pending'] = decision.pending
    if outcome.withdrawn:
        result['withdrawn'] = list(outcome.withdrawn)
    if outcome.replaced and outcome.replaced.get('retire_after'):
        result['retiring'] = outcome.replaced
    if decision.due_in_days is not None:
        result['due_in_days'] = decision.due_in_days
    if outcome.error:
        result.update(failed=True, msg=outcome.error)
    return result


def _diff(outcome):
    decision = outcome.decision
    label = '%s/%s' % (decision.repo_id, decision.name)
    return dict(before=decision.current or {}, after=outcome.after or {},
                before_header=label, after_header=label)


def converge(client, entries, check_mode=False, exclusive=False, protected=(), max_age_days=None,
             concurrency=DEFAULT_CONCURRENCY, now=None, label=reconcile.describe, retire_after_days=None,
             phase=reconcile.ALL, delivered=()):
    """Converge ``entries``; returns ``dict(changed, changes, key_results, new_secrets, new_keys, failures, outcomes)``.

    ``outcomes`` (one :class:`Outcome` per entry, then per exclusive delete) is for the calling module;
    the rest is the documented return. Raises before any write for bad entries, unknown repositories,
    failed listings and refused decisions.
    """
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise ConfigurationError('concurrency is %r; use 1 to %d' % (concurrency, MAX_CONCURRENCY))
    if phase not in reconcile.PHASES:
        raise ConfigurationError('phase is %r; use one of %s' % (phase, ', '.join(reconcile.PHASES)))
    if delivered and phase == reconcile.STAGE:
        raise ConfigurationError('delivered is for phase commit (or all): a stage delivers nothing yet; leave it out')
    try:
        entries = reconcile.validate_entries(entries, max_age_days, label, retire_after_days)
    except reconcile.EntryError as exc:
        raise ConfigurationError(str(exc))
    repo_names = _resolve_repos(client, entries, label)
    try:
        reconcile.refuse_duplicates(entries)  # a repo_name and a repo_id entry may name the same key
    except reconcile.EntryError as exc:
        raise ConfigurationError(str(exc))

    repo_ids = []
    for entry in entries:
        if entry['repo_id'] not in repo_ids:
            repo_ids.append(entry['repo_id'])
    live = dict(zip(repo_ids, _pool_map(lambda repo_id: apikeys.list_keys(client, repo_id), repo_ids, concurrency)))

    now = now or utc_now()
    confirmed = dict((repo_id, frozenset(key['id'] for key in delivered or () if key['repo_id'] == repo_id))
                     for repo_id in repo_ids)
    decisions = [reconcile.decide(entry, live[entry['repo_id']], now, phase, confirmed[entry['repo_id']])
                 for entry in entries]
    refused = [(index, entry, decision) for index, (entry, decision) in enumerate(zip(entries, decisions))
               if decision.action == reconcile.REFUSE]
    if refused and len(entries) == 1:
        raise ResourceError(refused[0][2].reason)  # one key: the reason is the whole story
    if refused:
        raise ResourceError('%s; nothing was changed' % '; '.join(
            '%s: %s' % (label(index, entry), decision.reason) for index, entry, decision in refused))
    if exclusive:
        for repo_id in repo_ids:
            decisions.extend(reconcile.decide_exclusive(repo_id, live[repo_id], entries, protected, phase))

    by_repo = dict((repo_id, []) for repo_id in repo_ids)
    for decision in decisions:
        by_repo[decision.repo_id].append(decision)
    jobs = [(Converger(client, repo_id, live[repo_id], check_mode), by_repo[repo_id]) for repo_id in repo_ids]
    done = dict((id(outcome.decision), outcome) for outcomes in _pool_map(_work, jobs, concurrency)
                for outcome in outcomes)
    outcomes = [done[id(decision)] for decision in decisions]
    return report(outcomes, entries, repo_names, label)


def report(outcomes, entries, repo_names, label):
    states = [entry['state'] for entry in entries] + ['absent'] * (len(outcomes) - len(entries))
    # Not "results": ansible-core 2.19 takes a module's results key for loop results and prints it when the task
    # fails, no_log or not.
    key_results = [_result(outcome, state) for outcome, state in zip(outcomes, states)]
    new_secrets = [dict(repo_id=outcome.decision.repo_id, repo_name=repo_names.get(outcome.decision.repo_id),
                        name=outcome.decision.name, id=outcome.after['id'], key=outcome.after.get('key'),
                        access=outcome.after['access'], secret=outcome.secret)
                   for outcome in outcomes if outcome.secret]
    failures = ['%s: %s' % (label(index, entries[index]) if index < len(entries)
                            else 'undeclared key %s/%s' % (outcome.decision.repo_id, outcome.decision.name),
                            outcome.error)
                for index, outcome in enumerate(outcomes) if outcome.error]
    return dict(
        changed=any(result['changed'] for result in key_results),
        changes=[_change(outcome) for outcome in outcomes if outcome.changed or outcome.error],
        key_results=key_results,
        new_secrets=new_secrets,
        # Also in check mode (ids null there): the keys a run mints, for a caller to plan their delivery.
        new_keys=[dict(repo_id=outcome.decision.repo_id, id=outcome.after['id'], name=outcome.decision.name)
                  for outcome in outcomes if outcome.secret or (outcome.changed and not outcome.wrote and
                                                                outcome.decision.action in reconcile.MINTS)],
        failures=failures,
        diff=[_diff(outcome) for outcome in outcomes if outcome.changed],
        outcomes=outcomes,
    )


def converge_set(client, params, check_mode, diff, warn=None):
    """The declared-set modules' run: their options in, their documented return out (diff only in diff mode).

    ``warn``: the module's warn, given each line of ``due_soon``.
    """
    result = converge(client, params['apikeys'], check_mode=check_mode, exclusive=params['exclusive'],
                      protected=params['protected'], max_age_days=params['max_age_days'],
                      concurrency=params['concurrency'], retire_after_days=params.get('retire_after_days'),
                      phase=params.get('phase') or reconcile.ALL, delivered=params.get('delivered'))
    del result['outcomes']
    if not diff:
        del result['diff']
    warn_before = params.get('warn_before_days')
    if warn_before is not None:
        result['due_soon'] = ['%s/%s is due for rotation %s' % (
            r['repo_id'], r['name'], 'now' if r['due_in_days'] <= 0
            else 'in %d day%s' % (r['due_in_days'], '' if r['due_in_days'] == 1 else 's'))
            for r in result['key_results'] if r.get('due_in_days') is not None and r['due_in_days'] <= warn_before]
        for line in result['due_soon'] if warn else ():
            warn(line)
    return result
