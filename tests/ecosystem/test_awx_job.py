"""The AWX example job, run by ansible-runner (AWX's executor) the way AWX runs it.

AWX turns a job template launch into a private data dir and runs `ansible-runner` on it:
- project/: the synced project (here: awx/project/), with the playbook;
- inventory/hosts: the inventory (here: localhost, as AWX's demo inventory defines it);
- env/extravars: the template's extra variables and the survey answers;
- env/envvars: the environment, including what credential injectors produce. We render
  awx/credential_type/injectors.yml with the credential's inputs, as AWX does;
- requirements_collections/: the collections a project sync installs from collections/requirements.yml,
  on ANSIBLE_COLLECTIONS_PATH (here: the built tarball, since Galaxy is out of reach).
No container (no process isolation): the execution environment is this venv.

The job must succeed and converge the emulator, and nothing under artifacts/ (job events, stdout, status,
fact cache) may contain the token or a new secret. The one exception is ansible-runner's own
artifacts/<ident>/command file, which records the process environment by design (AWX masks variables
named like *TOKEN* when it shows a job's environment); the test checks that it is the only place the
token occurs, as the value of FLASHBACK_API_TOKEN, and nowhere else in that file.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import jinja2
import pytest
import yaml

from conftest import ADMIN_TOKEN, COLLECTIONS, ROOT, ansible_env, live_keys, run, write_inventory

AWX = ROOT / 'awx'
PLAYBOOK = 'repo_apikeys.yml'


def credential_type():
    inputs = yaml.safe_load((AWX / 'credential_type' / 'inputs.yml').read_text())
    injectors = yaml.safe_load((AWX / 'credential_type' / 'injectors.yml').read_text())
    return inputs, injectors


def inject(injectors, credential_inputs):
    """The environment AWX's injectors produce for a credential (AWX renders them with Jinja)."""
    assert set(injectors) == {'env'}, 'only env injectors are expected: %s' % sorted(injectors)
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return {name: environment.from_string(template).render(**credential_inputs)
            for name, template in injectors['env'].items()}


def test_credential_type_shape():
    inputs, injectors = credential_type()
    fields = {field['id']: field for field in inputs['fields']}
    assert set(fields) == {'api_url', 'api_token'}
    assert fields['api_token'].get('secret') is True, 'the token must be a secret field (AWX encrypts and hides it)'
    assert not fields['api_url'].get('secret')
    assert all(field['type'] == 'string' and field.get('label') for field in fields.values())
    assert sorted(inputs['required']) == ['api_token', 'api_url']
    assert inject(injectors, {'api_url': 'https://u.example', 'api_token': 't0k'}) == {
        'FLASHBACK_API_URL': 'https://u.example', 'FLASHBACK_API_TOKEN': 't0k'}


def private_data_dir(tmp_path, emulator_url, extravars):
    """A private data dir laid out as AWX lays it out for a job (see the module docstring)."""
    pdd = tmp_path / 'job'
    shutil.copytree(AWX / 'project', pdd / 'project')
    (pdd / 'inventory').mkdir()
    write_inventory(pdd / 'inventory' / 'hosts')
    shutil.copytree(COLLECTIONS / 'ansible_collections', pdd / 'requirements_collections' / 'ansible_collections')
    injectors = credential_type()[1]
    envvars = inject(injectors, {'api_url': emulator_url, 'api_token': ADMIN_TOKEN})
    envvars['ANSIBLE_COLLECTIONS_PATH'] = str(pdd / 'requirements_collections')
    (pdd / 'env').mkdir()
    (pdd / 'env' / 'envvars').write_text(yaml.safe_dump(envvars))
    (pdd / 'env' / 'extravars').write_text(yaml.safe_dump(extravars))
    return pdd


