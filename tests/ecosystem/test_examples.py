"""Every documented example runs: module EXAMPLES blocks and the playbooks in the docs.

Collected examples:
- the EXAMPLES block of every module in plugins/modules/, run as the tasks of one play on localhost;
- every YAML code block in README.md, roles/*/README.md, docs/*.md and the docs site guides
  (docs/docsite/rst/*.rst) that is a complete playbook (a list of plays with ``hosts``), or a list of
  tasks that uses the collection (run as the tasks of one play on localhost). Other YAML blocks (option
  snippets, extra variables) are not collected.

Each example runs with ansible-playbook -v (every task result shown), and fails if the token or any
secret the emulator issued appears in the output: the leak audit of the documented examples. It runs against the installed build of the collection, on a fresh
emulator. The harness changes only what has to point elsewhere here, and prints every change it makes
(see the test output with -v, and tests/ecosystem/README.md):
- ``api_url`` wherever it is set (task options, module_defaults) -> the emulator's URL; the environment
  also gets FLASHBACK_API_URL, for examples that rely on the default URL.
- absolute file destinations (``dest``, ``path``, ``flashback_repo_apikeys_secrets_dir``) such as
  /etc/ci/... -> the same path under a temp dir, whose parent directories the harness creates.
- the variables examples take from the reader (token variables, IDs of keys they act on) are passed
  with -e: see EXAMPLE_VARS and PRECONDITIONS.
- some examples act on keys that must exist first: PRECONDITIONS seeds them into the emulator, and
  checks afterwards that the example did what it says.
A block that cannot run here at all (it needs an AWX server) is listed in NOT_RUNNABLE with
the reason; the test output names each one, and NOT_RUNNABLE entries must still match a block.
"""

from __future__ import annotations

import ast
import json
import re
import stat

import pytest
import yaml
from ansible.parsing.vault import VaultLib, VaultSecret

from conftest import ADMIN_TOKEN, ROOT, ansible_env, live_keys, run, write_inventory

MODULES = sorted((ROOT / 'plugins' / 'modules').glob('*.py'))
DOC_FILES = ([ROOT / 'README.md'] + sorted(ROOT.glob('roles/*/README.md')) + sorted(ROOT.glob('docs/*.md'))
             + sorted(ROOT.glob('docs/docsite/rst/*.rst')))

# Variables the examples expect the reader to have (a vault, inventory vars): all the admin token.
TOKEN_VARS = ('flashback_token', 'vault_flashback_token', 'flashback_api_token')
REROOTED_OPTIONS = ('dest', 'path', 'flashback_repo_apikeys_secrets_dir', 'vault_password_file')
INGEST_KEY_ID = '5b1f2c3d-0000-4000-8000-00000000a001'
VAULT_PASSWORD = 'examples-vault-password'
# (file, text the block contains) -> why it cannot run here.
NOT_RUNNABLE = {
    ('docs/docsite/rst/awx.rst', 'awx.awx.credential_type'):
        'configures an AWX server (awx.awx modules); the credential type files it loads are checked by '
        'test_awx_job.py::test_credential_type_shape and used by its ansible-runner jobs',
}


def _check_apikey_module(emu, sandbox):
    r1, r2 = live_keys(emu, 'r1'), live_keys(emu, 'r2')
    assert r1['ci-reader']['accessType'] == 'READ'
    secret_file = sandbox / 'etc' / 'ci' / 'flashback-key.json'
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert json.loads(secret_file.read_text()) == {'key': r1['ci-reader']['key'], 'secret': r1['ci-reader']['secret']}
    # The ingest key got WRITE access and its new name in place, then "Replace a leaked key now" rotated
    # it: a new key (new ID) with the same name and access, and the old ID gone. The retired key is gone.
    assert r2['ingest-service']['accessType'] == 'WRITE', r2
    assert r2['ingest-service']['id'] != INGEST_KEY_ID, r2
    assert INGEST_KEY_ID not in [key['id'] for key in r2.values()], r2
    assert 'legacy-uploader' not in r2, r2


