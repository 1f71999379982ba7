"""The AWX example job, run by ansible-runner (AWX's executor) the way AWX runs it.

AWX turns a job template launch into a private data dir and runs `ansible-runner` on it:
- project/: the synced project (here: awx/project/), with the playbook;
- inventory/hosts: the inventory (here: localhost, as AWX's demo inventory defines it);
- env/extravars: the template's extra variables and the survey answers;
- env/envvars: the environment, including what credential injectors produce. We render
  awx/credential_type/injectors.yml with the credential's inputs as AWX does (inject() says how), file
  injectors included: their files go into env/ with mode 0600;
- requirements_collections/: the collections a project sync installs from collections/requirements.yml,
  on ANSIBLE_COLLECTIONS_PATH (here: the built tarball, since Galaxy is out of reach).
No container (no process isolation): the execution environment is this venv.

The job must succeed and converge the emulator, and nothing under artifacts/ (job events, stdout, status,
fact cache, and ansible-runner's own artifacts/<ident>/command file, which records the process environment)
may contain the token or a new secret: the credential injects the token as a 0600 file in env/, named by
FLASHBACK_API_TOKEN_FILE, so the environment (and a gathered ansible_env) holds only its path.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
import types
from pathlib import Path

import jinja2
import jinja2.sandbox
import pytest
import yaml

from awx_survey import default_answers, launch_errors, load_survey
from conftest import ADMIN_TOKEN, COLLECTIONS, ROOT, ansible_env, live_keys, run, write_inventory

AWX = ROOT / 'awx'
PLAYBOOK = 'repo_apikeys.yml'


def credential_type():
    inputs = yaml.safe_load((AWX / 'credential_type' / 'inputs.yml').read_text())
    injectors = yaml.safe_load((AWX / 'credential_type' / 'injectors.yml').read_text())
    return inputs, injectors


def saved_inputs(inputs, given):
    """A credential's inputs as AWX stores them: a field sent empty gets its default (awx/main/fields.py,
    CredentialInputField.validate); a field not sent at all stays absent."""
    defaults = {field['id']: field['default'] for field in inputs['fields'] if 'default' in field}
    return {name: (value if value else defaults.get(name, value)) for name, value in given.items()}


def inject(injectors, credential_inputs, private_data_dir):
    """The environment AWX's injectors produce for a credential, files included.

    As CredentialType.inject_credential (ansible/awx awx/main/models/credential.py) does it: the templates are
    rendered in Jinja's immutable sandbox with a namespace holding only the non-empty inputs (an empty or absent
    field is undefined, and renders as ''); each file template is rendered and written, whatever it renders to,
    to a new file in <private data dir>/env/ with mode 0600, whose path the env templates see as
    tower.filename.<name> (tower.filename for the single-file syntax). Without process isolation the path is
    the host's.
    """
    assert set(injectors) <= {'env', 'file'}, 'unexpected injector kinds: %s' % sorted(injectors)
    sandbox = jinja2.sandbox.ImmutableSandboxedEnvironment()
    tower = types.SimpleNamespace()
    namespace = dict((name, value) for name, value in credential_inputs.items() if isinstance(value, bool) or value)
    namespace['tower'] = tower
    for label, template in injectors.get('file', {}).items():
        handle, path = tempfile.mkstemp(dir=str(Path(private_data_dir) / 'env'))
        with os.fdopen(handle, 'w') as stream:
            stream.write(sandbox.from_string(template).render(**namespace))
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        if '.' in label:
            if not hasattr(tower, 'filename'):
                tower.filename = types.SimpleNamespace()
            setattr(tower.filename, label.split('.', 1)[1], path)
        else:
            tower.filename = path
    return {name: sandbox.from_string(template).render(**namespace)
            for name, template in injectors.get('env', {}).items()}


def awx_accepts_injectors(inputs, injectors):
    """AWX's check when the credential type is saved (awx/main/fields.py, CredentialTypeInjectorField.validate):
    every template renders with StrictUndefined when each field is 'EXAMPLE' and each file is named."""
    namespace = {field['id']: 'EXAMPLE' for field in inputs['fields']}
    files = [label.split('.', 1)[1] for label in injectors.get('file', {}) if '.' in label]
    namespace['tower'] = types.SimpleNamespace(filename=types.SimpleNamespace(**{f: 'EXAMPLE_FILENAME' for f in files}))
    strict = jinja2.sandbox.ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)
    for kind in ('file', 'env'):
        for template in injectors.get(kind, {}).values():
            strict.from_string(template).render(**namespace)


def test_credential_type_shape(tmp_path):
    inputs, injectors = credential_type()
    fields = {field['id']: field for field in inputs['fields']}
    assert set(fields) == {'api_url', 'api_token', 'ca_bundle'}
    assert fields['api_token'].get('secret') is True, 'the token must be a secret field (AWX encrypts and hides it)'
    assert not fields['api_url'].get('secret') and not fields['ca_bundle'].get('secret')
    assert fields['api_url']['default'] == 'https://backend.flashback.tech'
    assert fields['ca_bundle'].get('multiline') is True
    assert all(field['type'] == 'string' and field.get('label') for field in fields.values())
    assert inputs['required'] == ['api_token']
    awx_accepts_injectors(inputs, injectors)
    (tmp_path / 'env').mkdir()

    # URL and token only: the token in a 0600 file, no CA file named (an empty FLASHBACK_CA_PATH is unset for the
    # modules), and no variable holds the token.
    env = inject(injectors, {'api_url': 'https://u.example', 'api_token': 't0k'}, tmp_path)
    token_file = Path(env.pop('FLASHBACK_API_TOKEN_FILE'))
    assert env == {'FLASHBACK_API_URL': 'https://u.example', 'FLASHBACK_CA_PATH': ''}
    assert token_file.parent == tmp_path / 'env' and token_file.read_text() == 't0k'
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert inject(injectors, {'api_url': 'https://u.example', 'api_token': 't0k', 'ca_bundle': ''}, tmp_path)[
        'FLASHBACK_CA_PATH'] == ''
    # The token only: a URL sent empty is stored as the default; one never sent renders as the default too, so the
    # token is always bound to a URL (a token from the environment goes only to the FLASHBACK_API_URL beside it).
    saved = saved_inputs(inputs, {'api_url': '', 'api_token': 't0k'})
    assert inject(injectors, saved, tmp_path)['FLASHBACK_API_URL'] == 'https://backend.flashback.tech'
    assert inject(injectors, {'api_token': 't0k'}, tmp_path)['FLASHBACK_API_URL'] == 'https://backend.flashback.tech'

    # A CA bundle: a 0600 file in env/ holding exactly the PEM text, named by FLASHBACK_CA_PATH.
    pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
    env = inject(injectors, {'api_url': 'https://u.example', 'api_token': 't0k', 'ca_bundle': pem}, tmp_path)
    ca_file = Path(env['FLASHBACK_CA_PATH'])
    assert ca_file.parent == tmp_path / 'env'
    assert stat.S_IMODE(ca_file.stat().st_mode) == 0o600
    assert ca_file.read_text() == pem


def private_data_dir(tmp_path, credential, extravars):
    """A private data dir laid out as AWX lays it out for a job (see the module docstring)."""
    pdd = tmp_path / 'job'
    shutil.copytree(AWX / 'project', pdd / 'project')
    (pdd / 'inventory').mkdir()
    write_inventory(pdd / 'inventory' / 'hosts')
    shutil.copytree(COLLECTIONS / 'ansible_collections', pdd / 'requirements_collections' / 'ansible_collections')
    (pdd / 'env').mkdir()
    inputs, injectors = credential_type()
    envvars = inject(injectors, saved_inputs(inputs, credential), pdd)
    envvars['ANSIBLE_COLLECTIONS_PATH'] = str(pdd / 'requirements_collections')
    (pdd / 'env' / 'envvars').write_text(yaml.safe_dump(envvars))
    (pdd / 'env' / 'extravars').write_text(yaml.safe_dump(extravars))
    return pdd


def run_job(tmp_path, pdd, succeed=True, playbook=PLAYBOOK):
    # REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE stay as this machine sets them: the credential's CA must win over them.
    env = ansible_env(tmp_path)
    env.pop('ANSIBLE_COLLECTIONS_PATH')  # the job's own comes from env/envvars, as under AWX
    result = run(['ansible-runner', 'run', pdd, '-p', playbook, '--ident', 'job-1'], env=env)
    artifacts = pdd / 'artifacts' / 'job-1'
    output = result.stdout + result.stderr
    assert (result.returncode == 0) is succeed, output
    assert (artifacts / 'status').read_text().strip() == ('successful' if succeed else 'failed'), output
    assert ((artifacts / 'rc').read_text().strip() == '0') is succeed
    events = [json.loads(p.read_text()) for p in sorted((artifacts / 'job_events').glob('*.json'))]
    assert any(e.get('event') == 'playbook_on_stats' for e in events), 'no job events recorded'
    return pdd / 'artifacts', events


def assert_nothing_leaks(artifacts_dir, secrets):
    """No file under artifacts/ holds the token or a secret, runner's record of the environment included."""
    checked = 0
    for path in sorted(p for p in Path(artifacts_dir).rglob('*') if p.is_file()):
        text = path.read_text(encoding='utf-8', errors='replace')
        if path.name == 'command' and path.parent.parent == artifacts_dir:
            assert 'FLASHBACK_API_TOKEN_FILE' in json.loads(text)['env']
        checked += 1
        assert ADMIN_TOKEN not in text, 'the token appears in %s' % path
        for secret in secrets:
            assert secret not in text, 'a new secret appears in %s' % path
    assert checked > 3, 'artifacts/ holds almost nothing: %d files' % checked


