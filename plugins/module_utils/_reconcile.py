# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Flashback platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one place that decides what happens to a key. Pure: no I/O, no clock, no module.

``decide(entry, live, now, phase, delivered)`` takes a declared entry (as :func:`validate_entries` returns it), the
live keys of its repository, the current time, the phase of the run and the ids of new keys whose secrets a
caller confirms delivered, and returns one :class:`Decision`. Every module (``flashback_repo_apikey``,
``flashback_repo_apikeys``, ``flashback_repo_apikey_plan``) carries out what it returns through :mod:`converge`;
nothing else decides. What a key's name says (plain, replacing, handed back, staged, retiring) is :mod:`_names`.

The rules, written once:
- an omitted ``access`` means READ when a key is created, and "keep the current level" on update,
  rotation and when finishing a rotation;
- a present entry whose name two live keys hold (and that gives no ``key_id``) is refused;
  ``state: absent`` deletes every live key with the name (or the one ``key_id``) and every new key or retiring
  key a rotation of the name left behind;
- ``rotate`` replaces the key on every run; ``max_age_days`` when ``createdAt`` is older than that;
- **a new key is finished (the old key deleted or renamed for its grace period, a staged key given its name)
  only when its secret is known to have reached someone**: (a) the run that mints it finishes it in the result
  that hands the secret back (phase ``all``); (b) a later run finishes it when the run that minted it handed the
  secret back and recorded that on the key (the ``handed back`` name it leaves before returning when it could
  not finish); (c) a commit names it in ``delivered``. A new key under a ``replacing`` or ``staged`` name that
  nothing confirms is withdrawn (deleted; the old key stays valid) and, outside ``commit``, minted again, so that
  its secret reaches its owner;
- phases: ``all`` does everything in one run; ``stage`` only mints (a rotation's new key under its replacing
  name, a new key under its staged name) and withdraws unconfirmed new keys it mints again; ``commit`` never
  mints: it finishes the delivered new keys, withdraws the others, and makes every other change. What a phase
  leaves to the other is the decision's ``pending``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

from ansible_collections.flashback.platform.plugins.module_utils import _names

ACCESS_LEVELS = ['READ', 'WRITE', 'ADMIN']
CREATE_ACCESS = 'READ'
STATES = ['present', 'absent']

# The declared entry: the one schema. The module's argument spec is built from it, its DOCUMENTATION
# and the role's meta/argument_specs.yml are compared with it by tests/unit (test_schema.py).
ENTRY_SPEC = dict(
    repo_id=dict(type='str'),
    repo_name=dict(type='str'),
    name=dict(type='str'),
    key_id=dict(type='str'),
    access=dict(type='str', choices=ACCESS_LEVELS),
    state=dict(type='str', choices=STATES, default='present'),
    rotate=dict(type='bool', default=False),
    max_age_days=dict(type='int'),
    retire_after_days=dict(type='int'),
)

NONE, CREATE, UPDATE, ROTATE, FINISH_ROTATION, DELETE, RETIRE, WITHDRAW, REFUSE = (
    'none', 'create', 'update', 'rotate', 'finish_rotation', 'delete', 'retire', 'withdraw', 'refuse')
STAGE_CREATE, STAGE_ROTATION, FINISH_CREATE = 'stage_create', 'stage_rotation', 'finish_create'
ACTIONS = (NONE, CREATE, UPDATE, ROTATE, FINISH_ROTATION, DELETE, RETIRE, WITHDRAW, REFUSE, STAGE_CREATE,
           STAGE_ROTATION, FINISH_CREATE)
# Actions that mint a key (its secret is in the run's result).
MINTS = (CREATE, ROTATE, STAGE_CREATE, STAGE_ROTATION)

ALL, STAGE, COMMIT = 'all', 'stage', 'commit'
PHASES = (ALL, STAGE, COMMIT)

# Repository and key ids as the API makes them (UUIDs, short slugs): URL-safe characters, never a dot
# segment. Checked for ids from users and from the server before one reaches a URL or a file path.
_ID_RE = re.compile(r'^[A-Za-z0-9_~-][A-Za-z0-9._~-]*\Z')  # \Z: '$' would let a trailing newline in
MAX_ID_LENGTH = 128


def id_problem(value):
    """Why ``value`` cannot be a repository or key id, or None when it can."""
    if not isinstance(value, str) or not value:
        return 'it is empty'
    if len(value) > MAX_ID_LENGTH:
        return 'it is longer than %d characters' % MAX_ID_LENGTH
    if not _ID_RE.match(value):
        return 'it holds characters other than letters, digits, ".", "_", "~" and "-", or starts with "."'
    return None