def _check_secret_files(emu, sandbox):
    r1, r2 = live_keys(emu, 'r1'), live_keys(emu, 'r2')
    secrets_dir = sandbox / 'etc' / 'flashback' / 'secrets'
    for path, key in ((secrets_dir / 'r1' / 'ci-reader.json', r1['ci-reader']),
                      (secrets_dir / 'r2' / 'ingest.json', r2['ingest'])):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert json.loads(path.read_text())['secret'] == key['secret']
    assert stat.S_IMODE(secrets_dir.stat().st_mode) == 0o700
    # The encrypted copy, opened with the password the precondition wrote.
    vault = VaultLib([('default', VaultSecret(VAULT_PASSWORD.encode()))])
    for path, key in ((sandbox / 'etc' / 'flashback' / 'vaulted' / 'r1' / 'ci-reader.json', r1['ci-reader']),
                      (sandbox / 'etc' / 'flashback' / 'vaulted' / 'r2' / 'ingest.json', r2['ingest'])):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert json.loads(vault.decrypt(path.read_bytes()))['secret'] == key['secret']


def _check_unchanged(expected_keys):
    def check(emu, sandbox):  # pylint: disable=unused-argument
        state = {(k['repo_id'], k['name'], k['accessType']) for k in emu.backend.state()['keys'] if not k['deleted']}
        assert state == expected_keys
    return check


# Per example: keys seeded before it runs, extra variables, and a check of its effect afterwards.
PRECONDITIONS = {
    'module flashback_repo_apikey': {
        'keys': [
            # "Ensure the ingest key can write" then raises it to WRITE; "Rename a key by its ID" renames it.
            {'repo_id': 'r2', 'name': 'ingest', 'accessType': 'READ', 'id': INGEST_KEY_ID},
            # "Delete the key of a retired service" has something to delete.
            {'repo_id': 'r2', 'name': 'legacy-uploader', 'accessType': 'WRITE'},
        ],
        'vars': {'ingest_key_id': INGEST_KEY_ID},
        'check': _check_apikey_module,
    },
    'module flashback_repo_apikey_info': {
        'keys': [{'repo_id': 'r1', 'name': 'seeded', 'accessType': 'READ'},
                 {'repo_id': 'r2', 'name': 'uploader', 'accessType': 'WRITE'}],
        'check': _check_unchanged({('r1', 'seeded', 'READ'), ('r2', 'uploader', 'WRITE')}),
    },
    'module flashback_secret_files': {'files': {'/etc/flashback/vault-password': VAULT_PASSWORD},
                                      'check': _check_secret_files},
    'module flashback_repo_apikey_plan': {
        # "Fail the pipeline when keys drifted" asserts no drift: the declared keys exist, nothing else.
        'keys': [{'repo_id': 'r1', 'name': 'ci-reader', 'accessType': 'READ'},
                 {'repo_id': 'r2', 'name': 'ingest', 'accessType': 'WRITE'}],
        'check': _check_unchanged({('r1', 'ci-reader', 'READ'), ('r2', 'ingest', 'WRITE')}),
    },
}


def module_examples(path):
    tree = ast.parse(path.read_text(encoding='utf-8'))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, 'id', None) == 'EXAMPLES' for t in node.targets):
            return node.value.value
    raise AssertionError('%s has no EXAMPLES' % path)


CODE_BLOCK_RE = {
    # ```yaml ... ``` in Markdown
    '.md': re.compile(r'^```ya?ml\s*\n(.*?)^```', re.M | re.S),
    # .. code-block:: yaml (or yaml+jinja), then a blank line and an indented block, in RST
    '.rst': re.compile(r'^\.\. code-block:: ya?ml(?:\+jinja)?\s*\n(?:[ \t]+:.*\n)*\s*\n((?:(?:[ \t]+.*)?\n)+)', re.M),
}


