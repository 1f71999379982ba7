# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Flashback platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Compare declared API keys with the live ones: what to create, update and delete.

Reads only: one ``GET /repo`` when an entry names its repository, one
``GET /repo/{id}/apikey`` per repository. The role runs the writing module just for
the changes this returns, so keys that are already right cost no task at all.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.flashback.platform.plugins.module_utils import apikeys, rotation
from ansible_collections.flashback.platform.plugins.module_utils.arguments import ACCESS_LEVELS
from ansible_collections.flashback.platform.plugins.module_utils.errors import ConfigurationError, ResourceError

# The fields of a declared entry and their types (the plan module's argument spec uses these).
ENTRY_TYPES = dict(repo_id='str', repo_name='str', name='str', access='str', state='str', rotate='bool',
                   max_age_days='int')
STATES = ('present', 'absent')
DEFAULT_ACCESS = 'READ'


def _describe(index, entry):
    name = entry.get('name') if isinstance(entry, dict) else None
    return 'entry %d%s' % (index, ' (name %r)' % name if name else '')


def _rotation_policy(entry, where, default_max_age_days):
    rotate = bool(entry.get('rotate'))
    max_age_days = entry.get('max_age_days')
    if rotate and max_age_days is not None:
        raise ConfigurationError('%s sets both rotate and max_age_days; choose one' % where)
    if max_age_days is None and not rotate:
        max_age_days = default_max_age_days
    if max_age_days is not None and max_age_days < 1:
        raise ConfigurationError('%s has max_age_days %r; use 1 or more' % (where, max_age_days))
    return rotate, max_age_days


def validate_entries(entries, default_max_age_days=None):
    """Normalised copies of the declared entries; raises naming the first bad entry. No API call."""
    normalised = []
    seen = {}
    for index, entry in enumerate(entries):
        where = _describe(index, entry)
        if not isinstance(entry, dict):
            raise ConfigurationError('%s must be a dict with name and repo_id or repo_name' % where)
        if not isinstance(entry.get('name'), str) or not entry['name']:
            raise ConfigurationError('%s needs a non-empty name' % where)
        if bool(entry.get('repo_id')) == bool(entry.get('repo_name')):
            raise ConfigurationError('%s needs exactly one of repo_id and repo_name' % where)
        access = entry.get('access') or DEFAULT_ACCESS
        if access not in ACCESS_LEVELS:
            raise ConfigurationError('%s has access %r; use one of %s' % (where, access, ', '.join(ACCESS_LEVELS)))
        state = entry.get('state') or 'present'
        if state not in STATES:
            raise ConfigurationError('%s has state %r; use present or absent' % (where, state))
        rotate, max_age_days = _rotation_policy(entry, where, default_max_age_days)
        clean = dict(repo_id=entry.get('repo_id'), repo_name=entry.get('repo_name'), name=entry['name'],
                     access=access, state=state, rotate=rotate, max_age_days=max_age_days)
        ref = ('id', clean['repo_id']) if clean['repo_id'] else ('name', clean['repo_name'])
        _refuse_duplicate(seen, (ref, clean['name']), index, where)
        normalised.append(clean)
    return normalised


def _refuse_duplicate(seen, identity, index, where):
    if identity in seen:
        raise ConfigurationError('%s declares the same repository and name as entry %d; declare each key once'
                                 % (where, seen[identity]))
    seen[identity] = index


def resolve_repos(client, entries):
    """Fill in repo_id from repo_name, with at most one ``GET /repo``; refuse unknown or ambiguous names."""
    if not any(entry['repo_name'] for entry in entries):
        return
    by_name = {}
    for repo in apikeys.list_repos(client):
        by_name.setdefault(repo['name'], []).append(repo['id'])
    seen = {}
    for index, entry in enumerate(entries):
        if entry['repo_name']:
            ids = by_name.get(entry['repo_name'], [])
            if len(ids) != 1:
                raise ResourceError('%s: %s' % (_describe(index, entry), (
                    'repository named %r not found or not visible to this token' % entry['repo_name'] if not ids
                    else 'repository name %r is ambiguous (ids: %s); use repo_id' % (entry['repo_name'],
                                                                                     ', '.join(sorted(ids))))))
            entry['repo_id'] = ids[0]
        # A repo_name entry and a repo_id entry can still name the same key.
        _refuse_duplicate(seen, (entry['repo_id'], entry['name']), index, _describe(index, entry))


