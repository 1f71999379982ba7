# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.flashback.platform.plugins.module_utils import _arguments as arguments, _errors as errors
from ansible_collections.flashback.platform.plugins.modules import flashback_repo_apikey_info

ENVIRONMENT = ('FLASHBACK_API_URL', 'FLASHBACK_API_TOKEN', 'FLASHBACK_VALIDATE_CERTS', 'FLASHBACK_CA_PATH',
               'FLASHBACK_API_TOKEN_FILE')
MALFORMED_VALIDATE_CERTS = ('FLASHBACK_VALIDATE_CERTS is not a boolean: set it to true or false (or unset it, which '
                            'verifies certificates), or set the validate_certs option')


def params(**overrides):
    base = dict(api_url='https://backend.flashback.tech', api_token='t', validate_certs=True, ca_path=None, timeout=30,
                max_retries=3)
    base.update(overrides)
    return base


class TestArgumentSpec:
    def test_token_is_no_log_with_env_fallback(self):
        spec = arguments.argument_spec()['api_token']
        assert spec['no_log'] is True
        assert spec['fallback'][1] == ['FLASHBACK_API_TOKEN', 'FLASHBACK_API_TOKEN_FILE']
        assert spec['aliases'] == ['access_token']

    def test_module_options_are_added(self):
        spec = arguments.argument_spec(name=dict(type='str'))
        assert set(spec) == {'api_url', 'api_token', 'validate_certs', 'ca_path', 'timeout', 'max_retries',
                             'max_response_size', 'repo_id', 'repo_name', 'name'}

    def test_repository_options_can_be_left_out(self):
        assert 'repo_id' not in arguments.argument_spec(repository=False)


class TestValidatedConnection:
    def test_good(self):
        arguments.validated_connection(params())

    @pytest.mark.parametrize('overrides, fragment', [
        (dict(api_token=None), 'no API token: set api_token (or access_token) or the FLASHBACK_API_TOKEN'),
        (dict(api_token=''), 'no API token'),
        (dict(api_url='backend.flashback.tech'), 'api_url must be an http:// or https:// URL'),
        (dict(api_url='ftp://x'), 'api_url must be'),
        (dict(timeout=0), 'timeout must be a positive'),
        (dict(max_retries=-1), 'max_retries must be 0 or more'),
    ])
    def test_bad(self, overrides, fragment):
        with pytest.raises(errors.ConfigurationError) as exc:
            arguments.validated_connection(params(**overrides))
        assert fragment in exc.value.message

    @pytest.mark.parametrize('option', ['api_url', 'ca_path'])
    def test_empty_string_options_are_named(self, option):
        with pytest.raises(errors.ConfigurationError) as exc:
            arguments.validated_connection(params(**{option: ''}))
        assert exc.value.message == '%s is an empty string: give a value or leave it out' % option

    @pytest.mark.parametrize('url', ['https://alice:hunter2@backend.flashback.tech', 'https://hunter2@h.example/',
                                     'http://alice:@127.0.0.1:8080'])
    def test_credentials_in_api_url_are_refused_without_echo(self, url):
        with pytest.raises(errors.ConfigurationError) as exc:
            arguments.validated_connection(params(api_url=url))
        assert exc.value.message == ('api_url must not hold credentials (user:password@): remove them; the API '
                                     'authenticates with api_token only')

    @pytest.mark.parametrize('token', ['secret-token\n', 'secret token', 'secret-t\u00f6ken', 'secret-\u2603',
                                       'secret\x1b[0m'])
    def test_token_a_header_cannot_carry(self, token):
        with pytest.raises(errors.ConfigurationError) as exc:
            arguments.validated_connection(params(api_token=token))
        assert exc.value.message.startswith('api_token contains a newline, space or other character an HTTP header '
                                            'cannot carry: ')
        assert 'secret' not in exc.value.message

    def test_ca_path_must_be_a_file(self, tmp_path):
        for path in (tmp_path / 'missing.pem', tmp_path):
            with pytest.raises(errors.ConfigurationError) as exc:
                arguments.validated_connection(params(ca_path=str(path)))
            assert exc.value.message == ('ca_path %s does not exist or is not a file: give the path of the PEM file '
                                         'of the CA bundle' % path)

    def test_ca_path_is_checked_only_when_used(self, tmp_path):
        ca = tmp_path / 'ca.pem'
        ca.write_text('-----BEGIN CERTIFICATE-----\n')
        arguments.validated_connection(params(ca_path=str(ca)))
        arguments.validated_connection(params(ca_path=str(tmp_path / 'missing.pem'), validate_certs=False))


class TestConnectionWarnings:
    @pytest.mark.parametrize('url', ['http://127.0.0.1:8080', 'http://localhost', 'https://example.com'])
    def test_quiet(self, url):
        assert arguments.connection_warnings(params(api_url=url)) == []

    def test_clear_text_token(self):
        assert 'clear text' in arguments.connection_warnings(params(api_url='http://flashback.example.com'))[0]

    def test_no_verification(self):
        assert 'not verified' in arguments.connection_warnings(params(validate_certs=False))[0]