def doc_playbooks(path):
    """(line, kind, text) of every YAML block in a Markdown/RST file that is a playbook or tasks using us."""
    text = path.read_text(encoding='utf-8')
    for match in CODE_BLOCK_RE[path.suffix].finditer(text):
        block = match.group(1)
        if path.suffix == '.rst':
            indent = min(len(line) - len(line.lstrip()) for line in block.splitlines() if line.strip())
            block = '\n'.join(line[indent:] for line in block.splitlines()) + '\n'
        try:
            data = yaml.safe_load(block)
        except yaml.YAMLError:
            continue  # a fragment with placeholders, not a playbook
        if not isinstance(data, list) or not data or not all(isinstance(item, dict) for item in data):
            continue
        line = text.count('\n', 0, match.start()) + 1
        if all('hosts' in item for item in data):
            yield line, 'playbook', block
        elif not any('hosts' in item for item in data) and 'flashback.platform.' in block:
            yield line, 'tasks', block


def not_runnable(rel, block):
    return [why for (path, marker), why in NOT_RUNNABLE.items() if path == rel and marker in block]


def collect():
    cases = [pytest.param('module ' + p.stem, 'tasks', module_examples(p), id='module-' + p.stem) for p in MODULES]
    for path in DOC_FILES:
        if path.exists():
            rel = path.relative_to(ROOT).as_posix()
            for line, kind, block in doc_playbooks(path):
                if not not_runnable(rel, block):
                    cases.append(pytest.param('%s:%d' % (rel, line), kind, block, id='%s:%d' % (rel, line)))
    return cases


def test_not_runnable_blocks_exist():
    """Each NOT_RUNNABLE entry names a playbook block that exists: the list cannot hide a removed or new one."""
    for (rel, marker), why in NOT_RUNNABLE.items():
        blocks = [block for dummy, dummy_kind, block in doc_playbooks(ROOT / rel) if marker in block]
        assert len(blocks) == 1, '%s: %d playbook blocks contain %r' % (rel, len(blocks), marker)
        print('not run: the playbook in %s with %s: %s' % (rel, marker, why))


def rewrite(node, emulator_url, sandbox, changes):
    """Point api_url at the emulator and absolute destinations into the sandbox, recording each change."""
    if isinstance(node, list):
        return [rewrite(item, emulator_url, sandbox, changes) for item in node]
    if not isinstance(node, dict):
        return node
    result = {}
    for key, value in node.items():
        if key == 'api_url' and isinstance(value, str):
            changes.append('api_url: %s -> %s' % (value, emulator_url))
            value = emulator_url
        elif key in REROOTED_OPTIONS and isinstance(value, str) and value.startswith('/'):
            new = sandbox / value.lstrip('/')
            target_dir = new if key == 'flashback_repo_apikeys_secrets_dir' else new.parent
            target_dir.mkdir(parents=True, exist_ok=True)
            changes.append('%s: %s -> %s' % (key, value, new))
            value = str(new)
        else:
            value = rewrite(value, emulator_url, sandbox, changes)
        result[key] = value
    return result


HOOK_VALUE = re.compile(r'^\{\{ playbook_dir \}\}/([\w.-]+\.ya?ml)$')
# What an example's delivery hook file is replaced with: it records each secret it is given.
RECORDING_HOOK = [{'name': 'Record the delivered secret', 'no_log': True, 'ansible.builtin.copy': {
    'dest': "{{ playbook_dir }}/delivered/{{ flashback_new_secret.id }}.json",
    'content': '{{ flashback_new_secret | to_json }}', 'mode': '0600'}}]


def write_delivery_hooks(node, directory):
    """For each ``flashback_repo_apikeys_secret_tasks: "{{ playbook_dir }}/FILE"``, a recording hook at FILE."""
    found = []
    if isinstance(node, list):
        for item in node:
            found += write_delivery_hooks(item, directory)
    elif isinstance(node, dict):
        for key, value in node.items():
            match = HOOK_VALUE.match(value) if key == 'flashback_repo_apikeys_secret_tasks' and isinstance(value, str) \
                else None
            if match:
                (directory / 'delivered').mkdir(exist_ok=True)
                (directory / match.group(1)).write_text(yaml.safe_dump(RECORDING_HOOK))
                print('harness: %s is a hook that records each secret it is given' % match.group(1))
                found.append(match.group(1))
            elif key == 'flashback_repo_apikeys_secret_tasks':
                raise AssertionError('give the hook as "{{ playbook_dir }}/FILE.yml" in examples: %r' % value)
            else:
                found += write_delivery_hooks(value, directory)
    return found