class EntryError(ValueError):
    """A declared entry (or the set of entries) is malformed; raised before any request."""


class Decision(object):
    """What happens to one declared key (or, in exclusive mode, one undeclared one).

    ``current`` is the live key the entry resolves to; ``doomed`` the keys a delete removes (for a
    rotation, the old key); ``withdrawn`` new keys whose secret is not known to have reached anyone, deleted
    first; ``replacement`` the new key a ``finish_rotation`` or ``finish_create`` gives the name;
    ``mint_as`` the name a minting action creates its key under, ``hand_back_as`` the name the new key takes
    when the run cannot finish it and hands its secret back; ``access`` the level the key ends with; ``reason``
    why a ``refuse`` refuses; ``pending`` the action this phase leaves to the other one. ``retire_after``
    (``YYYY-MM-DD``) means a rotation keeps the old key valid under its retiring name until that date instead of
    deleting it; ``expired`` are retiring keys whose date has come, deleted by this run (alone, that is the
    ``retire`` action).
    """

    __slots__ = ('action', 'repo_id', 'name', 'access', 'current', 'doomed', 'replacement', 'reason',
                 'retire_after', 'expired', 'due_in_days', 'withdrawn', 'mint_as', 'hand_back_as', 'pending')

    def __init__(self, action, repo_id, name, access=None, current=None, doomed=(), replacement=None, reason=None,
                 retire_after=None, expired=(), withdrawn=(), mint_as=None, hand_back_as=None, pending=None):
        self.action = action
        self.repo_id = repo_id
        self.name = name
        self.access = access
        self.current = current
        self.doomed = list(doomed)
        self.replacement = replacement
        self.reason = reason
        self.retire_after = retire_after
        self.expired = list(expired)
        self.withdrawn = list(withdrawn)
        self.mint_as = mint_as
        self.hand_back_as = hand_back_as
        self.pending = pending
        self.due_in_days = None  # with max_age_days: days until the key is due for rotation (negative: overdue)

    @property
    def changes(self):
        return self.action not in (NONE, REFUSE)

    def __repr__(self):
        return 'Decision(%s %s/%s)' % (self.action, self.repo_id, self.name)


def replacement_name(name, old_id):
    """The name a rotation's staged new key carries while ``old_id`` is still the key."""
    return _names.encode(_names.REPLACING, name, old_id)


def handed_back_name(name, old_id):
    """The name of a rotation's new key whose secret the run that minted it handed back."""
    return _names.encode(_names.HANDED_BACK, name, old_id)


def staged_name(name):
    """The name a new key (no predecessor) carries while its secret is being delivered."""
    return _names.encode(_names.STAGED, name)


def retiring_name(name, date):
    """The name a retiring key carries until ``date`` (``YYYY-MM-DD``)."""
    return _names.encode(_names.RETIRING, name, date)


def _parse(kind, key_name):
    found, name, value = _names.decode(key_name)
    return (name, value) if found == kind else None


def parse_marker(key_name):
    """``(name, old_id)`` when ``key_name`` is a staged replacement's name (its check fits), else None."""
    return _parse(_names.REPLACING, key_name)


def parse_retiring(key_name):
    """``(name, date)`` when ``key_name`` is a retiring key's name (its check fits), else None."""
    return _parse(_names.RETIRING, key_name)


def retiring_keys(live, name):
    """``(key, date)`` of the live keys a grace-period rotation of ``name`` keeps until ``date``."""
    return [(key, value) for key, dummy, value in _names.marked(live, name, (_names.RETIRING,))]


def pending_replacements(live, name):
    """``(key, old_id)`` of the live keys an unfinished rotation of ``name`` left under a replacing name."""
    return [(key, value) for key, dummy, value in _names.marked(live, name, (_names.REPLACING, _names.HANDED_BACK))]


def parse_created_at(value):
    """A naive UTC datetime from the API's ISO 8601 ``createdAt`` (``Z`` or ``+00:00``, optional fraction)."""
    match = re.match(r'^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$', value or '')
    if not match:
        return None
    try:
        stamp = datetime.datetime.strptime('%sT%s' % (match.group(1), match.group(2)), '%Y-%m-%dT%H:%M:%S')
    except ValueError:  # shaped like a date but not one (month 13, February 30)
        return None
    offset = match.group(3)
    if offset and offset != 'Z':
        sign = -1 if offset[0] == '-' else 1
        digits = offset[1:].replace(':', '')
        stamp -= sign * datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return stamp


