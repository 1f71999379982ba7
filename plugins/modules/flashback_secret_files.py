#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Flashback platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: flashback_secret_files
short_description: Write new Flashback API key secrets to private files
version_added: 1.0.0
description:
  - Writes one JSON file per entry of O(secrets) (the C(new_secrets) that M(flashback.platform.flashback_repo_apikeys)
    returns) to C(<path>/<encoded repo_id>/<encoded name>.json), with the fields C(id), C(name), C(repo_id),
    C(repo_name), C(key) and C(secret). A file carries no access level (a key's access changes in place, so a
    copy in the file would go stale). The P(flashback.platform.repo_apikeys#role) role runs it when
    C(flashback_repo_apikeys_secrets_dir) is set.
  - "File names encode the repository ID and the key name readably, and so that two different values never share a
    file, also on case-insensitive file systems (the macOS default). ASCII letters, digits, C(-), C(_) and C(.) are
    kept (a leading C(.) is not); every other byte of the UTF-8 form becomes C(%) and two uppercase hexadecimal
    digits. A value with uppercase letters gets C(~) and their positions, so that the lowercased name still tells
    them apart. C(ci-reader) stays C(ci-reader), C(svc_backup.prod) stays C(svc_backup.prod), C(GitHub-Actions)
    becomes C(GitHub-Actions~0.3.7), C(svc/one) C(svc%2Fone) and C(..) C(%2E.). An encoded name never contains C(/)
    or starts with C(.), so it cannot leave its directory."
  - Refuses, before writing anything, an empty repository ID or name, an encoded name over 200 bytes, and two entries
    for the same repository and name (they would share a file; pass each key once).
  - Also before writing anything, O(path) and each repository directory must be a real directory (not a symbolic link)
    owned by the user the module runs as and not writable by group or others; missing ones are created with mode
    C(0700) (missing parents of O(path) too).
  - Each file is created under a temporary name in its directory with mode C(0600) from its first byte (whatever the
    umask), written, flushed to disk and renamed onto its final name, so readers never see half a file. A symbolic
    link at the final name is replaced, never followed. A write that fails removes its temporary file and fails the
    module, naming the files written before it.
  - Idempotent. A file that already holds the same content, with mode C(0600) and owned by the user the module runs
    as, is left alone; a rerun with the same secrets writes nothing.
  - With O(vault_password_file) or O(vault_id), each file is an ansible-vault file (C(AES256)) whose plaintext is that
    JSON, readable with C(ansible-vault view) and M(ansible.builtin.include_vars). The action plugin encrypts on the
    controller, so the password never reaches the module. An encrypted file whose plaintext is already the same is left
    alone when the module runs on the controller (delegated to C(localhost), as the role runs it); elsewhere it is
    encrypted and written again.
  - Results, messages and errors name files, never their content.
author:
  - Flashback platform team (@flashbacknetwork)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Runs every check and reports in RV(files) and C(changed) what would be written; creates and writes nothing.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  path:
    description:
      - The secrets directory, on the host the module runs on (the controller when delegated to C(localhost)).
      - Its last component must not be a symbolic link; links higher up in the path are followed.
    type: path
    required: true
  secrets:
    description:
      - The secrets to write, one file each. Pass each repository and name once.
      - Only O(secrets[].secret) is hidden from the task's output; the other fields are not secret.
    type: list
    elements: dict
    required: true
    suboptions:
      repo_id:
        description: ID of the key's repository; encoded, it names the file's directory.
        type: str
        required: true
      name:
        description: Name of the key; encoded, plus C(.json), it names the file.
        type: str
        required: true
      repo_name:
        description: Name of the repository, when known.
        type: str
      id:
        description: ID of the key.
        type: str
      key:
        description: The access key ID.
        type: str
      access:
        description: Access level of the key.
        type: str
      secret:
        description:
          - The key's one-time secret. Required to write a file; in check mode the files are planned from
            O(secrets[].repo_id) and O(secrets[].name) alone.
          - With O(vault_password_file) or O(vault_id), the action plugin encrypts it on the controller and passes the
            module only the encrypted file, never this field.
        type: str
  vault_password_file:
    description:
      - Encrypt each file with ansible-vault, with the password in this file on the controller (an executable file is
        run and its output used, as with C(ansible-vault --vault-password-file)).
      - The password is read when the task runs, also in check mode, so a missing or unreadable file fails before
        anything is written.
    type: path
  vault_id:
    description:
      - The vault ID the files are encrypted for (the label in their C($ANSIBLE_VAULT;1.2;AES256;<id>) header).
      - Without O(vault_password_file), the password is the one Ansible was given for this ID (C(--vault-id
        <id>@<source>), or a vault credential in AWX).
    type: str
  _contents:
    description:
      - Internal. The action plugin sets it to the encrypted files, in the order of O(secrets); do not set it.
    type: list
    elements: str
seealso:
  - module: flashback.platform.flashback_repo_apikeys
  - plugin: ansible.builtin.vault
    plugin_type: filter
'''

EXAMPLES = r'''
- name: Converge the keys of two repositories
  flashback.platform.flashback_repo_apikeys:
    api_token: "{{ flashback_token }}"
    apikeys:
      - {repo_name: backups, name: ci-reader}
      - {repo_id: r2, name: ingest, access: WRITE}
  register: fleet
  no_log: true  # the result holds every new secret
  # A failed run still returns the secrets of the keys it created: write them before failing.
  ignore_errors: true

- name: Write each new secret to its own 0600 file, e.g. /etc/flashback/secrets/r2/ingest.json
  flashback.platform.flashback_secret_files:
    path: /etc/flashback/secrets
    secrets: "{{ fleet.new_secrets | default([]) }}"
  register: secret_files
  no_log: true

- name: Fail if the converge failed
  ansible.builtin.fail:
    msg: "{{ fleet.msg }}"
  when: fleet is failed

- name: Show where the new secrets are
  ansible.builtin.debug:
    msg: "{{ secret_files.files | map(attribute='path') | list }}"

- name: Also write them ansible-vault encrypted (read them with ansible-vault view or include_vars)
  flashback.platform.flashback_secret_files:
    path: /etc/flashback/vaulted
    secrets: "{{ fleet.new_secrets | default([]) }}"
    vault_password_file: /etc/flashback/vault-password
  delegate_to: localhost
  no_log: true
'''

RETURN = r'''
files:
  description:
    - One entry per secret, in the order of O(secrets); in check mode, the files that would be written.
    - When a write fails after others succeeded, the failure carries RV(files) too, each entry with C(written) (the
      file holds its secret, written before the failure or already current), so that a caller can tell which
      secrets this delivery reached.
  returned: always
  type: list
  elements: dict
  contains:
    repo_id:
      description: ID of the repository, as passed.
      type: str
      sample: r2
    name:
      description: Name of the key, as passed.
      type: str
      sample: ingest
    id:
      description: ID of the key, as passed (V(null) when not passed).
      type: str
      sample: 5d0f4c8e-2a7b-4b8e-9a51-0c3b1f0e7a21
    path:
      description: The file's path.
      type: str
      sample: /etc/flashback/secrets/r2/ingest.json
    changed:
      description: Whether the file was (in check mode, would be) written.
      type: bool
      sample: true
'''

import os
import stat

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.flashback.platform.plugins.module_utils._secret_files import (
    ARGUMENT_SPEC,
    SecretFilesError,
    plan_files,
    render,
)

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600
_CLOEXEC = getattr(os, 'O_CLOEXEC', 0)


def _failed(action, path, exc):
    # strerror only: str(OSError) would repeat the file name in another format. Neither ever holds file content.
    return SecretFilesError('could not %s %s: %s' % (action, path, exc.strerror or exc))


def _check_directory(path, st):
    """Refuse a directory others could write to or swap; ``st`` is from lstat or fstat."""
    if stat.S_ISLNK(st.st_mode):
        raise SecretFilesError('secrets directory %s is a symbolic link: give the directory it points to, or choose '
                               'another directory' % path)
    if not stat.S_ISDIR(st.st_mode):
        raise SecretFilesError('secrets directory %s exists and is not a directory' % path)
    if st.st_uid != os.geteuid():
        raise SecretFilesError('secrets directory %s is owned by uid %d, not by you (uid %d): choose another directory'
                               % (path, st.st_uid, os.geteuid()))
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise SecretFilesError('secrets directory %s is writable by group or others (mode %04o): chmod go-w %s, or '
                               'choose another directory' % (path, stat.S_IMODE(st.st_mode), path))


def _lstat(name, dir_fd, path):
    """lstat ``name`` (in ``dir_fd`` when given); None when it does not exist."""
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _failed('inspect', path, exc)


def _open_directory(name, dir_fd, path):
    """Open a checked directory without following a link at its last component; checks what was opened."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | _CLOEXEC, dir_fd=dir_fd)
    except OSError as exc:
        raise _failed('open', path, exc)
    try:
        _check_directory(path, os.fstat(fd))
    except SecretFilesError:
        os.close(fd)
        raise
    return fd


def _make_directory(name, dir_fd, path):
    """Create a directory with mode 0700 exactly (a mkdir mode is masked by the umask) and open it."""
    try:
        os.mkdir(name, DIRECTORY_MODE, dir_fd=dir_fd)
    except FileExistsError:
        pass  # created meanwhile: _open_directory checks it like any existing one
    except OSError as exc:
        raise _failed('create', path, exc)
    fd = _open_directory(name, dir_fd, path)
    try:
        os.fchmod(fd, DIRECTORY_MODE)
    except OSError as exc:
        os.close(fd)
        raise _failed('chmod', path, exc)
    return fd


def _make_parents(path):
    """Create the missing parents of the secrets directory, mode 0700, as ansible.builtin.file would."""
    missing = []
    parent = os.path.dirname(path)
    while parent and not os.path.lexists(parent):
        missing.append(parent)
        parent = os.path.dirname(parent)
    for directory in reversed(missing):
        try:
            os.mkdir(directory, DIRECTORY_MODE)
            os.chmod(directory, DIRECTORY_MODE)
        except FileExistsError:
            pass
        except OSError as exc:
            raise _failed('create', directory, exc)


def _is_current(name, dir_fd, st, content):
    """Whether the existing entry is our regular 0600 file with exactly ``content``."""
    if (st is None or not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid()
            or stat.S_IMODE(st.st_mode) != FILE_MODE or st.st_size != len(content)):
        return False
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | _CLOEXEC, dir_fd=dir_fd)
    with os.fdopen(fd, 'rb') as existing:
        return existing.read(len(content) + 1) == content


def _write(name, dir_fd, path, content):
    """Write ``content`` to a new 0600 temporary file in ``dir_fd``, sync it, rename it onto ``name``."""
    while True:
        # Never an encoded name: those have no ".".
        temp = '.tmp-%s' % os.urandom(8).hex()
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | _CLOEXEC, FILE_MODE,
                         dir_fd=dir_fd)
            break
        except FileExistsError:
            continue
        except OSError as exc:
            raise _failed('create a temporary file for', path, exc)
    try:
        with os.fdopen(fd, 'wb') as handle:
            os.fchmod(handle.fileno(), FILE_MODE)  # the open mode was masked by the umask; no wider, but exact
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        # rename(2) replaces whatever the name is, a symbolic link included, and never follows it.
        os.replace(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except OSError as exc:
        try:
            os.unlink(temp, dir_fd=dir_fd)
        except OSError:
            pass
        raise _failed('write', path, exc)


def _in_place(files, written):
    """``files`` of a failed run, each with ``written``: whether the file now holds its secret (written before the
    failure, or already current), so that a caller knows which secrets this delivery did reach."""
    return [dict(entry, written=entry['path'] in written or not entry['changed']) for entry in files]


def write_secret_files(path, secrets, check_mode, contents=None):
    """Check everything, then write what differs; returns ``dict(changed, files)``.

    ``contents``: each file's bytes in the order of ``secrets`` (encrypted by the action plugin); default: render().
    """
    if not path:
        raise SecretFilesError('path is empty: give the secrets directory')
    planned = plan_files(secrets)
    if contents is None:
        missing = [number for number, secret in enumerate(secrets, 1) if not secret.get('secret')]
        if missing and not check_mode:
            raise SecretFilesError('secret %d has no secret; nothing was written' % missing[0])
        contents = [render(secret) for secret in secrets]
    elif len(contents) != len(secrets):
        raise SecretFilesError('got %d encrypted contents for %d secrets; nothing was written'
                               % (len(contents), len(secrets)))
    path = path.rstrip(os.sep) or os.sep  # a trailing "/" would make lstat follow a link
    repo_dirs = []
    for _secret, directory, _file_name in planned:
        if directory not in repo_dirs:
            repo_dirs.append(directory)

    fds = {}  # None: the secrets directory; else a repository directory name. Only directories that exist.
    try:
        # Checks first, every one of them, before anything is created or written.
        root_st = _lstat(path, None, path)
        if root_st is not None:
            _check_directory(path, root_st)
            fds[None] = _open_directory(path, None, path)
            for directory in repo_dirs:
                dir_path = os.path.join(path, directory)
                st = _lstat(directory, fds[None], dir_path)
                if st is not None:
                    _check_directory(dir_path, st)
                    fds[directory] = _open_directory(directory, fds[None], dir_path)

        files, to_write = [], []
        for (secret, directory, file_name), content in zip(planned, contents):
            file_path = os.path.join(path, directory, file_name)
            if not isinstance(content, bytes):
                content = content.encode('utf-8')
            st = _lstat(file_name, fds[directory], file_path) if directory in fds else None
            if st is not None and not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
                raise SecretFilesError('%s exists and is not a file: move it away; nothing was written' % file_path)
            try:
                changed = not (directory in fds and _is_current(file_name, fds[directory], st, content))
            except OSError as exc:
                raise _failed('read', file_path, exc)
            files.append(dict(repo_id=secret['repo_id'], name=secret['name'], id=secret.get('id'), path=file_path,
                              changed=changed))
            if changed:
                to_write.append((directory, file_name, file_path, content))

        if check_mode or not to_write:
            return dict(changed=bool(to_write), files=files)

        if None not in fds:
            _make_parents(path)
            fds[None] = _make_directory(path, None, path)
        written = []
        try:
            for directory, file_name, file_path, content in to_write:
                if directory not in fds:
                    fds[directory] = _make_directory(directory, fds[None], os.path.join(path, directory))
                _write(file_name, fds[directory], file_path, content)
                written.append(file_path)
            for fd in fds.values():
                os.fsync(fd)  # the renames and new directories, on disk
        except SecretFilesError as exc:
            raise SecretFilesError('%s (%d of %d files written before: %s)'
                                   % (exc.message, len(written), len(to_write), ', '.join(written) or 'none'),
                                   changed=bool(written), written=written, files=_in_place(files, written))
        except OSError as exc:
            # Every file was renamed into place; only the directories' sync failed.
            raise SecretFilesError('could not sync %s to disk: %s' % (path, exc.strerror or exc),
                                   changed=True, written=written, files=_in_place(files, written))
        return dict(changed=True, files=files)
    finally:
        for fd in fds.values():
            os.close(fd)


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        supports_check_mode=True,
    )
    if (module.params['vault_password_file'] or module.params['vault_id']) and module.params['_contents'] is None:
        module.fail_json(msg='vault_password_file and vault_id need the action plugin flashback.platform.'
                             'flashback_secret_files: call the module by that name, not through another action')
    try:
        result = write_secret_files(module.params['path'], module.params['secrets'], module.check_mode,
                                    module.params['_contents'])
    except SecretFilesError as exc:
        module.fail_json(**exc.fail_kwargs())
    module.exit_json(**result)


if __name__ == '__main__':
    main()