@pytest.fixture
def clean_environment(monkeypatch):
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    arguments._MALFORMED_ENV.clear()
    del arguments._TOKEN_SOURCE[:]
    yield monkeypatch
    arguments._MALFORMED_ENV.clear()
    del arguments._TOKEN_SOURCE[:]


@pytest.fixture
def module_params(module_args):
    """The params a real AnsibleModule with the shared spec resolves from ``args`` and the environment."""
    def resolve(**args):
        with module_args(args):
            return AnsibleModule(argument_spec=arguments.argument_spec(repository=False)).params
    return resolve


class TestEnvironmentFallbacks:
    """FLASHBACK_CA_PATH and FLASHBACK_VALIDATE_CERTS, resolved by ansible-core from the shared spec."""

    def test_every_connection_variable_has_its_option(self):
        spec = arguments.argument_spec()
        fallbacks = dict((option, spec[option]['fallback'][1]) for option in spec if 'fallback' in spec[option])
        assert fallbacks == dict(api_url=['FLASHBACK_API_URL'],
                                 api_token=['FLASHBACK_API_TOKEN', 'FLASHBACK_API_TOKEN_FILE'],
                                 validate_certs=['FLASHBACK_VALIDATE_CERTS'], ca_path=['FLASHBACK_CA_PATH'])

    def test_unset_environment_leaves_the_defaults(self, clean_environment, module_params):
        params = module_params(api_token='t')
        assert params['ca_path'] is None and params['validate_certs'] is True
        arguments.validated_connection(params)

    def test_ca_path_from_the_environment(self, clean_environment, module_params, tmp_path):
        ca = tmp_path / 'ca.pem'
        ca.write_text('-----BEGIN CERTIFICATE-----\n')
        clean_environment.setenv('FLASHBACK_CA_PATH', str(ca))
        params = module_params(api_token='t')
        assert params['ca_path'] == str(ca)
        arguments.validated_connection(params)

    def test_explicit_ca_path_wins(self, clean_environment, module_params, tmp_path):
        clean_environment.setenv('FLASHBACK_CA_PATH', str(tmp_path / 'env.pem'))
        assert module_params(api_token='t', ca_path=str(tmp_path / 'option.pem'))['ca_path'] == str(tmp_path / 'option.pem')

    def test_missing_ca_file_from_the_environment_is_named(self, clean_environment, module_params, tmp_path):
        clean_environment.setenv('FLASHBACK_CA_PATH', str(tmp_path / 'missing.pem'))
        with pytest.raises(errors.ConfigurationError) as exc:
            arguments.validated_connection(module_params(api_token='t'))
        assert exc.value.message == ('ca_path %s does not exist or is not a file: give the path of the PEM file of the '
                                     'CA bundle' % (tmp_path / 'missing.pem'))

    @pytest.mark.parametrize('value, expected', [('false', False), ('False', False), ('no', False), ('off', False),
                                                 ('0', False), ('n', False), ('true', True), ('yes', True),
                                                 ('on', True), ('1', True), ('TRUE', True)])
    def test_validate_certs_from_the_environment(self, clean_environment, module_params, value, expected):
        clean_environment.setenv('FLASHBACK_VALIDATE_CERTS', value)
        params = module_params(api_token='t')
        assert params['validate_certs'] is expected
        arguments.validated_connection(params)
        assert bool(arguments.connection_warnings(params)) is not expected

    @pytest.mark.parametrize('env, option', [('false', True), ('true', False), ('maybe', False), ('maybe', True)])
    def test_explicit_validate_certs_wins(self, clean_environment, module_params, env, option):
        clean_environment.setenv('FLASHBACK_VALIDATE_CERTS', env)
        params = module_params(api_token='t', validate_certs=option)
        assert params['validate_certs'] is option
        arguments.validated_connection(params)  # a malformed variable the option overrides does not matter

    @pytest.mark.parametrize('value', ['maybe', 'tru', '2', 'disabled', ' '])
    def test_malformed_validate_certs_keeps_verifying_and_is_reported(self, clean_environment, module_params, value):
        clean_environment.setenv('FLASHBACK_VALIDATE_CERTS', value)
        params = module_params(api_token='t')
        assert params['validate_certs'] is True
        with pytest.raises(errors.ConfigurationError) as exc:
            arguments.validated_connection(params)
        assert exc.value.message == MALFORMED_VALIDATE_CERTS

    @pytest.mark.parametrize('name, option, unset', [('FLASHBACK_CA_PATH', 'ca_path', None),
                                                     ('FLASHBACK_VALIDATE_CERTS', 'validate_certs', True),
                                                     ('FLASHBACK_API_URL', 'api_url', 'https://backend.flashback.tech'),
                                                     ('FLASHBACK_API_TOKEN', 'api_token', None)])
    def test_an_empty_variable_counts_as_unset(self, clean_environment, module_params, name, option, unset):
        """An AWX credential renders a field left empty as '' (FLASHBACK_CA_PATH without a CA bundle)."""
        clean_environment.setenv(name, '')
        assert module_params()[option] == unset

    def test_an_empty_option_is_still_refused(self, clean_environment, module_params):
        """Only the environment's empty string means unset; an empty option is an error, as before."""
        with pytest.raises(errors.ConfigurationError) as exc:
            arguments.validated_connection(module_params(api_token='t', ca_path=''))
        assert exc.value.message == 'ca_path is an empty string: give a value or leave it out'

    def test_malformed_validate_certs_fails_the_module_in_one_line(self, clean_environment, module_args, capsys):
        clean_environment.setenv('FLASHBACK_VALIDATE_CERTS', 'maybe')
        with module_args(dict(api_token='unit-test-token', repo_id='r1')):
            with pytest.raises(SystemExit):
                flashback_repo_apikey_info.main()
        out = json.loads(capsys.readouterr().out)
        assert out['failed'] is True
        assert out['msg'] == MALFORMED_VALIDATE_CERTS
        assert 'exception' not in out and 'maybe' not in json.dumps(out)