def _ids(keys):
    return ', '.join(key['id'] for key in keys)


def _due_for_rotation(entry, current, now):
    """True or False; None when ``max_age_days`` applies but the key's age cannot be told."""
    if entry['rotate']:
        return True
    if entry['max_age_days'] is None:
        return False
    created = parse_created_at(current.get('created_at'))
    if created is None:
        return None
    return now - created > datetime.timedelta(days=entry['max_age_days'])


def _date(moment):
    return moment.strftime('%Y-%m-%d')


def decide(entry, live, now, phase=ALL, delivered=frozenset()):
    """One :class:`Decision` for ``entry`` against ``live``, its repository's keys, at ``now`` (naive UTC).

    ``phase``: ``all``, ``stage`` or ``commit`` (see the module docstring). ``delivered``: ids of new keys of this
    repository whose secret the caller confirms reached its owner.
    """
    retiring = retiring_keys(live, entry['name'])
    if entry['state'] == 'absent':
        # The key, every new key of the name and every retiring predecessor go; a stage only mints.
        decision = _decide(entry, live, now, phase, delivered)
        decision.doomed += [key for key, dummy in retiring]
        if phase == STAGE:
            decision.pending, decision.doomed = DELETE if decision.doomed else None, []
        decision.action = DELETE if decision.doomed else NONE
        return decision
    decision = _decide(entry, live, now, phase, delivered)
    if decision.action == REFUSE:
        return decision
    if phase != STAGE:
        decision.expired = [key for key, date in retiring if date <= _date(now)]
    if decision.action == NONE and decision.withdrawn:
        decision.action = WITHDRAW
    if decision.action == NONE and decision.expired:
        decision.action = RETIRE
    if entry['max_age_days'] is not None:
        decision.due_in_days = _due_in_days(entry['max_age_days'], decision, now)
    grace = entry.get('retire_after_days') or 0
    if grace and decision.action in (ROTATE, FINISH_ROTATION) and decision.doomed:
        decision.retire_after = _date(now + datetime.timedelta(days=grace))
    return decision


def _due_in_days(max_age_days, decision, now):
    """Days until the key this decision leaves is due; a key created (or rotated) now has the whole period."""
    if decision.action in (CREATE, ROTATE, FINISH_ROTATION, FINISH_CREATE, STAGE_CREATE, STAGE_ROTATION) \
            or decision.current is None:
        return max_age_days
    created = parse_created_at(decision.current.get('created_at'))
    return None if created is None else max_age_days - (now - created).days


def _in_phase(phase, action, decision):
    """``decision`` as ``phase`` carries out ``action``: a stage only mints, a commit never does."""
    staged = {CREATE: STAGE_CREATE, ROTATE: STAGE_ROTATION}
    if phase == STAGE and action in staged:
        decision.action, decision.doomed = staged[action], []  # the old key stays until the commit
    elif (phase == STAGE and action not in (NONE, WITHDRAW)) or (phase == COMMIT and action in MINTS):
        decision.action, decision.pending, decision.doomed = NONE, action, []
    else:
        decision.action = action
    if decision.action in MINTS:
        old = decision.current
        decision.mint_as = (decision.name if decision.action == CREATE
                            else staged_name(decision.name) if decision.action == STAGE_CREATE
                            else replacement_name(decision.name, old['id']))
        if decision.action == ROTATE:
            decision.hand_back_as = handed_back_name(decision.name, old['id'])
    return decision


