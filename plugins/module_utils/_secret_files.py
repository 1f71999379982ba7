# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Flashback platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a secret file is: its name (an injective encoding) and its bytes. Shared by the module
``flashback_secret_files``, which writes the files, and its action plugin, which encrypts them with
ansible-vault on the controller."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.flashback.platform.plugins.module_utils._errors import FlashbackError

SECRET_SPEC = dict(
    repo_id=dict(type='str', required=True),
    name=dict(type='str', required=True),
    repo_name=dict(type='str'),
    id=dict(type='str'),
    key=dict(type='str', no_log=False),
    access=dict(type='str'),
    # Not required: a check-mode run plans the files from repo_id and name alone, and in vault mode the action plugin
    # passes the encrypted contents instead (no plaintext reaches the module).
    secret=dict(type='str', no_log=True),
)
# The module's options, also checked by its action plugin before it encrypts anything.
ARGUMENT_SPEC = dict(
    path=dict(type='path', required=True),
    # Only the secret field is no_log: a no_log list would mask every ID and name in the result's paths.
    secrets=dict(type='list', elements='dict', required=True, no_log=False, options=SECRET_SPEC),
    vault_password_file=dict(type='path', no_log=False),
    vault_id=dict(type='str'),
    # Set by the action plugin only: the encrypted files, in the order of secrets.
    _contents=dict(type='list', elements='str', no_log=True),
)
# No access field: PUT changes a key's access in place without a new secret, so a file's copy would go stale.
FIELDS = ('id', 'name', 'repo_id', 'repo_name', 'key', 'secret')
# Kept as they are: what a key or repository name is usually made of. Every other byte of the UTF-8 form is "%"
# and two uppercase hex digits ("%" and "~" too), and so is a leading "." (no name is ".", ".." or hidden).
KEPT_BYTES = frozenset(bytearray(b'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.'))
MAX_ENCODED_BYTES = 200


class SecretFilesError(FlashbackError):
    """A refusal or a failed write; the message names files and entries, never a secret."""


def encode(text):
    """The file-name form of a repository ID or key name: readable, and injective also once case is folded.

    A name with uppercase letters gets "~" and the positions of those letters in the encoded name
    (``GitHub-Actions`` is ``GitHub-Actions~0.3.7``): the lowercased file name still says which letters were
    uppercase, so two names that differ only in case never share a file on a case-insensitive file system.
    """
    out = []
    upper = []
    for index, byte in enumerate(bytearray(text.encode('utf-8', 'surrogatepass'))):
        if byte in KEPT_BYTES and not (index == 0 and byte == ord('.')):
            if ord('A') <= byte <= ord('Z'):
                upper.append(len(''.join(out)))
            out.append(chr(byte))
        else:
            out.append('%%%02X' % byte)
    encoded = ''.join(out)
    return encoded + ('~' + '.'.join(str(position) for position in upper) if upper else '')


def render(secret):
    """The file's bytes: the documented fields, sorted, as indented JSON."""
    return (json.dumps(dict((field, secret.get(field)) for field in FIELDS), indent=4, sort_keys=True)
            + '\n').encode('utf-8')


def plan_files(secrets):
    """``(secret, directory name, file name)`` per secret; refuses empty or long names and shared files."""
    planned = []
    seen = {}
    for number, secret in enumerate(secrets, 1):
        names = []
        for field in ('repo_id', 'name'):
            if not secret.get(field):
                raise SecretFilesError('secret %d has no %s; nothing was written' % (number, field))
            encoded = encode(secret[field])
            if len(encoded) > MAX_ENCODED_BYTES:
                raise SecretFilesError('secret %d: %s %r is %d bytes once encoded for a file name, over %d; nothing '
                                       'was written' % (number, field, secret[field], len(encoded), MAX_ENCODED_BYTES))
            names.append(encoded)
        directory, file_name = names[0], names[1] + '.json'
        # The encoding is injective, so two entries share a file only when they repeat a repository and name.
        shared = (directory.lower(), file_name.lower())  # what a case-insensitive file system compares
        if shared in seen:
            raise SecretFilesError('secrets %d and %d both go to %s/%s (repository %r, name %r): pass each key '
                                   'once; nothing was written'
                                   % (seen[shared], number, directory, file_name,
                                      secret['repo_id'], secret['name']))
        seen[shared] = number
        planned.append((secret, directory, file_name))
    return planned