class TestTokenFromTheEnvironment:
    """FLASHBACK_API_TOKEN_FILE keeps the token out of the environment (and so out of a gathered ansible_env); a token
    from the environment goes only to the FLASHBACK_API_URL beside it."""

    @pytest.mark.parametrize('content', ['file-token-123', 'file-token-123\n', 'file-token-123\r\n'])
    def test_token_file(self, clean_environment, module_params, tmp_path, content):
        path = tmp_path / 'token'
        path.write_text(content)
        clean_environment.setenv('FLASHBACK_API_TOKEN_FILE', str(path))
        params = module_params()
        assert params['api_token'] == 'file-token-123'
        arguments.validated_connection(params)

    def test_the_variable_wins_over_the_file(self, clean_environment, module_params, tmp_path):
        clean_environment.setenv('FLASHBACK_API_TOKEN', 'env-token-123')
        clean_environment.setenv('FLASHBACK_API_TOKEN_FILE', str(tmp_path / 'missing'))
        assert module_params()['api_token'] == 'env-token-123'

    def test_an_unreadable_token_file_is_one_line(self, clean_environment, module_params, tmp_path):
        clean_environment.setenv('FLASHBACK_API_TOKEN_FILE', str(tmp_path / 'missing'))
        params = module_params()
        with pytest.raises(errors.ConfigurationError) as err:
            arguments.validated_connection(params)
        assert str(err.value) == ('FLASHBACK_API_TOKEN_FILE names a file that cannot be read: give the path of a '
                                  'readable file holding the token, or set api_token')
        assert 'missing' not in str(err.value)

    @pytest.mark.parametrize('variable', ['FLASHBACK_API_TOKEN', 'FLASHBACK_API_TOKEN_FILE'])
    def test_an_environment_token_is_not_sent_elsewhere(self, clean_environment, module_params, tmp_path, variable):
        path = tmp_path / 'token'
        path.write_text('env-token-123')
        clean_environment.setenv(variable, 'env-token-123' if variable == 'FLASHBACK_API_TOKEN' else str(path))
        clean_environment.setenv('FLASHBACK_API_URL', 'https://flashback.internal.example/')
        with pytest.raises(errors.ConfigurationError) as err:
            arguments.validated_connection(module_params(api_url='https://attacker.example'))
        assert str(err.value) == (
            'api_url is not the FLASHBACK_API_URL of the environment, but the token comes from %s: a token from the '
            'environment is only sent to the API URL beside it; unset api_url (and flashback_api_url), or give '
            'api_token together with api_url' % variable)
        assert 'attacker' not in str(err.value)
        # The environment's own URL (spelt with or without the slash, any case of host) is fine, as is leaving it out.
        arguments.validated_connection(module_params(api_url='https://FLASHBACK.internal.example'))
        arguments.validated_connection(module_params())

    def test_a_token_given_with_the_url_goes_there(self, clean_environment, module_params):
        clean_environment.setenv('FLASHBACK_API_TOKEN', 'env-token-123')
        clean_environment.setenv('FLASHBACK_API_URL', 'https://flashback.internal.example')
        arguments.validated_connection(module_params(api_url='https://other.example', api_token='task-token-1'))

    def test_an_environment_token_without_a_url_is_bound_to_nothing(self, clean_environment, module_params):
        clean_environment.setenv('FLASHBACK_API_TOKEN', 'env-token-123')
        arguments.validated_connection(module_params(api_url='http://127.0.0.1:8080'))