def _decide(entry, live, now, phase, delivered):
    repo_id, name, key_id = entry['repo_id'], entry['name'], entry.get('key_id')

    def refuse(reason, current=None):
        return Decision(REFUSE, repo_id, name, current=current, reason=reason)

    if key_id is not None:
        matches = [key for key in live if key['id'] == key_id]
    else:
        matches = [key for key in live if key['name'] == name]
    pending = _names.marked(live, name, _names.PENDING)

    if entry['state'] == 'absent':
        doomed = matches + [key for key, dummy, dummy in pending if key not in matches]
        return Decision(DELETE if doomed else NONE, repo_id, name, current=matches[0] if matches else None,
                        doomed=doomed)

    if len(matches) > 1:
        return refuse('%d live API keys are named %r in repository %s (ids: %s): set key_id to pick one, or '
                      'delete the extra keys' % (len(matches), name, repo_id, _ids(matches)))
    current = matches[0] if matches else None
    if current is None and key_id is not None:
        return refuse('no live API key with id %s in repository %s: omit key_id to create a key by name'
                      % (key_id, repo_id))
    if current is not None and current['name'] != name:
        holders = [key for key in live if key['name'] == name and key['id'] != current['id']]
        if holders:
            return refuse('cannot rename API key %s to %r in repository %s: live key %s already has that name'
                          % (current['id'], name, repo_id, _ids(holders)), current)

    withdrawn = []
    if pending:
        if len(pending) > 1:
            return refuse('%d unfinished rotations of API key %r in repository %s (ids: %s): delete all but one'
                          % (len(pending), name, repo_id, _ids([key for key, dummy, dummy in pending])), current)
        new, kind, old_id = pending[0]
        if kind == _names.HANDED_BACK or new['id'] in delivered:
            # Its secret reached someone: finish it (a stage leaves that to the commit).
            if phase == STAGE:
                return Decision(NONE, repo_id, name, access=current['access'] if current else None, current=current,
                                pending=FINISH_CREATE if kind == _names.STAGED else FINISH_ROTATION)
            if current is not None and (kind == _names.STAGED or current['id'] != old_id):
                return refuse(('API key %s is named %r, but the unfinished creation %s is a new key: delete one of them'
                               % (current['id'], name, new['id'])) if kind == _names.STAGED else
                              ('API key %s is named %r, but the unfinished rotation %s replaces key %s: delete one of them'
                               % (current['id'], name, new['id'], old_id)), current)
            hand_back = None if kind == _names.STAGED else handed_back_name(name, old_id)
            return Decision(FINISH_CREATE if kind == _names.STAGED else FINISH_ROTATION, repo_id, name,
                            access=entry['access'] or new['access'], current=current,
                            doomed=[current] if current else [], replacement=new, hand_back_as=hand_back)
        # Nobody is known to hold its secret: finishing would leave a key nobody can use. Withdraw it; the old key
        # stays as it is, and (outside a commit) a new key is minted below, as if it had never been.
        withdrawn = [new]
        if phase == COMMIT:
            return Decision(WITHDRAW, repo_id, name, access=current['access'] if current else None, current=current,
                            withdrawn=withdrawn)

    if current is None:
        return _in_phase(phase, CREATE, Decision(None, repo_id, name, access=entry['access'] or CREATE_ACCESS,
                                                 withdrawn=withdrawn))
    access = entry['access'] or current['access']
    due = _due_for_rotation(entry, current, now)
    if due is None:
        return refuse('cannot tell the age of API key %s: the API gave no readable createdAt (%r); use rotate instead '
                      'of max_age_days' % (current['id'], current.get('created_at')), current)
    if due:
        return _in_phase(phase, ROTATE, Decision(None, repo_id, name, access=access, current=current, doomed=[current],
                                                 withdrawn=withdrawn))
    if current['name'] == name and current['access'] == access:
        return Decision(NONE, repo_id, name, access=access, current=current, withdrawn=withdrawn)
    return _in_phase(phase, UPDATE, Decision(None, repo_id, name, access=access, current=current, withdrawn=withdrawn))


def _spared(key, declared_names, declared_ids, protected):
    """Whether exclusive mode leaves ``key`` alone: declared, protected, or a declared name's new key or retiring
    predecessor (a retiring key is deleted by its own entry once its date has come)."""
    kind, base, dummy = _names.decode(key['name'])
    return (key['name'] in declared_names or key['id'] in declared_ids or key['name'] in protected
            or (kind != _names.PLAIN and base in declared_names))


def decide_exclusive(repo_id, live, entries, protected, phase=ALL):
    """Deletes of the live keys of ``repo_id`` that no entry declares, sparing ``protected`` names (none in a
    stage: it only mints)."""
    if phase == STAGE:
        return []
    declared_names = set(entry['name'] for entry in entries if entry['repo_id'] == repo_id)
    declared_ids = set(entry['key_id'] for entry in entries if entry['repo_id'] == repo_id and entry.get('key_id'))
    return [Decision(DELETE, repo_id, key['name'], current=key, doomed=[key]) for key in live
            if not _spared(key, declared_names, declared_ids, set(protected or ()))]


def describe(index, entry):
    """How messages name an entry: numbered from 1, as people count."""
    name = entry.get('name') if isinstance(entry, dict) else None
    return 'entry %d%s' % (index + 1, ' (name %r)' % name if name else '')


def _check_choice(where, field, value, choices):
    if value not in choices:
        raise EntryError('%s has %s %r; use one of %s' % (where, field, value, ', '.join(choices)))


