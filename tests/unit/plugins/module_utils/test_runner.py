# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""runner.run_module: how results and failures that carry a one-time secret leave the module."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.flashback.platform.plugins.module_utils import _runner as runner
from ansible_collections.flashback.platform.plugins.module_utils._errors import FlashbackError
from ansible_collections.flashback.platform.plugins.module_utils._sanitize import Scrubber


class Exited(Exception):
    pass


class RecordingModule(object):
    """What run_module uses of AnsibleModule; exit_json/fail_json record and stop, as the real ones do."""

    def __init__(self, no_log):
        self.no_log = no_log
        self.warnings = []
        self.exited = None

    def warn(self, message):
        self.warnings.append(message)

    def exit_json(self, **kwargs):
        self.exited = ('exit', kwargs)
        raise Exited()

    def fail_json(self, **kwargs):
        self.exited = ('fail', kwargs)
        raise Exited()


class ScrubbingClient(object):
    """What run_module uses of the client: its scrubber (which knows the token and the secrets minted)."""

    def __init__(self):
        self.scrubber = Scrubber('unit-test-token')


@pytest.fixture(autouse=True)
def no_client(monkeypatch):
    monkeypatch.setattr(runner, 'client_from_module', lambda module: ScrubbingClient())


def run(no_log, outcome):
    module = RecordingModule(no_log)

    def body(module, client):
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    with pytest.raises(Exited):
        runner.run_module(module, body)
    return module


ROTATION_FAILED = FlashbackError('rotating API key ci ... did not finish', changed=True, secret='s3cr3t',
                                 apikey=dict(id='k2'))


class TestSecretResults:
    def test_secret_without_no_log_warns_naming_the_fix(self):
        module = run(False, dict(changed=True, secret='s3cr3t'))
        assert module.exited == ('exit', dict(changed=True, secret='s3cr3t'))
        assert module.warnings == [runner.NO_LOG_WARNING]
        assert 'set no_log: true' in runner.NO_LOG_WARNING

    def test_new_secrets_without_no_log_warn_too(self):
        module = run(False, dict(changed=True, new_secrets=[dict(secret='s3cr3t')]))
        assert module.warnings == [runner.NO_LOG_WARNING]

    @pytest.mark.parametrize('result', [dict(changed=True, secret='s3cr3t'), dict(changed=False, new_secrets=[])])
    def test_no_warning_with_no_log_or_without_secret(self, result):
        assert run(True, result).warnings == []
        assert run(False, dict(changed=False, new_secrets=[])).warnings == []


class TestFailuresWithSecrets:
    def test_with_no_log_the_task_fails_and_still_hands_over_the_secret(self):
        module = run(True, ROTATION_FAILED)
        assert module.exited[0] == 'fail'
        assert module.exited[1]['secret'] == 's3cr3t'
        assert module.warnings == []

    def test_without_no_log_it_is_ok_changed_with_the_failure_as_warning(self):
        # A failed result is printed at every verbosity: the secret must not reach it, and must not be lost.
        module = run(False, ROTATION_FAILED)
        kind, result = module.exited
        assert kind == 'exit'
        assert result['changed'] is True and result['secret'] == 's3cr3t'
        assert 'did not finish' in result['msg']
        assert module.warnings[0].startswith('not finished, rerun to finish')
        # ansible-core 2.19 prints warnings whatever no_log says: the failure (which may hold server text) is not
        # in the warning.
        assert 'did not finish' not in module.warnings[0]
        assert 's3cr3t' not in ' '.join(module.warnings)
        assert module.warnings[1] == runner.NO_LOG_WARNING

    def test_failure_without_secret_fails_either_way(self):
        for no_log in (True, False):
            module = run(no_log, FlashbackError('authentication failed', status=401))
            assert module.exited == ('fail', dict(msg='authentication failed', status=401))


class TestUrlCredentials:
    def test_password_in_api_url_is_censored_everywhere_ansible_echoes_it(self, monkeypatch):
        monkeypatch.undo()  # the real client_from_module
        module = RecordingModule(no_log=False)
        module.no_log_values = set()
        module.params = dict(api_url='https://bob:hunter2@api.example.test', api_token='t', validate_certs=True,
                             ca_path=None, timeout=30, max_retries=3)
        with pytest.raises(Exited):
            runner.client_from_module(module)
        assert module.exited[0] == 'fail' and 'hunter2' not in module.exited[1]['msg']
        assert 'hunter2' in module.no_log_values


class TestScrubbing:
    """Everything the module says is masked: the token and every secret of the run, wherever the server echoed
    them; the secret return values themselves are left whole."""

    @pytest.fixture
    def scrubbing_run(self, monkeypatch):
        def go(no_log, outcome):
            client = ScrubbingClient()
            client.scrubber.add('minted-secret-1234')
            monkeypatch.setattr(runner, 'client_from_module', lambda module: client)
            module = RecordingModule(no_log)

            def body(module, client):
                module.warn('the server said: minted-secret-1234 and unit-test-token\x1b[2J')
                if isinstance(outcome, Exception):
                    raise outcome
                return outcome

            with pytest.raises(Exited):
                runner.run_module(module, body)
            return module
        return go

    def test_failure_message_and_warnings_are_masked(self, scrubbing_run):
        error = FlashbackError('HTTP 500 (server said: minted-secret-1234 unit-test-token \x1b[31m\nfatal: x)',
                               failures=['entry 1: echoed minted-secret-1234\r\nfatal: y'])
        module = scrubbing_run(True, error)
        assert module.exited == ('fail', dict(msg='HTTP 500 (server said: ******** ******** [31m fatal: x)',
                                              failures=['entry 1: echoed ******** fatal: y']))
        assert module.warnings == ['the server said: ******** and ********[2J']

    def test_bidi_and_c1_controls_are_dropped(self, scrubbing_run):
        kind, result = scrubbing_run(True, FlashbackError('boom \x9b31m\u202eevil\u2066 x')).exited
        assert result['msg'] == 'boom 31mevil x'

    def test_secret_return_values_are_left_whole(self, scrubbing_run):
        result = dict(changed=True, secret='minted-secret-1234',
                      new_secrets=[dict(name='a', secret='minted-secret-1234')],
                      key_results=[dict(msg='failed: minted-secret-1234')])
        kind, exited = scrubbing_run(True, result).exited
        assert kind == 'exit'
        assert exited['secret'] == 'minted-secret-1234'
        assert exited['new_secrets'][0]['secret'] == 'minted-secret-1234'
        assert exited['key_results'][0]['msg'] == 'failed: ********'
