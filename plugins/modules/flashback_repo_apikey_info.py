#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Flashback platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: flashback_repo_apikey_info
short_description: List the API keys of one or every Flashback repository, with their age and due dates
version_added: 0.1.0
description:
  - Lists the live API keys of one Flashback repository (O(repo_id) or O(repo_name)) or, with neither, of every
    repository the token can see (the fleet report), optionally filtered by name, ID or access level.
  - Each key comes with its repository, its age in whole days and, for a key that a grace-period rotation keeps
    until a date, that date. With O(max_age_days), each key also says in how many days it is due for rotation.
  - "Requests: by O(repo_id), one key listing and one C(GET /repo?repoId=) for the repository's name; by
    O(repo_name), one C(GET /repo) and one listing; the fleet report, one C(GET /repo) and one listing per
    repository, O(concurrency) at a time. Nothing else is sent."
  - Never returns a secret, neither in plain text nor the encrypted form the API's list answer carries.
  - The P(flashback.platform.apikey_report#role) role turns the fleet report into Markdown and CSV tables sorted by
    urgency.
author:
  - Flashback platform team (@flashbacknetwork)
extends_documentation_fragment:
  - flashback.platform.attributes
  - flashback.platform.attributes.READ_ONLY
  - flashback.platform.connection
options:
  repo_id:
    description:
      - ID of the repository to list.
      - At most one of O(repo_id) and O(repo_name). With neither, every repository the token can see is listed.
    type: str
  repo_name:
    description:
      - Name of the repository to list, resolved to its ID with one C(GET /repo).
      - Fails if no repository or more than one repository visible to the token has this name.
      - At most one of O(repo_id) and O(repo_name). With neither, every repository the token can see is listed.
    type: str
  name:
    description: Only return keys with this name (the name as listed; a retiring key's name carries its marker).
    type: str
  key_id:
    description: Only return the key with this ID.
    type: str
  access:
    description: Only return keys with this access level.
    type: str
    choices: [READ, WRITE, ADMIN]
  max_age_days:
    description:
      - The age in days after which a key is due for rotation, as in the C(max_age_days) of
        M(flashback.platform.flashback_repo_apikey). Sets RV(apikeys[].due_in_days) on every key.
      - 1 or more.
    type: int
    version_added: 1.0.0
  concurrency:
    description:
      - How many repositories the fleet report lists at once (1 to 16). A C(429) answer holds back every request
        for its C(Retry-After).
      - Used only without O(repo_id) and O(repo_name), but checked always.
    type: int
    default: 4
    version_added: 1.0.0
notes:
  - A listing that fails fails the whole run, also in the fleet report, so that a report never silently misses a
    repository.
  - Ages are counted in UTC from the C(createdAt) the API reports.
seealso:
  - module: flashback.platform.flashback_repo_apikey
  - module: flashback.platform.flashback_repo_apikeys
'''

EXAMPLES = r'''
- name: List every key of the backups repository
  flashback.platform.flashback_repo_apikey_info:
    api_token: "{{ flashback_token }}"
    repo_name: backups
  register: backups_keys

- name: Show which keys can write to repository r2
  flashback.platform.flashback_repo_apikey_info:
    api_token: "{{ flashback_token }}"
    repo_id: r2
    access: WRITE
  register: writers

- name: Print their names
  ansible.builtin.debug:
    msg: "{{ writers.apikeys | map(attribute='name') | list }}"

- name: Report every key of every repository the token can see, due for rotation after 90 days
  flashback.platform.flashback_repo_apikey_info:
    api_token: "{{ flashback_token }}"
    max_age_days: 90
  register: fleet

- name: Name the keys due within two weeks (overdue ones included)
  ansible.builtin.debug:
    msg: "{{ fleet.apikeys | rejectattr('due_in_days', 'none') | selectattr('due_in_days', 'le', 14)
      | map(attribute='name') | list }}"

- name: Fail when any ADMIN key anywhere is older than a year
  ansible.builtin.assert:
    that: fleet.apikeys | selectattr('access', 'equalto', 'ADMIN') | rejectattr('age_days', 'none')
      | selectattr('age_days', 'gt', 365) | list | length == 0
    fail_msg: ADMIN keys older than a year exist; rotate them