def test_job_with_extra_vars(emulator, installed_collection, tmp_path):  # pylint: disable=unused-argument
    """Template extra variables hold the role's list; new secrets go to a 0600 directory."""
    secrets_dir = tmp_path / 'secrets'
    pdd = private_data_dir(tmp_path, {'api_url': emulator.url, 'api_token': ADMIN_TOKEN}, {
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


def survey_launch(**answers):
    """A launch's extra variables: the survey's defaults as AWX applies them, then the operator's answers."""
    spec = load_survey()
    extravars = dict(default_answers(spec), **answers)
    assert launch_errors(spec, extravars) == [], 'AWX would refuse this launch'
    return extravars


def report(events):
    return [e['event_data']['res']['msg'] for e in events
            if e.get('event') == 'runner_on_ok' and e['event_data'].get('task') == 'Report what changed (key names only, never '
            'secrets)']


def test_job_with_survey_answers(emulator, installed_collection, tmp_path):  # pylint: disable=unused-argument
    """Over HTTPS, the CA given only in the credential's CA field: the survey's default answers plus the key
    converge it; a second launch changes nothing; a dry-run rotation writes nothing; a rotation replaces it."""
    https = emulator.open_https()  # the same backend over TLS, with a self-signed certificate
    credential = {'api_url': https['url'], 'api_token': ADMIN_TOKEN, 'ca_bundle': Path(https['ca_path']).read_text()}
    emulator.backend.inject_key({'repo_id': 'r3', 'name': 'shipper', 'accessType': 'READ'})

    def launch(**answers):
        shutil.rmtree(tmp_path / 'job', ignore_errors=True)
        # The job template's variables name a delivery: without one the job refuses to create or rotate.
        extravars = dict(survey_launch(flashback_key_repo='logs', flashback_key_name='shipper', **answers),
                         flashback_repo_apikeys_secrets_dir=str(tmp_path / 'secrets'))
        pdd = private_data_dir(tmp_path, credential, extravars)
        envvars = yaml.safe_load((pdd / 'env' / 'envvars').read_text())
        assert Path(envvars['FLASHBACK_CA_PATH']).parent == pdd / 'env'
        return run_job(tmp_path, pdd)

    artifacts, events = launch(flashback_key_access='WRITE')
    r3 = live_keys(emulator, 'r3')
    assert list(r3) == ['shipper'] and r3['shipper']['accessType'] == 'WRITE'
    assert_nothing_leaks(artifacts, [r3['shipper']['secret']])

    events = launch()  # access 'keep', no rotation, no dry run: the defaults
    stats = [e for e in events[1] if e.get('event') == 'playbook_on_stats'][0]['event_data']
    assert not stats.get('changed'), 'second launch changed something: %s' % stats.get('changed')
    assert report(events[1]) == ['created: [], changed: []']

    events = launch(flashback_key_rotate='yes', flashback_dry_run='yes')[1]
    assert report(events) == ["dry run, nothing written; would change: ['shipper: rotate']"]
    assert live_keys(emulator, 'r3') == r3

    artifacts, events = launch(flashback_key_rotate='yes', flashback_repo_apikeys_retire_after_days=3)
    rotated = [k for k in emulator.backend.state()['keys'] if k['repo_id'] == 'r3' and not k['deleted']]
    new = [k for k in rotated if k['name'] == 'shipper']
    assert len(new) == 1 and new[0]['id'] != r3['shipper']['id'] and new[0]['accessType'] == 'WRITE'
    # The grace period of the survey reached the role: the old key lives on under its retiring name.
    assert [k['id'] for k in rotated if k['name'] != 'shipper'] == [r3['shipper']['id']]
    assert report(events) == ["created: ['shipper'], changed: ['shipper']"]
    assert_nothing_leaks(artifacts, [new[0]['secret'], r3['shipper']['secret']])


def test_job_without_a_delivery_refuses_to_create(emulator, installed_collection, tmp_path):  # pylint: disable=unused-argument
    """The survey's answers alone (no hook, no secrets directory): a create is refused before any key exists, with a
    message that says how to configure a delivery; a dry run still plans it."""
    credential = {'api_url': emulator.url, 'api_token': ADMIN_TOKEN, 'ca_bundle': ''}
    pdd = private_data_dir(tmp_path, credential, survey_launch(flashback_key_repo='logs', flashback_key_name='nobody'))
    artifacts, events = run_job(tmp_path, pdd, succeed=False)
    failed = [e['event_data']['res']['msg'] for e in events if e.get('event') == 'runner_on_failed']
    assert len(failed) == 1
    assert failed[0].startswith('this job would create or rotate nobody but has no delivery for the new secrets: set '
                                'flashback_repo_apikeys_secret_tasks')
    assert failed[0].endswith('or launch with flashback_dry_run=yes; nothing was changed')
    assert 'nobody' not in live_keys(emulator, 'r3')
    del artifacts


def test_job_without_the_ca_fails_verification(emulator, installed_collection, tmp_path):  # pylint: disable=unused-argument
    """The same HTTPS server, the credential's CA field empty: FLASHBACK_CA_PATH is empty (not an empty file) and
    the job fails on the certificate, although REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE may be set."""
    https = emulator.open_https()
    pdd = private_data_dir(tmp_path, {'api_url': https['url'], 'api_token': ADMIN_TOKEN, 'ca_bundle': ''},
                           survey_launch(flashback_key_repo='logs', flashback_key_name='shipper'))
    assert yaml.safe_load((pdd / 'env' / 'envvars').read_text())['FLASHBACK_CA_PATH'] == ''
    artifacts, events = run_job(tmp_path, pdd, succeed=False)
    assert any('TLS verification failed for %s' % https['url'] in json.dumps(e) for e in events)
    assert live_keys(emulator, 'r3') == {}
    assert_nothing_leaks(artifacts, [])


FACTS_PLAYBOOK = """
- name: A job that gathers facts where it runs, then uses the credential
  hosts: localhost
  gather_facts: true
  tasks:
    - name: List a repository with the credential from the environment
      flashback.platform.flashback_repo_apikey_info:
        repo_id: r1
    - name: Try to send the credential's token to another URL (a launch-time extra variable could)
      flashback.platform.flashback_repo_apikey_info:
        api_url: http://127.0.0.1:9
        repo_id: r1
      register: redirected
      ignore_errors: true
    - name: The token was not sent
      ansible.builtin.assert:
        that:
          - redirected is failed
          - redirected.msg is search('token comes from FLASHBACK_API_TOKEN_FILE')
          - ansible_env.FLASHBACK_API_TOKEN_FILE is defined and ansible_env.FLASHBACK_API_TOKEN is not defined
"""


def test_gathered_facts_and_runner_artifacts_hold_no_token(emulator, installed_collection, tmp_path):  # pylint: disable=unused-argument
    """With fact gathering (AWX stores facts when the template's fact storage is on): ansible_env holds the token
    file's path, never the token; the token cannot be pointed at another URL."""
    pdd = private_data_dir(tmp_path, {'api_url': emulator.url, 'api_token': ADMIN_TOKEN}, {})
    (pdd / 'project' / 'facts.yml').write_text(FACTS_PLAYBOOK)
    artifacts, dummy = run_job(tmp_path, pdd, playbook='facts.yml')
    cached = list((artifacts / 'job-1' / 'fact_cache').glob('*'))
    assert cached, 'no fact cache was written: the test would prove nothing'
    assert any('FLASHBACK_API_TOKEN_FILE' in path.read_text() for path in cached)
    assert_nothing_leaks(artifacts, [])


@pytest.fixture(autouse=True)
def _no_ambient_credentials(monkeypatch):
    # The job must get its credential from env/envvars only, as under AWX.
    for name in list(os.environ):
        if name.startswith('FLASHBACK_'):
            monkeypatch.delenv(name)
