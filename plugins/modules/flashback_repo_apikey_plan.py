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
deprecated:
  removed_in: 2.0.0
  why: >-
    It duplicates M(flashback.platform.flashback_repo_apikeys) in check mode, and it is a read-only module whose
    name does not end in C(_info).
  alternative: >-
    Use M(flashback.platform.flashback_repo_apikeys) with C(check_mode: true): the same options, and the same
    RV(flashback.platform.flashback_repo_apikeys#module:changes) and
    RV(flashback.platform.flashback_repo_apikeys#module:key_results).
description:
  - Reads the live API keys of every repository named in O(apikeys) and returns what would have to be
    created, updated or deleted to reach the declared state. Changes nothing.
  - Costs one C(GET /repo) when any entry uses C(repo_name), and one C(GET /repo/{id}/apikey) per repository.
  - It is M(flashback.platform.flashback_repo_apikeys) in check mode, whatever the play's mode; the same decision,
    no write. Use it as a drift report, for example in a CI check.
  - Fails before reading anything when an entry is malformed or declared twice, and fails without planning
    anything when an entry is refused (for example a declared name held by two or more live keys).
author:
  - Flashback platform team (@flashbacknetwork)
extends_documentation_fragment:
  - flashback.platform.attributes
  - flashback.platform.attributes.READ_ONLY
  - flashback.platform.connection
  - flashback.platform.apikeys
seealso:
  - module: flashback.platform.flashback_repo_apikeys
  - module: flashback.platform.flashback_repo_apikey
'''

EXAMPLES = r'''
# Deprecated: the same drift report is flashback.platform.flashback_repo_apikeys with check_mode: true.
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
    before:
      description: The live key as M(flashback.platform.flashback_repo_apikey_info) returns it; V({}) for creates.
      type: dict
      sample: {}
due_soon:
  version_added: 1.0.0
  description: One line per declared key due for rotation within O(warn_before_days) days (also given as warnings).
  returned: when O(warn_before_days) is set
  type: list
  elements: str
  sample: ['r1/ci-reader is due for rotation in 3 days']
key_results:
  version_added: 1.0.0
  description:
    - One entry per declared key as it will be after the changes, then one per key that O(exclusive) deletes.
    - RV(key_results[].id) and RV(key_results[].key) are V(null) for keys still to be created.
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
      description: ID of the key; for a key to be deleted, the ID it has; V(null) for a key still to be created or already absent.
      type: str
      sample: 5d0f4c8e-2a7b-4b8e-9a51-0c3b1f0e7a21
    key:
      description: The access key ID (not secret); V(null) like RV(key_results[].id).
      type: str
      sample: FBK7Q2M9X4L0P3R8T6W1
    action:
      description: What is decided for the key, V(none) when it is as declared.
      type: str
      sample: none
    access:
      description: Access level after the changes; for a key to be deleted, the one it has; V(null) when already absent.
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

from ansible_collections.flashback.platform.plugins.module_utils import _converge as converge
from ansible_collections.flashback.platform.plugins.module_utils._arguments import APIKEY_SET_SPEC, argument_spec
from ansible_collections.flashback.platform.plugins.module_utils._runner import run_module


def run(module, client):
    plan = converge.converge_set(client, module.params, check_mode=True, diff=False, warn=module.warn)
    # Read-only: never changed, whatever the plan says.
    return dict([(field, plan[field]) for field in ('changes', 'key_results', 'due_soon') if field in plan], changed=False)


def main():
    module = AnsibleModule(argument_spec=argument_spec(repository=False, **APIKEY_SET_SPEC), supports_check_mode=True)
    run_module(module, run)


if __name__ == '__main__':
    main()
