# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Flashback platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one place that decides what happens to a key. Pure: no I/O, no clock, no module.

``decide(entry, live, now)`` takes a declared entry (as :func:`validate_entries` returns it), the
live keys of its repository and the current time, and returns one :class:`Decision`. Every module
(``flashback_repo_apikey``, ``flashback_repo_apikeys``, ``flashback_repo_apikey_plan``) carries out
what it returns through :mod:`converge`; nothing else decides.

The rules, written once:
- an omitted ``access`` means READ when a key is created, and "keep the current level" on update,
  rotation and when finishing a rotation;
- a present entry whose name two live keys hold (and that gives no ``key_id``) is refused;
  ``state: absent`` deletes every live key with the name (or the one ``key_id``) and any replacement
  an interrupted rotation of the name left behind;
- an interrupted rotation (a key under the marker name ``<name> (replacing <old id> #<check>)``) is finished
  before anything else, unless it is ambiguous (several, or the old id is not the current key);
- ``rotate`` replaces the key on every run; ``max_age_days`` when ``createdAt`` is older than that;
- a new key whose secret did not reach its owner (``undelivered``: a rotation's replacement, or a key
  created by the run before) is withdrawn: deleted, leaving the old key valid, so that a rerun mints
  and delivers another one instead of finishing onto a secret nobody holds.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import re

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
ACTIONS = (NONE, CREATE, UPDATE, ROTATE, FINISH_ROTATION, DELETE, RETIRE, WITHDRAW, REFUSE)

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
    rotation, the old key; for a withdrawal, the undelivered new key); ``replacement`` the pending
    replacement a ``finish_rotation`` renames;
    ``access`` the level the key ends with; ``reason`` why a ``refuse`` refuses. ``retire_after``
    (``YYYY-MM-DD``) means a rotation keeps the old key valid under its retiring name until that date
    instead of deleting it; ``expired`` are retiring keys whose date has come, deleted by this run
    (alone, that is the ``retire`` action).
    """

    __slots__ = ('action', 'repo_id', 'name', 'access', 'current', 'doomed', 'replacement', 'reason',
                 'retire_after', 'expired', 'due_in_days')

    def __init__(self, action, repo_id, name, access=None, current=None, doomed=(), replacement=None, reason=None,
                 retire_after=None, expired=()):
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
        self.due_in_days = None  # with max_age_days: days until the key is due for rotation (negative: overdue)

    @property
    def changes(self):
        return self.action not in (NONE, REFUSE)

    def __repr__(self):
        return 'Decision(%s %s/%s)' % (self.action, self.repo_id, self.name)


# A rotation's replacement is created as "<name> (replacing <old id> #<check>)", <check> being 8 hex digits
# of a SHA-256 over the name and the old id. A user's key whose name merely looks like a marker (no check,
# or a check that does not fit) is an ordinary key, never taken over as a half-done rotation.
MARKER = ' (replacing %s #%s)'
_MARKER_RE = re.compile(r'^(?P<name>.*) \(replacing (?P<value>[^()\s#]+) #(?P<check>[0-9a-f]{8})\)$')
# A rotation with a grace period keeps the old key valid under "<name> (retiring after YYYY-MM-DD #<check>)"
# (check over the name and the date, as above): the API has no expiry field, so the name is the record. A run
# on or after that date (UTC) deletes it.
RETIRING = ' (retiring after %s #%s)'
_RETIRING_RE = re.compile(r'^(?P<name>.*) \(retiring after (?P<value>\d{4}-\d{2}-\d{2}) #(?P<check>[0-9a-f]{8})\)$')


def _marker_check(name, value):
    return hashlib.sha256(('flashback.platform rotation\0%s\0%s' % (name, value)).encode('utf-8')).hexdigest()[:8]


def _parse_checked(pattern, key_name):
    """``(name, value)`` when ``key_name`` matches ``pattern`` and its check fits, else None."""
    match = pattern.match(key_name or '')
    if not match or match.group('check') != _marker_check(match.group('name'), match.group('value')):
        return None
    return match.group('name'), match.group('value')


def _keys_marked(live, name, parse):
    """``(key, value)`` of the live keys whose marker name ``parse`` reads as belonging to ``name``."""
    found = []
    for key in live:
        marker = parse(key['name'])
        if marker and marker[0] == name:
            found.append((key, marker[1]))
    return found


def replacement_name(name, old_id):
    return name + MARKER % (old_id, _marker_check(name, old_id))


def parse_marker(key_name):
    """``(name, old_id)`` when ``key_name`` is a replacement's marker name (its check fits), else None."""
    return _parse_checked(_MARKER_RE, key_name)


def retiring_name(name, date):
    """The name a retiring key carries until ``date`` (``YYYY-MM-DD``)."""
    return name + RETIRING % (date, _marker_check(name, date))


def parse_retiring(key_name):
    """``(name, date)`` when ``key_name`` is a retiring key's name (its check fits), else None."""
    return _parse_checked(_RETIRING_RE, key_name)


def retiring_keys(live, name):
    """``(key, date)`` of the live keys a grace-period rotation of ``name`` keeps until ``date``."""
    return _keys_marked(live, name, parse_retiring)


def pending_replacements(live, name):
    """``(key, old_id)`` of the live keys an interrupted rotation of ``name`` left under the marker name."""
    return _keys_marked(live, name, parse_marker)


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


def decide(entry, live, now, undelivered=frozenset()):
    """One :class:`Decision` for ``entry`` against ``live``, its repository's keys, at ``now`` (naive UTC).

    ``undelivered``: ids of keys of this repository, created by an earlier run (or phase), whose secret did not
    reach its owner.
    """
    retiring = retiring_keys(live, entry['name'])
    if entry['state'] == 'absent':
        # The key, an interrupted rotation's replacement and every retiring predecessor go.
        decision = _decide(entry, live, now, undelivered)
        decision.doomed += [key for key, dummy in retiring]
        decision.action = DELETE if decision.doomed else NONE
        return decision
    decision = _decide(entry, live, now, undelivered)
    if decision.action == REFUSE:
        return decision
    decision.expired = [key for key, date in retiring if date <= _date(now)]
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
    if decision.action in (CREATE, ROTATE, FINISH_ROTATION) or decision.current is None:
        return max_age_days
    created = parse_created_at(decision.current.get('created_at'))
    return None if created is None else max_age_days - (now - created).days


def _decide(entry, live, now, undelivered):
    repo_id, name, key_id = entry['repo_id'], entry['name'], entry.get('key_id')

    def refuse(reason, current=None):
        return Decision(REFUSE, repo_id, name, current=current, reason=reason)

    if key_id is not None:
        matches = [key for key in live if key['id'] == key_id]
    else:
        matches = [key for key in live if key['name'] == name]
    pending = pending_replacements(live, name)

    if entry['state'] == 'absent':
        doomed = matches + [key for key, dummy in pending if key not in matches]
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

    if pending:
        if len(pending) > 1:
            return refuse('%d unfinished rotations of API key %r in repository %s (ids: %s): delete all but one'
                          % (len(pending), name, repo_id, _ids([key for key, dummy in pending])), current)
        replacement, old_id = pending[0]
        if replacement['id'] in undelivered:
            # Finishing would leave a key whose secret nobody holds; the old key stays as it is.
            return Decision(WITHDRAW, repo_id, name, access=current['access'] if current else None, current=current,
                            doomed=[replacement])
        if current is not None and current['id'] != old_id:
            return refuse('API key %s is named %r, but the unfinished rotation %s replaces key %s: delete one of '
                          'them' % (current['id'], name, replacement['id'], old_id), current)
        return Decision(FINISH_ROTATION, repo_id, name, access=entry['access'] or replacement['access'],
                        current=current, doomed=[current] if current else [], replacement=replacement)

    if current is None:
        return Decision(CREATE, repo_id, name, access=entry['access'] or CREATE_ACCESS)
    if current['id'] in undelivered:
        return Decision(WITHDRAW, repo_id, name, access=current['access'], current=current, doomed=[current])

    access = entry['access'] or current['access']
    due = _due_for_rotation(entry, current, now)
    if due is None:
        return refuse('cannot tell the age of API key %s: the API gave no readable createdAt (%r); use rotate instead '
                      'of max_age_days' % (current['id'], current.get('created_at')), current)
    if due:
        return Decision(ROTATE, repo_id, name, access=access, current=current, doomed=[current])
    if current['name'] == name and current['access'] == access:
        return Decision(NONE, repo_id, name, access=access, current=current)
    return Decision(UPDATE, repo_id, name, access=access, current=current)


def _spared(key, declared_names, declared_ids, protected):
    """Whether exclusive mode leaves ``key`` alone: declared, protected, a declared key's pending replacement or
    retiring predecessor (a retiring key is deleted by its own entry once its date has come)."""
    marker = parse_marker(key['name']) or parse_retiring(key['name'])
    return (key['name'] in declared_names or key['id'] in declared_ids or key['name'] in protected
            or bool(marker and marker[0] in declared_names))


def decide_exclusive(repo_id, live, entries, protected):
    """Deletes of the live keys of ``repo_id`` that no entry declares, sparing ``protected`` names."""
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
