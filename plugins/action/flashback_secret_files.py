# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Flashback platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of flashback_secret_files: ansible-vault encryption on the controller.

Without vault options it only runs the module. With them it loads the vault password here (it never
reaches the module), encrypts each file's JSON and hands the module the encrypted bytes to write with
its usual checks. A file that already decrypts to the same JSON keeps its bytes, so that a rerun
changes nothing (only when the module runs on the controller, where this plugin can read the file).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.parsing.vault import VaultLib, get_file_vault_secret
from ansible.plugins.action import ActionBase

from ansible_collections.flashback.platform.plugins.module_utils._secret_files import (
    ARGUMENT_SPEC,
    SecretFilesError,
    plan_files,
    render,
)

DEFAULT_VAULT_ID = 'default'


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        if args.get('vault_password_file') or args.get('vault_id'):
            try:
                # The module's own checks first, so that what is encrypted is what the module would write.
                dummy, valid = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
                args['_contents'] = self._encrypt(valid, valid['vault_password_file'], valid['vault_id'])
                # The module writes the encrypted bytes; the plaintext never reaches it (nor its logged arguments).
                args['secrets'] = [dict((field, value) for field, value in item.items() if field != 'secret')
                                   for item in valid['secrets']]
            except (AnsibleError, SecretFilesError, OSError, TypeError, ValueError) as exc:  # AnsibleActionFail too
                result.update(failed=True, msg=_message(exc))
                return result
        result.update(self._execute_module(module_name='flashback.platform.flashback_secret_files', module_args=args,
                                           task_vars=task_vars))
        return result

    def _encrypt(self, args, password_file, vault_id):
        secret = self._vault_secret(password_file, vault_id)
        vault_id = vault_id or DEFAULT_VAULT_ID
        vault = VaultLib([(vault_id, secret)])
        secrets = args['secrets']
        on_controller = self._connection.transport == 'local'
        contents = []
        for item, directory, file_name in plan_files(secrets):
            plaintext = render(item)
            existing = self._existing(os.path.join(args['path'], directory, file_name)) if on_controller else None
            if existing is not None and _decrypts_to(vault, existing, plaintext):
                contents.append(to_text(existing))
            else:
                # vault_id 'default' gives the 1.1 header that plain --vault-password-file readers expect.
                contents.append(to_text(vault.encrypt(plaintext, secret=secret,
                                                      vault_id=None if vault_id == DEFAULT_VAULT_ID else vault_id)))
        return contents

    def _vault_secret(self, password_file, vault_id):
        if password_file:
            path = os.path.expanduser(password_file)
            if not os.path.isfile(path):
                raise SecretFilesError('vault_password_file %s is not a file on the controller; no key file was '
                                       'written' % password_file)
            secret = get_file_vault_secret(filename=path, vault_id=vault_id or DEFAULT_VAULT_ID, loader=self._loader)
            secret.load()
            if not secret.bytes:
                raise SecretFilesError('vault_password_file %s is empty; no key file was written' % password_file)
            return secret
        # Only vault_id: the password Ansible itself was given for it (--vault-id ID@source, an AWX vault credential).
        vault = getattr(self._loader, '_vault', None)
        for known_id, secret in getattr(vault, 'secrets', None) or []:
            if known_id == vault_id:
                return secret
        raise SecretFilesError('no vault password for vault_id %r: run ansible with --vault-id %s@<password file or '
                               'prompt>, or set vault_password_file; no key file was written' % (vault_id, vault_id))

    @staticmethod
    def _existing(path):
        """The bytes of an existing regular file at ``path`` (never through a link), or None.

        Opened non-blocking and checked before reading: a FIFO at the name would otherwise block the open (and the
        play) forever; the module then refuses whatever is not a file.
        """
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, 'O_NOFOLLOW', 0) | getattr(os, 'O_NONBLOCK', 0))
        except OSError:
            return None
        try:
            regular = stat.S_ISREG(os.fstat(fd).st_mode)
        except OSError:
            regular = False
        if not regular:
            os.close(fd)
            return None
        with os.fdopen(fd, 'rb') as handle:
            return handle.read(1024 * 1024)


def _decrypts_to(vault, existing, plaintext):
    try:
        return vault.decrypt(existing) == plaintext
    except Exception:  # pylint: disable=broad-except
        return False  # not ours, another password, damaged: encrypt anew


def _message(exc):
    # AnsibleError messages of vault loading name the file, never the password.
    text = getattr(exc, 'message', None) or str(exc)
    return to_text(text).splitlines()[0] if text else exc.__class__.__name__
