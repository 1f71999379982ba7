# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.flashback.platform.plugins.filter.apikey_outcome import FilterModule, apikey_outcome

PLAN = dict(results=[
    dict(repo_id='r1', name='new', id=None, key=None, access='READ', state='present', changed=True),
    dict(repo_id='r1', name='same', id='k1', key='FBK1', access='READ', state='present', changed=False),
    dict(repo_id='r1', name='up', id='k2', key='FBK2', access='ADMIN', state='present', changed=True),
    dict(repo_id='r1', name='rot', id=None, key=None, access='READ', state='present', changed=True),
])


def applied(action, name, key_id=None, **result):
    result.setdefault('changed', True)
    result['item'] = dict(action=action, repo_id='r1', name=name, key_id=key_id)
    return result


class TestApikeyOutcome:
    def test_merges_created_ids_and_collects_secrets(self):
        outcome = apikey_outcome(PLAN, [
            applied('create', 'new', apikey=dict(id='k9', key='FBK9', name='new', access='READ', repo_id='r1'),
                    secret='s9'),
            applied('update', 'up', key_id='k2', apikey=dict(id='k2', key='FBK2', access='ADMIN')),
        ])
        assert outcome['result'][0] == dict(PLAN['results'][0], id='k9', key='FBK9')
        assert outcome['result'][1] == PLAN['results'][1]
        assert outcome['result'][2]['changed'] is True
        assert outcome['new_secrets'] == [dict(repo_id='r1', name='new', id='k9', key='FBK9', access='READ', secret='s9')]
        assert outcome['failures'] == []

    def test_failed_rotation_keeps_its_secret_under_the_declared_name(self):
        outcome = apikey_outcome(PLAN, [applied(
            'rotate', 'rot', key_id='k3', changed=False, failed=True, msg='rotating API key: store the secret now',
            apikey=dict(id='k4', key='FBK4', name='rot (replacing k3)', access='READ', repo_id='r1'), secret='s4')])
        assert outcome['new_secrets'][0]['name'] == 'rot'
        assert outcome['new_secrets'][0]['secret'] == 's4'
        assert outcome['failures'] == ['rotate r1/rot: rotating API key: store the secret now']
        assert outcome['result'][3]['changed'] is False

    def test_no_changes(self):
        assert apikey_outcome(PLAN, []) == dict(result=PLAN['results'], new_secrets=[], failures=[])

    @pytest.mark.parametrize('plan', [None, {}, dict(results='x')])
    def test_rejects_what_is_not_a_plan(self, plan):
        with pytest.raises(AnsibleFilterError):
            apikey_outcome(plan, [])

    def test_registered(self):
        assert FilterModule().filters()['apikey_outcome'] is apikey_outcome
