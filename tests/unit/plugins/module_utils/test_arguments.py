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


class TestConnectionWarnings:
    @pytest.mark.parametrize('url', ['http://127.0.0.1:8080', 'http://localhost', 'https://example.com'])
    def test_quiet(self, url):
        assert arguments.connection_warnings(params(api_url=url)) == []

    def test_clear_text_token(self):
        assert 'clear text' in arguments.connection_warnings(params(api_url='http://flashback.example.com'))[0]

    def test_no_verification(self):
        assert 'not verified' in arguments.connection_warnings(params(validate_certs=False))[0]
