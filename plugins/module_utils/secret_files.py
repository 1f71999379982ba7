# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Flashback platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a secret file is: its name (an injective encoding) and its bytes. Shared by the module
``flashback_secret_files``, which writes the files, and its action plugin, which encrypts them with
ansible-vault on the controller."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.flashback.platform.plugins.module_utils.errors import FlashbackError

SECRET_SPEC = dict(
    repo_id=dict(type='str', required=True),
    name=dict(type='str', required=True),
    repo_name=dict(type='str'),
    id=dict(type='str'),
    key=dict(type='str', no_log=False),
    access=dict(type='str'),
    secret=dict(type='str', required=True, no_log=True),
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
FIELDS = ('id', 'name', 'repo_id', 'repo_name', 'access', 'key', 'secret')
# Kept as they are; every other byte is escaped. Uppercase letters are escaped too, so that names differing only in
# case stay different files on case-insensitive file systems. No "." is kept: no name is ".", ".." or hidden.
KEPT_BYTES = frozenset(bytearray(b'abcdefghijklmnopqrstuvwxyz0123456789-'))
MAX_ENCODED_BYTES = 200


class SecretFilesError(FlashbackError):
    """A refusal or a failed write; the message names files and entries, never a secret."""


def encode(text):
    """The file-name form of a repository ID or key name: injective, also once case is folded."""
    return ''.join(chr(byte) if byte in KEPT_BYTES else '_%02X' % byte
                   for byte in bytearray(text.encode('utf-8', 'surrogatepass')))


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
        if (directory, file_name) in seen:
            raise SecretFilesError('secrets %d and %d both go to %s/%s (repository %r, name %r): pass each key '
                                   'once; nothing was written'
                                   % (seen[(directory, file_name)], number, directory, file_name,
                                      secret['repo_id'], secret['name']))
        seen[(directory, file_name)] = number
        planned.append((secret, directory, file_name))
    return planned
