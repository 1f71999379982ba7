# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.flashback.platform.plugins.module_utils import arguments, errors


def params(**overrides):
    base = dict(api_url='https://backend.flashback.tech', api_token='t', validate_certs=True, ca_path=None, timeout=30,
                max_retries=3)
    base.update(overrides)
    return base


class TestArgumentSpec:
    def test_token_is_no_log_with_env_fallback(self):
        spec = arguments.argument_spec()['api_token']
        assert spec['no_log'] is True
        assert spec['fallback'][1] == ['FLASHBACK_API_TOKEN']
        assert spec['aliases'] == ['access_token']

    def test_module_options_are_added(self):
        spec = arguments.argument_spec(name=dict(type='str'))
        assert set(spec) == {'api_url', 'api_token', 'validate_certs', 'ca_path', 'timeout', 'max_retries',
                             'repo_id', 'repo_name', 'name'}

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
