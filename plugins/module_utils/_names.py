# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Flashback platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The name codec: what a key's name says about it. Private; identity rules change here and only here.

The API has no field for a key's state in a rotation, so the name is the record. A name is one of:

- plain: ``<name>``, the key as declared;
- replacing: ``<name> (replacing <old id> #<check>)``, a rotation's new key, staged: its secret is not yet
  known to have reached anyone;
- handed back: ``<name> (handed back, replacing <old id> #<check>)``, a rotation's new key whose secret the
  run that minted it returned in its result (it leaves this name before it returns, when it could not
  finish the rotation itself): a later run may finish it;
- staged: ``<name> (staged #<check>)``, a new key (no predecessor) created for a delivery whose secret is
  not yet known to have reached anyone;
- retiring: ``<name> (retiring after YYYY-MM-DD #<check>)``, an old key kept valid for a grace period.

``<check>`` is 8 hex digits of a SHA-256 over the name, the kind and the value: a user's key whose name
merely looks like a marker (no check, or one that does not fit) is an ordinary key, never taken over.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import re

PLAIN, REPLACING, HANDED_BACK, STAGED, RETIRING = 'plain', 'replacing', 'handed_back', 'staged', 'retiring'
# Kinds that mark a new key of a declared name, not yet finished.
PENDING = (REPLACING, HANDED_BACK, STAGED)

_FORMATS = {
    REPLACING: ' (replacing %s #%s)',
    HANDED_BACK: ' (handed back, replacing %s #%s)',
    STAGED: ' (staged%s #%s)',  # no value: '%s' is the empty string
    RETIRING: ' (retiring after %s #%s)',
}
_PATTERNS = {
    REPLACING: re.compile(r'^(?P<name>.*) \(replacing (?P<value>[^()\s#]+) #(?P<check>[0-9a-f]{8})\)$'),
    HANDED_BACK: re.compile(r'^(?P<name>.*) \(handed back, replacing (?P<value>[^()\s#]+) #(?P<check>[0-9a-f]{8})\)$'),
    STAGED: re.compile(r'^(?P<name>.*) \(staged(?P<value>) #(?P<check>[0-9a-f]{8})\)$'),
    RETIRING: re.compile(r'^(?P<name>.*) \(retiring after (?P<value>\d{4}-\d{2}-\d{2}) #(?P<check>[0-9a-f]{8})\)$'),
}
# The salt of each kind's check: replacing and retiring keep the one of 0.2.0, so their names stay recognised.
_SALTS = {REPLACING: 'rotation', RETIRING: 'rotation', HANDED_BACK: 'handed back', STAGED: 'staged'}


def _check(kind, name, value):
    text = 'flashback.platform %s\0%s\0%s' % (_SALTS[kind], name, value)
    return hashlib.sha256(text.encode('utf-8')).hexdigest()[:8]


def encode(kind, name, value=''):
    """The name a key of ``kind`` for the declared ``name`` carries (``value``: old id, date, or '')."""
    if kind == PLAIN:
        return name
    return name + _FORMATS[kind] % (value, _check(kind, name, value))


def decode(key_name):
    """``(kind, name, value)``: what ``key_name`` says; ``(PLAIN, key_name, None)`` for any other name."""
    for kind, pattern in _PATTERNS.items():
        match = pattern.match(key_name or '')
        if match and match.group('check') == _check(kind, match.group('name'), match.group('value')):
            return kind, match.group('name'), match.group('value')
    return PLAIN, key_name, None


def marked(live, name, kinds):
    """``(key, kind, value)`` of the live keys whose name marks them as ``kinds`` of the declared ``name``."""
    found = []
    for key in live:
        kind, base, value = decode(key['name'])
        if kind in kinds and base == name:
            found.append((key, kind, value))
    return found