'''

RETURN = r'''
apikeys:
  description:
    - The live keys that match the filters, repository by repository (in the order C(GET /repo) lists them, or
      the one repository asked for), each repository's keys in the order the API lists them.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: ID of the key.
      type: str
      sample: 5d0f4c8e-2a7b-4b8e-9a51-0c3b1f0e7a21
    name:
      description: Name of the key.
      type: str
      sample: ci-reader
    access:
      description: Access level.
      type: str
      sample: READ
    key:
      description: The access key ID (not secret).
      type: str
      sample: FBK7Q2M9X4L0P3R8T6W1
    repo_id:
      description: ID of the repository.
      type: str
      sample: r1
    repo_name:
      description:
        - Name of the repository.
        - With O(repo_id), the name the API gives for that ID (one C(GET /repo?repoId=)); V(null) when its answer
          does not list that repository (an API that ignores the filter lists them all, and the one with this ID
          is picked).
      type: str
      sample: backups
      version_added: 1.0.0
    created_at:
      description: Creation time (ISO 8601) as reported by the API.
      type: str
      sample: '2026-11-27T10:00:00.000Z'
    age_days:
      description:
        - Whole days since RV(apikeys[].created_at), in UTC (V(0) on the day of creation).
        - V(null) when the API gave no readable creation time.
      type: int
      sample: 42
      version_added: 1.0.0
    retiring:
      description:
        - Whether this is an old key that a rotation with a grace period (C(retire_after_days)) keeps valid until
          RV(apikeys[].retire_after). Such a key is renamed to its name followed by C(retiring after YYYY-MM-DD) and a
          check digest, in parentheses.
      type: bool
      sample: false
      version_added: 1.0.0
    retire_after:
      description:
        - For a retiring key, the date (C(YYYY-MM-DD), UTC) on or after which the next run of a rotation deletes it;
          otherwise V(null).
      type: str
      sample: null
      version_added: 1.0.0
    due_in_days:
      description:
        - Days until the key is due for rotation, O(max_age_days) less RV(apikeys[].age_days). V(0) on the day it falls
          due, negative when it is overdue (V(-3) is three days late).
        - V(null) when its age is unknown. For a retiring key, which is no longer rotated, RV(apikeys[].retire_after)
          is the date that matters.
      returned: when O(max_age_days) is set
      type: int
      sample: 48
      version_added: 1.0.0
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.flashback.platform.plugins.module_utils import _apikeys as apikeys, _converge as converge, _reconcile as reconcile
from ansible_collections.flashback.platform.plugins.module_utils._arguments import (
    REPO_MUTUALLY_EXCLUSIVE,
    argument_spec,
)
from ansible_collections.flashback.platform.plugins.module_utils._errors import ConfigurationError
from ansible_collections.flashback.platform.plugins.module_utils._runner import run_module


def report_key(key, repo_name, now, max_age_days=None):
    """One listed key as the module returns it at ``now`` (naive UTC): its repository's name, age and retirement."""
    created = reconcile.parse_created_at(key.get('created_at'))
    # max(): a createdAt a little ahead of this clock (skew between the API's clock and ours) is a key made today.
    age_days = None if created is None else max((now - created).days, 0)
    retiring = reconcile.parse_retiring(key['name'])
    view = dict(key, repo_name=repo_name, age_days=age_days, retiring=retiring is not None,
                retire_after=retiring[1] if retiring else None)
    if max_age_days is not None:
        view['due_in_days'] = None if age_days is None else max_age_days - age_days
    return view


def check_options(params):
    """What the argument spec cannot express; raises ConfigurationError before any request."""
    for option in ('repo_id', 'repo_name'):
        # A variable that rendered empty must not turn a one-repository run into a report of every repository.
        if params[option] is not None and not params[option].strip():
            raise ConfigurationError('%s is empty: give a value, or leave out both repo_id and repo_name to list '
                                     'every repository' % option)
    if not 1 <= params['concurrency'] <= converge.MAX_CONCURRENCY:
        raise ConfigurationError('concurrency is %r; use 1 to %d' % (params['concurrency'], converge.MAX_CONCURRENCY))
    if params['max_age_days'] is not None and params['max_age_days'] < 1:
        raise ConfigurationError('max_age_days is %r; use 1 or more' % params['max_age_days'])


def listings(client, params):
    """``[(repo_name, keys)]`` of the one repository asked for, or of every repository the token can see."""
    if params['repo_name'] is not None:
        repo_id = apikeys.resolve_repo_id(client, repo_name=params['repo_name'])
        return [(params['repo_name'], apikeys.list_keys(client, repo_id))]
    if params['repo_id'] is not None:
        # Keys first: a repository that cannot be listed fails with the listing's error, before the name is asked.
        keys = apikeys.list_keys(client, params['repo_id'])
        return [(apikeys.repo_name(client, params['repo_id']), keys)]
    repos = apikeys.list_repos(client)
    keys = converge._pool_map(lambda repo: apikeys.list_keys(client, repo['id']), repos, params['concurrency'])
    return [(repo['name'], repo_keys) for repo, repo_keys in zip(repos, keys)]


def run(module, client):
    params = module.params
    check_options(params)
    now = converge.utc_now()
    keys = [report_key(key, repo_name, now, params['max_age_days'])
            for repo_name, repo_keys in listings(client, params) for key in repo_keys]
    return dict(changed=False, apikeys=apikeys.filter_keys(keys, name=params['name'], key_id=params['key_id'],
                                                           access=params['access']))


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            name=dict(type='str'),
            key_id=dict(type='str'),
            access=dict(type='str', choices=reconcile.ACCESS_LEVELS),
            max_age_days=dict(type='int'),
            concurrency=dict(type='int', default=converge.DEFAULT_CONCURRENCY),
        ),
        mutually_exclusive=REPO_MUTUALLY_EXCLUSIVE,
        supports_check_mode=True,
    )
    run_module(module, run)


if __name__ == '__main__':
    main()
