# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Flashback platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Merge a key plan with the results of applying it (documentation: apikey_outcome.yml)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

SECRET_FIELDS = ('repo_id', 'name', 'id', 'key', 'access')


def _identity(entry):
    return entry.get('repo_id'), entry.get('name'), entry.get('key_id') or entry.get('id')


def apikey_outcome(plan, apply_results):
    """``{result, new_secrets}`` from flashback_repo_apikey_plan's answer and a registered loop over its changes."""
    if not isinstance(plan, dict) or not isinstance(plan.get('results'), list):
        raise AnsibleFilterError('apikey_outcome expects the registered result of flashback_repo_apikey_plan')
    applied = {}
    new_secrets = []
    for outcome in apply_results or []:
        change = outcome.get('item') or {}
        apikey = outcome.get('apikey') or {}
        applied[(change.get('repo_id'), change.get('name'), change.get('key_id'))] = (outcome, apikey)
        if outcome.get('secret'):
            secret = dict((field, apikey.get(field)) for field in SECRET_FIELDS)
            secret['secret'] = outcome['secret']
            new_secrets.append(secret)

    result = []
    for planned in plan['results']:
        entry = dict(planned)
        repo_id, name, key_id = _identity(planned)
        # Creates are planned without an id; deletes and updates carry the id they act on.
        match = applied.get((repo_id, name, key_id)) or applied.get((repo_id, name, None))
        if match:
            outcome, apikey = match
            entry['changed'] = bool(outcome.get('changed'))
            if apikey:
                entry['id'] = apikey.get('id')
                entry['key'] = apikey.get('key')
        result.append(entry)
    return dict(result=result, new_secrets=new_secrets)


class FilterModule(object):
    def filters(self):
        return dict(apikey_outcome=apikey_outcome)
