# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.flashback.platform.plugins.module_utils import runner
from ansible_collections.flashback.platform.plugins.modules import flashback_repo_apikey_info as module_under_test


class TestRun:
    def seed(self, fake_api):
        fake_api.add_key('r1', 'a', 'READ')
        fake_api.add_key('r1', 'b', 'WRITE')
        fake_api.add_key('r1', 'b', 'ADMIN')

    @pytest.mark.parametrize('filters, expected', [
        (dict(), ['k1', 'k2', 'k3']),
        (dict(name='b'), ['k2', 'k3']),
        (dict(access='ADMIN'), ['k3']),
        (dict(key_id='k2'), ['k2']),
        (dict(name='a', access='WRITE'), []),
    ])
    def test_filters(self, fake_api, make_module, filters, expected):
        self.seed(fake_api)
        result = module_under_test.run(make_module(repo_id='r1', **filters), fake_api)
        assert result['changed'] is False
        assert [key['id'] for key in result['apikeys']] == expected

    def test_never_returns_secrets(self, fake_api, make_module):
        self.seed(fake_api)
        result = module_under_test.run(make_module(repo_name='backups'), fake_api)
        assert all(set(key) == {'id', 'name', 'access', 'key', 'repo_id', 'created_at'} for key in result['apikeys'])
        assert 'enc' not in json.dumps(result)


class TestMain:
    def test_through_main(self, module_args, capsys, monkeypatch, fake_api):
        fake_api.add_key('r2', 'x')
        monkeypatch.setattr(runner.client_module, 'FlashbackClient', lambda **kwargs: fake_api)
        with module_args(dict(api_token='unit-test-token', repo_name='media')):
            with pytest.raises(SystemExit):
                module_under_test.main()
        out = json.loads(capsys.readouterr().out)
        assert out['changed'] is False
        assert [key['name'] for key in out['apikeys']] == ['x']

    def test_repo_required(self, module_args, capsys):
        with module_args(dict(api_token='unit-test-token')):
            with pytest.raises(SystemExit):
                module_under_test.main()
        assert 'one of the following is required: repo_id, repo_name' in json.loads(capsys.readouterr().out)['msg']