def _result(entry, key, changed):
    return dict(repo_id=entry['repo_id'], name=entry['name'], id=key['id'] if key else None,
                key=key['key'] if key else None, access=key['access'] if key else entry['access'],
                state=entry['state'], changed=changed)


def _change(action, entry, key, access):
    return dict(action=action, repo_id=entry['repo_id'], name=entry['name'], access=access,
                state='absent' if action == 'delete' else 'present', key_id=key['id'] if key else None,
                rotate=entry.get('rotate', False), max_age_days=entry.get('max_age_days'), before=key or {})


def plan_entry(entry, live, now):
    """``(changes, result)`` for one declared entry against its repository's live keys."""
    matches = [key for key in live if key['name'] == entry['name']]
    pending = [key for key, dummy in rotation.pending_replacements(live, entry['name'])]
    if entry['state'] == 'absent':
        # Nobody should hold this name, nor an unfinished rotation's replacement of it.
        changes = [_change('delete', entry, key, key['access']) for key in matches + pending]
        result = _result(entry, None, bool(changes))
        result['access'] = None
        return changes, result
    if len(matches) > 1:
        raise ResourceError('%d live API keys are named %r in repository %s (ids: %s): delete the extra keys '
                            'first; nothing was changed' % (len(matches), entry['name'], entry['repo_id'],
                                                            ', '.join(key['id'] for key in matches)))
    current = matches[0] if matches else None
    if pending:
        # The module finishes an interrupted rotation on any present run; the replacement keeps the name.
        return [_change('finish_rotation', entry, current, entry['access'])], dict(
            _result(entry, pending[0], True), access=entry['access'])
    if current is None:
        return [_change('create', entry, None, entry['access'])], _result(entry, None, True)
    if entry['rotate'] or (entry['max_age_days'] and rotation.older_than(current, entry['max_age_days'], now)):
        return [_change('rotate', entry, current, entry['access'])], _result(entry, None, True)
    if current['access'] != entry['access']:
        updated = dict(_result(entry, current, True), access=entry['access'])
        return [_change('update', entry, current, entry['access'])], updated
    return [], _result(entry, current, False)


def _spared(name, declared, protected):
    """Whether exclusive mode leaves a key with this name alone."""
    marker = rotation.parse_marker(name)
    return name in declared or name in protected or bool(marker and marker[0] in declared)


def plan_exclusive(repo_id, live, declared_names, protected):
    """Deletes of the live keys nobody declared, sparing protected names and unfinished rotations."""
    changes, results = [], []
    for key in live:
        if _spared(key['name'], declared_names, protected):
            continue
        entry = dict(repo_id=repo_id, name=key['name'], state='absent')
        changes.append(_change('delete', entry, key, key['access']))
        results.append(dict(_result(entry, key, True), access=key['access']))
    return changes, results


def build_plan(client, entries, exclusive=False, protected=(), max_age_days=None, now=None):
    """Returns ``dict(changes=[...], results=[...])``; raises before anything is changed."""
    entries = validate_entries(entries, max_age_days)
    resolve_repos(client, entries)
    repo_ids = []
    for entry in entries:
        if entry['repo_id'] not in repo_ids:
            repo_ids.append(entry['repo_id'])
    live = dict((repo_id, apikeys.list_keys(client, repo_id)) for repo_id in repo_ids)

    changes, results = [], []
    for entry in entries:
        entry_changes, result = plan_entry(entry, live[entry['repo_id']], now or rotation.utc_now())
        changes.extend(entry_changes)
        results.append(result)
    if exclusive:
        for repo_id in repo_ids:
            declared = set(entry['name'] for entry in entries if entry['repo_id'] == repo_id)
            extra_changes, extra_results = plan_exclusive(repo_id, live[repo_id], declared, set(protected or ()))
            changes.extend(extra_changes)
            results.extend(extra_results)
    return dict(changes=changes, results=results)