def run_job(tmp_path, pdd):
    env = ansible_env(tmp_path)
    env.pop('ANSIBLE_COLLECTIONS_PATH')  # the job's own comes from env/envvars, as under AWX
    result = run(['ansible-runner', 'run', pdd, '-p', PLAYBOOK, '--ident', 'job-1'], env=env)
    artifacts = pdd / 'artifacts' / 'job-1'
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert (artifacts / 'status').read_text().strip() == 'successful', output
    assert (artifacts / 'rc').read_text().strip() == '0'
    events = [json.loads(p.read_text()) for p in sorted((artifacts / 'job_events').glob('*.json'))]
    assert any(e.get('event') == 'playbook_on_stats' for e in events), 'no job events recorded'
    return pdd / 'artifacts', events


def assert_nothing_leaks(artifacts_dir, secrets):
    """No file under artifacts/ holds the token or a secret, except runner's record of the environment."""
    checked = 0
    for path in sorted(p for p in Path(artifacts_dir).rglob('*') if p.is_file()):
        text = path.read_text(encoding='utf-8', errors='replace')
        if path.name == 'command' and path.parent.parent == artifacts_dir:
            command = json.loads(text)
            assert command['env'].get('FLASHBACK_API_TOKEN') == ADMIN_TOKEN
            command['env'].pop('FLASHBACK_API_TOKEN')
            text = json.dumps(command)
        checked += 1
        assert ADMIN_TOKEN not in text, 'the token appears in %s' % path
        for secret in secrets:
            assert secret not in text, 'a new secret appears in %s' % path
    assert checked > 3, 'artifacts/ holds almost nothing: %d files' % checked


def test_job_with_extra_vars(emulator, installed_collection, tmp_path):  # pylint: disable=unused-argument
    """Template extra variables hold the role's list; new secrets go to a 0600 directory."""
    secrets_dir = tmp_path / 'secrets'
    pdd = private_data_dir(tmp_path, emulator.url, {
        'flashback_repo_apikeys': [
            {'repo_name': 'backups', 'name': 'ci-reader', 'access': 'READ'},
            {'repo_id': 'r2', 'name': 'ingest', 'access': 'WRITE'},
        ],
        'flashback_repo_apikeys_secrets_dir': str(secrets_dir),
    })
    artifacts, events = run_job(tmp_path, pdd)

    r1, r2 = live_keys(emulator, 'r1'), live_keys(emulator, 'r2')
    assert r1['ci-reader']['accessType'] == 'READ' and r2['ingest']['accessType'] == 'WRITE'
    for repo_id, key in (('r1', r1['ci-reader']), ('r2', r2['ingest'])):
        path = secrets_dir / repo_id / (key['name'] + '.json')
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert json.loads(path.read_text())['secret'] == key['secret']
    # The job reported the created keys by name (proves the events hold the job's output).
    assert any("created: ['ci-reader', 'ingest']" in e.get('stdout', '') for e in events)
    assert_nothing_leaks(artifacts, [r1['ci-reader']['secret'], r2['ingest']['secret']])


def test_job_with_survey_answers(emulator, installed_collection, tmp_path):  # pylint: disable=unused-argument
    """The survey's three answers declare one key; a second launch changes nothing."""
    emulator.backend.inject_key({'repo_id': 'r3', 'name': 'shipper', 'accessType': 'READ'})
    survey = {'flashback_key_repo': 'logs', 'flashback_key_name': 'shipper', 'flashback_key_access': 'WRITE'}
    artifacts = run_job(tmp_path, private_data_dir(tmp_path, emulator.url, survey))[0]
    r3 = live_keys(emulator, 'r3')
    assert list(r3) == ['shipper'] and r3['shipper']['accessType'] == 'WRITE'
    assert_nothing_leaks(artifacts, [r3['shipper']['secret']])

    shutil.rmtree(tmp_path / 'job')
    events = run_job(tmp_path, private_data_dir(tmp_path, emulator.url, survey))[1]
    stats = [e for e in events if e.get('event') == 'playbook_on_stats'][0]['event_data']
    assert not stats.get('changed'), 'second launch changed something: %s' % stats.get('changed')


@pytest.fixture(autouse=True)
def _no_ambient_credentials(monkeypatch):
    # The job must get its credential from env/envvars only, as under AWX.
    for name in list(os.environ):
        if name.startswith('FLASHBACK_'):
            monkeypatch.delenv(name)
