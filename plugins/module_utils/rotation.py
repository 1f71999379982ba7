# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Flashback platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Key rotation: create the replacement, then delete the old key, then take over its name.

The replacement is created under a marker name, ``<name> (replacing <old id>)``, and renamed
to ``<name>`` only after the old key is gone. A run interrupted between the steps therefore
leaves a state a rerun can read without guessing: the marker says which key is the
replacement and which key it replaces, so the rerun finishes the rotation instead of
creating yet another key, and never sees two live keys with the same name.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re
import time

from ansible_collections.flashback.platform.plugins.module_utils.errors import FlashbackError, ResourceError

MARKER = ' (replacing %s)'
_MARKER_RE = re.compile(r'^(?P<name>.*) \(replacing (?P<old_id>[^()]+)\)$')


class RotationIncomplete(FlashbackError):
    """The replacement exists and its secret is in hand, but the old key could not be retired.

    ``fail_kwargs`` carries the new key and its secret, so a failed run still hands the secret over.
    """

    def __init__(self, message, apikey, secret, replaced):
        super(RotationIncomplete, self).__init__(message, apikey=apikey, secret=secret, replaced=replaced)


def replacement_name(name, old_id):
    return name + MARKER % old_id


def parse_marker(key_name):
    """``(name, old_id)`` when ``key_name`` is a replacement's marker name, else None."""
    match = _MARKER_RE.match(key_name)
    return (match.group('name'), match.group('old_id')) if match else None


def pending_replacements(keys, name):
    """``(key, old_id)`` of the live keys an interrupted rotation of ``name`` left under the marker name."""
    found = []
    for key in keys:
        marker = parse_marker(key['name'])
        if marker and marker[0] == name:
            found.append((key, marker[1]))
    return found


def replaced_view(old):
    return dict(id=old['id'], key=old['key'], created_at=old['created_at'])


def utc_now():
    # Naive UTC, like parse_created_at; no timezone objects, which Python 2.7 targets lack.
    return datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=time.time())


def parse_created_at(value):
    """A naive UTC datetime from the API's ISO 8601 ``createdAt`` (``Z`` or ``+00:00``, optional fraction)."""
    match = re.match(r'^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$', value or '')
    if not match:
        return None
    stamp = datetime.datetime.strptime('%sT%s' % (match.group(1), match.group(2)), '%Y-%m-%dT%H:%M:%S')
    offset = match.group(3)
    if offset and offset != 'Z':
        sign = -1 if offset[0] == '-' else 1
        digits = offset[1:].replace(':', '')
        stamp -= sign * datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return stamp


def older_than(key, max_age_days, now):
    """Whether ``key`` is older than ``max_age_days``; fails when the API gave no readable createdAt."""
    created = parse_created_at(key.get('created_at'))
    if created is None:
        raise ResourceError('cannot tell the age of API key %s: the API gave no readable createdAt (%r); '
                            'use rotate instead of max_age_days' % (key['id'], key.get('created_at')))
    return now - created > datetime.timedelta(days=max_age_days)


def rotate(keys_api, old, name, access, known_ids):
    """Replace ``old``; returns ``(new apikey, secret, replaced)``. Check mode predicts only."""
    new, secret = keys_api.create(replacement_name(name, old['id']), access, known_ids=known_ids)
    try:
        keys_api.delete(old)
        new = keys_api.update(new, name, access)
    except FlashbackError as exc:
        raise RotationIncomplete(
            'rotating API key %r in repository %s: the replacement %s exists and its secret is in this result, but '
            'deleting the old key %s and renaming the replacement did not finish (%s): store the secret now, then '
            'rerun to finish the rotation'
            % (name, keys_api.repo_id, new['id'], old['id'], exc.message), new, secret, replaced_view(old))
    return new, secret, replaced_view(old)


def finish(keys_api, keys, current, name, access):
    """Complete an interrupted rotation of ``name``; returns ``(apikey, replaced)`` or None if none is pending.

    The replacement's secret was returned by the run that created it; this run cannot return it again.
    """
    pending = pending_replacements(keys, name)
    if not pending:
        return None
    if len(pending) > 1:
        raise ResourceError('%d unfinished rotations of API key %r in repository %s (ids: %s): delete all but one '
                            % (len(pending), name, keys_api.repo_id, ', '.join(key['id'] for key, dummy in pending)))
    replacement, old_id = pending[0]
    replaced = None
    if current is not None:
        if current['id'] != old_id:
            raise ResourceError('API key %s is named %r, but the unfinished rotation %s replaces key %s: delete one of '
                                'them' % (current['id'], name, replacement['id'], old_id))
        keys_api.delete(current)
        replaced = replaced_view(current)
    return keys_api.update(replacement, name, access or replacement['access']), replaced
