#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Flashback platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: flashback_repo_apikey_plan
short_description: Compare declared Flashback API keys with the live ones and plan the changes
version_added: 0.1.0
description:
  - Reads the live API keys of every repository named in O(apikeys) and returns what would have to be
    created, updated or deleted to reach the declared state. Changes nothing.
  - Costs one C(GET /repo) when any entry uses C(repo_name), and one C(GET /repo/{id}/apikey) per repository.
  - The P(flashback.platform.repo_apikeys#role) role uses it to run M(flashback.platform.flashback_repo_apikey)
    only for keys that need a change. On its own it is a drift report, for example in a CI check.
  - Fails before reading anything when an entry is malformed or declared twice, and fails without planning
    anything when a declared name is held by two or more live keys.
author:
  - Flashback platform team (@flashbacknetwork)
extends_documentation_fragment:
  - flashback.platform.attributes
  - flashback.platform.attributes.READ_ONLY
  - flashback.platform.connection
options:
  apikeys:
    description:
      - The declared keys.
      - Each entry is checked before any request, and a bad one fails the module naming its position and
        name; the option types below are the only checks Ansible makes itself.
    type: list
    elements: dict
    required: true
    suboptions:
      repo_id:
        description: ID of the key's repository. Exactly one of O(apikeys[].repo_id) and O(apikeys[].repo_name).
        type: str
      repo_name:
        description: Name of the key's repository.
        type: str
      name:
        description: Name of the key (required); declare each repository and name once.
        type: str
      access:
        description: Access level the key should have, V(READ) (the default), V(WRITE) or V(ADMIN).
        type: str
      state:
        description:
          - V(present) (the default) or V(absent).
          - V(absent) plans deleting every live key with this name.
        type: str
      rotate:
        description:
          - Plan replacing the key with a new one (see O(flashback.platform.flashback_repo_apikey#module:rotate)).
          - Every plan with V(true) includes the rotation.
        type: bool
      max_age_days:
        description:
          - Plan a rotation when the key's C(createdAt) is more than this many days ago. Overrides O(max_age_days).
        type: int
  exclusive:
    description:
      - Also plan deleting the live keys of each repository named in O(apikeys) that are not declared there.
    type: bool
    default: false
  protected:
    description:
      - Key names that O(exclusive=true) never plans to delete.
      - The replacement of an unfinished rotation of a declared name is never deleted either.
    type: list
    elements: str
    default: []
  max_age_days:
    description:
      - Default for O(apikeys[].max_age_days) of the entries that set neither it nor O(apikeys[].rotate).
    type: int
seealso:
  - module: flashback.platform.flashback_repo_apikey
'''

EXAMPLES = r'''
- name: Report drift between the declared keys and Flashback
  flashback.platform.flashback_repo_apikey_plan:
    api_token: "{{ flashback_token }}"
    apikeys:
      - {repo_name: backups, name: ci-reader, access: READ}
      - {repo_id: r2, name: ingest, access: WRITE}
    exclusive: true
    protected: [break-glass]
  register: drift

- name: Fail the pipeline when keys drifted
  ansible.builtin.assert:
    that: drift.changes | length == 0
    fail_msg: "{{ drift.changes | map(attribute='action') | list }}"
'''

RETURN = r'''
changes:
  description: The writes needed, in order; empty when everything is as declared.
  returned: always
  type: list
  elements: dict
  contains:
    action:
      description:
        - V(create), V(update) (access level), V(rotate), V(finish_rotation) (complete a rotation a failed run
          left halfway) or V(delete).
      type: str
      sample: update
    repo_id:
      description: ID of the repository.
      type: str
      sample: r1
    name:
      description: Name of the key.
      type: str
      sample: ci-reader
    access:
      description: The access level the key should have (for deletes, the one it has).
      type: str
      sample: WRITE
    state:
      description: V(present) for creates and updates, V(absent) for deletes.
      type: str
      sample: present
    key_id:
      description: ID of the live key to update or delete; V(null) for creates.
      type: str
      sample: 5d0f4c8e-2a7b-4b8e-9a51-0c3b1f0e7a21
    rotate:
      description: The entry's O(apikeys[].rotate).
      type: bool
      sample: false
    max_age_days:
      description: The entry's effective O(apikeys[].max_age_days), or V(null).
      type: int
      sample: 90
    before:
      description: The live key as M(flashback.platform.flashback_repo_apikey_info) returns it; V({}) for creates.
      type: dict
      sample: {}
results:
  description:
    - One entry per declared key as it will be after the changes, then one per key that O(exclusive) deletes.
    - RV(results[].id) and RV(results[].key) are V(null) for keys still to be created.
  returned: always
  type: list
  elements: dict
  contains:
    repo_id:
      description: ID of the repository.
      type: str
      sample: r1
    name:
      description: Name of the key.
      type: str
      sample: ci-reader
    id:
      description: ID of the key; V(null) for a key still to be created or for a declared absent key.
      type: str
      sample: 5d0f4c8e-2a7b-4b8e-9a51-0c3b1f0e7a21
    key:
      description: The access key ID (not secret); V(null) like RV(results[].id).
      type: str
      sample: FBK7Q2M9X4L0P3R8T6W1
    access:
      description: Access level after the changes; V(null) for a declared absent key.
      type: str
      sample: READ
    state:
      description: V(present) or V(absent).
      type: str
      sample: present
    changed:
      description: Whether reaching the declared state needs a write.
      type: bool
      sample: false
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.flashback.platform.plugins.module_utils.arguments import argument_spec
from ansible_collections.flashback.platform.plugins.module_utils.plan import ENTRY_TYPES, build_plan
from ansible_collections.flashback.platform.plugins.module_utils.runner import run_module


def run(module, client):
    plan = build_plan(client, module.params['apikeys'], exclusive=module.params['exclusive'],
                      protected=module.params['protected'], max_age_days=module.params['max_age_days'])
    return dict(changed=False, **plan)


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            repository=False,
            # Types only: plan.validate_entries checks the rest and names the bad entry.
            apikeys=dict(type='list', elements='dict', required=True, no_log=False, options=dict(
                (field, dict(type=type_name)) for field, type_name in ENTRY_TYPES.items())),
            exclusive=dict(type='bool', default=False),
            protected=dict(type='list', elements='str', default=[]),
            max_age_days=dict(type='int'),
        ),
        supports_check_mode=True,
    )
    run_module(module, run)


if __name__ == '__main__':
    main()