def validate_entry(index, entry, default_max_age_days=None, label=describe, default_retire_after_days=None):
    """A normalised copy of one declared entry (every ENTRY_SPEC field set); raises EntryError."""
    where = label(index, entry)
    if not isinstance(entry, dict):
        raise EntryError('%s must be a dict with name and repo_id or repo_name' % where)
    unknown = sorted(set(entry) - set(ENTRY_SPEC))
    if unknown:
        raise EntryError('%s has unknown field(s) %s; use %s' % (where, ', '.join(unknown), ', '.join(ENTRY_SPEC)))
    clean = dict((field, entry.get(field, spec.get('default'))) for field, spec in ENTRY_SPEC.items())
    for field in ('repo_id', 'repo_name', 'name', 'key_id'):
        if clean[field] is not None and (not isinstance(clean[field], str) or not clean[field].strip()):
            raise EntryError('%s has an empty %s; give a value or leave it out' % (where, field))
    if not clean['name']:
        raise EntryError('%s needs a name' % where)
    if not clean['name'].isprintable():
        # Names the server lists come in with such characters written as escapes (sanitize.visible): a raw one
        # could never match, and would reach the terminal in messages.
        raise EntryError('%s has a name with a line break, tab or other control character; use printable text'
                         % where)
    for field in ('repo_id', 'key_id'):
        problem = clean[field] is not None and id_problem(clean[field])
        if problem:
            raise EntryError('%s has %s %r, which cannot be an id: %s' % (where, field, clean[field], problem))
    if bool(clean['repo_id']) == bool(clean['repo_name']):
        raise EntryError('%s needs exactly one of repo_id and repo_name' % where)
    if clean['access'] is not None:
        _check_choice(where, 'access', clean['access'], ACCESS_LEVELS)
    clean['state'] = clean['state'] or 'present'
    _check_choice(where, 'state', clean['state'], STATES)
    clean['rotate'] = bool(clean['rotate'])
    if clean['rotate'] and clean['max_age_days'] is not None:
        raise EntryError('%s sets both rotate and max_age_days: rotate replaces the key on every run, '
                         'max_age_days only when it is older; choose one' % where)
    if clean['state'] == 'absent' and (clean['rotate'] or clean['max_age_days'] is not None
                                       or clean['retire_after_days']):
        raise EntryError('%s sets state absent with rotate, max_age_days or retire_after_days; a deleted key is not '
                         'rotated' % where)
    if clean['retire_after_days'] is None and clean['state'] == 'present':
        clean['retire_after_days'] = default_retire_after_days or 0
    if clean['retire_after_days'] is not None and clean['retire_after_days'] < 0:
        raise EntryError('%s has retire_after_days %r; use 0 (delete the old key at once) or more'
                         % (where, clean['retire_after_days']))
    if clean['max_age_days'] is None and not clean['rotate'] and clean['state'] == 'present':
        clean['max_age_days'] = default_max_age_days
    if clean['max_age_days'] is not None and clean['max_age_days'] < 1:
        raise EntryError('%s has max_age_days %r; use 1 or more' % (where, clean['max_age_days']))
    return clean


def validate_entries(entries, default_max_age_days=None, label=describe, default_retire_after_days=None):
    """Normalised copies of the declared entries; raises EntryError naming the first bad one. No request."""
    if default_max_age_days is not None and default_max_age_days < 1:
        raise EntryError('max_age_days is %r; use 1 or more' % default_max_age_days)
    if default_retire_after_days is not None and default_retire_after_days < 0:
        raise EntryError('retire_after_days is %r; use 0 or more' % default_retire_after_days)
    normalised = [validate_entry(index, entry, default_max_age_days, label, default_retire_after_days)
                  for index, entry in enumerate(entries)]
    refuse_duplicates(normalised)
    return normalised


def refuse_duplicates(entries):
    """Each key once: by (repository, name) and by (repository, key_id). Repeated once repo_name is resolved."""
    seen = {}
    for index, entry in enumerate(entries):
        repo = ('id', entry['repo_id']) if entry['repo_id'] else ('name', entry['repo_name'])
        identities = [(repo, 'name', entry['name'])]
        if entry.get('key_id'):
            identities.append((repo, 'key_id', entry['key_id']))
        for identity in identities:
            if identity in seen:
                raise EntryError('%s declares the same repository and %s as entry %d; declare each key once'
                                 % (describe(index, entry), identity[1].replace('_', ' '), seen[identity] + 1))
            seen[identity] = index