def check_deliveries(emu, delivered):
    """The hook got every key's secret, each once: the key it names is live with that secret."""
    live = {key['id']: key for key in emu.backend.state()['keys'] if not key['deleted']}
    records = [json.loads(path.read_text()) for path in sorted(delivered.glob('*.json'))]
    assert records, 'the delivery hook of the example was given no secret'
    for record in records:
        assert live[record['id']]['secret'] == record['secret'], record['name']
    assert len(records) == len(emu.backend.issued_secrets()), 'a secret was issued but not delivered'


@pytest.mark.parametrize(('name', 'kind', 'text'), collect())
def test_example_runs(name, kind, text, emulator, installed_collection, tmp_path):  # pylint: disable=unused-argument
    pre = PRECONDITIONS.get(name, {})
    for key in pre.get('keys', []):
        emulator.backend.inject_key(key)
    sandbox = tmp_path / 'root'
    for name_on_host, content in pre.get('files', {}).items():  # files the example expects on the host
        path = sandbox / name_on_host.lstrip('/')
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        path.chmod(0o600)
    data = yaml.safe_load(text)
    if kind == 'tasks':
        data = [{'name': 'EXAMPLES of %s' % name, 'hosts': 'localhost', 'gather_facts': False, 'tasks': data}]
    changes = []
    data = rewrite(data, emulator.url, sandbox, changes)
    playbook = tmp_path / 'example.yml'
    playbook.write_text(yaml.safe_dump(data, sort_keys=False))
    extra_vars = {name: ADMIN_TOKEN for name in TOKEN_VARS}
    extra_vars['flashback_api_url'] = emulator.url
    extra_vars.update(pre.get('vars', {}))
    (tmp_path / 'vars.json').write_text(json.dumps(extra_vars))
    print('%s: harness changes: %s' % (name, '; '.join(changes) or 'none'))
    print('%s: variables: %s' % (name, ', '.join(sorted(extra_vars))))

    hooks = write_delivery_hooks(data, tmp_path)

    env = ansible_env(tmp_path, FLASHBACK_API_URL=emulator.url)
    inventory = write_inventory(tmp_path / 'inventory.ini')
    # At -v, which prints every task result (a superset of the default output): the leak audit of the examples.
    result = run(['ansible-playbook', '-v', '-i', inventory, '-e', '@%s' % (tmp_path / 'vars.json'), playbook],
                 env=env, cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, '%s failed:\n%s' % (name, output)
    recap = re.search(r'^localhost\s+: ok=(\d+)\s+changed=\d+\s+unreachable=(\d+)\s+failed=(\d+)', output, re.M)
    assert recap and recap.group(2) == '0' and recap.group(3) == '0', output
    assert int(recap.group(1)) > 0, 'no task ran:\n' + output
    assert ADMIN_TOKEN not in output, 'the token appears in the output of %s' % name
    leaked = [secret for secret in emulator.backend.issued_secrets() if secret in output]
    assert not leaked, '%s prints %d one-time secret(s) at -v: set no_log: true on the tasks that return them' % (
        name, len(leaked))
    if 'check' in pre:
        pre['check'](emulator, sandbox)
    if hooks:
        check_deliveries(emulator, tmp_path / 'delivered')


def test_every_module_has_examples():
    """Collected above only if it parses; a module without runnable EXAMPLES fails here."""
    assert MODULES, 'no modules found'
    for path in MODULES:
        tasks = yaml.safe_load(module_examples(path))
        assert isinstance(tasks, list) and tasks, '%s: EXAMPLES is not a list of tasks' % path.name
