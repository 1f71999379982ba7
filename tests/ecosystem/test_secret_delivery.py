"""Encrypted secret files as their readers open them: the repo_apikeys role writes them, then the real
`ansible-vault view` and a play's `include_vars` (which needs the vault password Ansible itself was given,
something an ansible-test integration target cannot pass) read them back.

Also the vault ID path: with only `flashback_repo_apikeys_secrets_vault_id`, the password is the one given to
ansible-playbook with `--vault-id ID@FILE` (what an AWX vault credential does); without it, the role fails
before it creates any key.
"""

from __future__ import annotations

import json

import pytest

from conftest import ADMIN_TOKEN, ansible_env, live_keys, run, write_inventory

PASSWORD = 'ecosystem-vault-password\n'


def playbook(tmp_path, role_vars, extra_plays=()):
    plays = [{'name': 'Converge', 'hosts': 'localhost', 'gather_facts': False,
              'roles': [{'role': 'flashback.platform.repo_apikeys', 'vars': role_vars}]}]
    plays.extend(extra_plays)
    path = tmp_path / 'playbook.yml'
    path.write_text(json.dumps(plays))  # JSON is YAML
    return path


def run_playbook(tmp_path, emulator, path, *options, **env):
    environment = ansible_env(tmp_path, FLASHBACK_API_URL=emulator.url, FLASHBACK_API_TOKEN=ADMIN_TOKEN, **env)
    inventory = write_inventory(tmp_path / 'inventory.ini')
    result = run(['ansible-playbook', '-v', '-i', inventory, *options, path], env=environment, cwd=tmp_path)
    output = result.stdout + result.stderr
    leaked = [secret for secret in emulator.backend.issued_secrets() if secret in output]
    assert not leaked, 'a secret was printed:\n' + output
    return result, output, environment


@pytest.fixture
def password_file(tmp_path):
    path = tmp_path / 'vault-password'
    path.write_text(PASSWORD)
    path.chmod(0o600)
    return path


def test_role_writes_files_that_include_vars_and_ansible_vault_open(tmp_path, emulator, installed_collection,
                                                                    password_file):  # pylint: disable=unused-argument
    secrets_dir = tmp_path / 'secrets'
    read_back = {'name': 'Read the encrypted file back', 'hosts': 'localhost', 'gather_facts': False, 'tasks': [
        {'name': 'Load it', 'no_log': True,
         'ansible.builtin.include_vars': {'file': str(secrets_dir / 'r1' / 'ci.json'), 'name': 'loaded'}},
        {'name': 'Copy what include_vars decrypted', 'ansible.builtin.copy': {
            'dest': str(tmp_path / 'loaded.json'), 'content': '{{ loaded | to_json }}', 'mode': '0600'},
         'no_log': True}]}
    path = playbook(tmp_path, {'flashback_repo_apikeys': [{'repo_id': 'r1', 'name': 'ci'}],
                               'flashback_repo_apikeys_secrets_dir': str(secrets_dir),
                               'flashback_repo_apikeys_secrets_vault_password_file': str(password_file)},
                    [read_back])
    # include_vars decrypts with the password Ansible was given, here through the environment.
    result, output, environment = run_playbook(tmp_path, emulator, path,
                                               ANSIBLE_VAULT_PASSWORD_FILE=str(password_file))
    assert result.returncode == 0, output
    key = live_keys(emulator, 'r1')['ci']
    on_disk = (secrets_dir / 'r1' / 'ci.json').read_text()
    assert on_disk.startswith('$ANSIBLE_VAULT;1.1;AES256\n') and key['secret'] not in on_disk
    assert json.loads((tmp_path / 'loaded.json').read_text())['secret'] == key['secret']

    view = run(['ansible-vault', 'view', '--vault-password-file', password_file, secrets_dir / 'r1' / 'ci.json'],
               env=environment)
    assert view.returncode == 0, view.stderr
    opened = json.loads(view.stdout)
    assert (opened['id'], opened['name'], opened['repo_id'], opened['secret']) == (key['id'], 'ci', 'r1', key['secret'])


def test_vault_id_uses_the_password_given_to_ansible(tmp_path, emulator, installed_collection,
                                                     password_file):  # pylint: disable=unused-argument
    secrets_dir = tmp_path / 'secrets'
    path = playbook(tmp_path, {'flashback_repo_apikeys': [{'repo_id': 'r2', 'name': 'uploader'}],
                               'flashback_repo_apikeys_secrets_dir': str(secrets_dir),
                               'flashback_repo_apikeys_secrets_vault_id': 'fleet'})
    result, output, environment = run_playbook(tmp_path, emulator, path, '--vault-id', 'fleet@%s' % password_file)
    assert result.returncode == 0, output
    file_path = secrets_dir / 'r2' / 'uploader.json'
    assert file_path.read_text().startswith('$ANSIBLE_VAULT;1.2;AES256;fleet\n')
    view = run(['ansible-vault', 'view', '--vault-id', 'fleet@%s' % password_file, file_path], env=environment)
    assert view.returncode == 0, view.stderr
    assert json.loads(view.stdout)['secret'] == live_keys(emulator, 'r2')['uploader']['secret']

    # A rerun with the same secrets would keep the file: nothing is due, so nothing is written at all.
    before = file_path.read_bytes()
    result, output, dummy = run_playbook(tmp_path, emulator, path, '--vault-id', 'fleet@%s' % password_file)
    assert result.returncode == 0 and file_path.read_bytes() == before, output


def test_vault_id_without_its_password_fails_before_any_key(tmp_path, emulator,
                                                            installed_collection):  # pylint: disable=unused-argument
    path = playbook(tmp_path, {'flashback_repo_apikeys': [{'repo_id': 'r1', 'name': 'never'}],
                               'flashback_repo_apikeys_secrets_dir': str(tmp_path / 'secrets'),
                               'flashback_repo_apikeys_secrets_vault_id': 'fleet'})
    result, output, dummy = run_playbook(tmp_path, emulator, path)
    assert result.returncode != 0
    assert "no vault password for vault_id 'fleet': run ansible with --vault-id fleet@" in output
    assert 'never' not in live_keys(emulator, 'r1')
    assert not (tmp_path / 'secrets' / 'r1').exists()


def test_module_options_are_checked_before_encrypting(tmp_path, emulator, installed_collection,
                                                      password_file):  # pylint: disable=unused-argument
    """The action plugin checks the module's options first: the module's own messages, never a traceback."""
    task = {'name': 'Encrypt without a path', 'flashback.platform.flashback_secret_files': {
        'secrets': [{'repo_id': 'r1', 'name': 'x', 'secret': 'not-printed-secret'}],
        'vault_password_file': str(password_file)}, 'ignore_errors': True, 'register': 'outcome'}
    show = {'name': 'Show the outcome', 'ansible.builtin.debug': {'msg': '{{ outcome | to_json }}'}}
    path = tmp_path / 'playbook.yml'
    path.write_text(json.dumps([{'name': 'Bad options', 'hosts': 'localhost', 'gather_facts': False,
                                 'tasks': [task, show]}]))
    result, output, dummy = run_playbook(tmp_path, emulator, path)
    assert result.returncode == 0, output
    assert 'missing required arguments: path' in output
    # ansible-core 2.19 adds "exception": "(traceback unavailable)" to every failed result; no real one here.
    assert 'Traceback (most recent call last)' not in output
    assert 'not-printed-secret' not in output
