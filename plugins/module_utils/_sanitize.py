# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Flashback platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one sanitizer for text the server sent, and the scrubber for what a module says.

The server is untrusted: its messages and the names it lists may hold terminal escape sequences (ESC/CSI,
C0 and C1 controls), bidirectional overrides or line breaks that would forge a ``fatal:`` line. Text from it
goes into a message only through :func:`one_line`; names it lists enter the collection through
:func:`visible`. :class:`Scrubber` masks the token and every secret minted in the run in whatever a module
says (messages, warnings, failures), because a hostile server can echo them in an error body.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

MASK = '********'
# Shorter values would mask ordinary words; every secret and token the API issues is far longer.
MIN_MASKED_LENGTH = 8


def _printable(char):
    # str.isprintable() is False for categories Cc (C0, DEL, C1), Cf (bidi controls, zero-width characters),
    # Cs, Co, Cn and the separators Zl, Zp; the plain space is the only printable space.
    return char.isprintable()


def one_line(text, limit=None):
    """``text`` with every non-printable character dropped and whitespace runs folded to one space, stripped;
    cut to ``limit`` characters (with '...') when given."""
    if not isinstance(text, str):
        text = str(text)
    kept = ''.join(' ' if char.isspace() else char for char in text if char.isspace() or _printable(char))
    folded = ' '.join(kept.split())
    if limit is not None and len(folded) > limit:
        folded = folded[:limit] + '...'
    return folded


# A long opaque run of token characters (a secret, a token, a JWT) in server text. Server messages are words;
# the module cannot know a secret another task's run minted, so such runs are masked whatever they are.
_OPAQUE = re.compile(r'[A-Za-z0-9_~+/=.-]{24,}')
_UUID = re.compile(r'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')


def _mask_opaque(match):
    word = match.group(0)
    if _UUID.match(word) or not (re.search(r'[A-Za-z]', word) and re.search(r'[0-9]', word)):
        return word  # an id (ids are also checked where they come in), or a long plain word or number
    return MASK


def server_text(text, limit=None):
    """Text the server sent, for a message: :func:`one_line`, with every long opaque string that could be a
    secret or a token (24 or more token characters, letters and digits mixed, not a UUID) masked."""
    text = _OPAQUE.sub(_mask_opaque, one_line(text))
    if limit is not None and len(text) > limit:
        text = text[:limit] + '...'
    return text


def _escape(char):
    code = ord(char)
    if code < 0x100:
        return '\\x%02x' % code
    if code < 0x10000:
        return '\\u%04x' % code
    return '\\U%08x' % code


def visible(text):
    """A name as the server gave it, with each non-printable character written as a visible escape (``\\x1b``,
    ``\\u202e``, ``\\x0a``); printable names are returned unchanged. Names are identities, so nothing is
    dropped: two names that differ only in a control character stay different."""
    if not isinstance(text, str) or text.isprintable():
        return text
    return ''.join(char if _printable(char) else _escape(char) for char in text)


class Scrubber(object):
    """Masks the token and every secret of this run; one per client. Secrets are added as they are minted."""

    def __init__(self, token=None):
        self._values = set()
        self.add(token)

    def add(self, value):
        if isinstance(value, str) and len(value) >= MIN_MASKED_LENGTH:
            self._values.add(value)

    def text(self, text):
        """``text`` with every known value masked, folded to one printable line."""
        text = one_line(text)
        # Longest first: a secret that contains another is masked whole.
        for value in sorted(self._values, key=len, reverse=True):
            text = text.replace(value, MASK)
        return text

    def mask(self, text):
        """``text`` with every known value masked, otherwise unchanged (for data, not messages)."""
        for value in sorted(self._values, key=len, reverse=True):
            text = text.replace(value, MASK)
        return text

    def result(self, value, key=None):
        """A module result with every string masked, except the ``secret`` return values that carry the secrets
        to their owner. ``msg`` and the ``failures`` lines are also folded to one printable line."""
        if key == 'secret':
            return value
        if isinstance(value, dict):
            return dict((name, self.result(item, name)) for name, item in value.items())
        if isinstance(value, (list, tuple)):
            return [self.result(item, 'failures' if key == 'failures' else None) for item in value]
        if isinstance(value, str):
            return self.text(value) if key in ('msg', 'failures') else self.mask(value)
        return value
