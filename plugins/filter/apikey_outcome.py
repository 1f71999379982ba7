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
    """``{result, new_secrets, failures}`` from flashback_repo_apikey_plan's answer and a registered loop over its changes."""
    if not isinstance(plan, dict) or not isinstance(plan.get('results'), list):
        raise AnsibleFilterError('apikey_outcome expects the registered result of flashback_repo_apikey_plan')
    applied, applied_by_name = {}, {}
    new_secrets = []
    failures = []
    for outcome in apply_results or []:
        change = outcome.get('item') or {}
        apikey = outcome.get('apikey') or {}
        applied[(change.get('repo_id'), change.get('name'), change.get('key_id'))] = (outcome, apikey)
        applied_by_name.setdefault((change.get('repo_id'), change.get('name')), (outcome, apikey))
        if outcome.get('secret'):
            # A failed rotation still returns its new key, under a temporary name: file it under the declared one.
            secret = dict((field, apikey.get(field)) for field in SECRET_FIELDS)
            secret.update(repo_id=change.get('repo_id', secret['repo_id']), name=change.get('name', secret['name']),
                          secret=outcome['secret'])
            new_secrets.append(secret)
        if outcome.get('failed'):
            failures.append('%s %s/%s: %s' % (change.get('action'), change.get('repo_id'), change.get('name'),
                                              outcome.get('msg')))

    result = []
    for planned in plan['results']:
        entry = dict(planned)
        repo_id, name, key_id = _identity(planned)
        # Updates and deletes carry the id they act on; creates and rotations are planned without
        # the (new) id, and a declared name has at most one such change.
        match = applied.get((repo_id, name, key_id)) or applied_by_name.get((repo_id, name))
        if match:
            outcome, apikey = match
            entry['changed'] = bool(outcome.get('changed'))
            if apikey:
                entry['id'] = apikey.get('id')
                entry['key'] = apikey.get('key')
        result.append(entry)
    return dict(result=result, new_secrets=new_secrets, failures=failures)


class FilterModule(object):
    def filters(self):
        return dict(apikey_outcome=apikey_outcome)
