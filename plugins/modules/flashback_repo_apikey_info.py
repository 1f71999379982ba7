#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Flashback platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: flashback_repo_apikey_info
short_description: List the API keys of a Flashback repository
version_added: 0.1.0
description:
  - Lists the live API keys of one Flashback repository, optionally filtered by name, ID or access level.
  - Never returns a secret, neither in plain text nor the encrypted form the API's list answer carries.
author:
  - Flashback platform team (@flashbacknetwork)
extends_documentation_fragment:
  - flashback.platform.attributes
  - flashback.platform.attributes.READ_ONLY
  - flashback.platform.connection
  - flashback.platform.connection.REPOSITORY
options:
  name:
    description: Only return keys with this name.
    type: str
  key_id:
    description: Only return the key with this ID.
    type: str
  access:
    description: Only return keys with this access level.
    type: str
    choices: [READ, WRITE, ADMIN]
seealso:
  - module: flashback.platform.flashback_repo_apikey
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
'''

RETURN = r'''
apikeys:
  description: The repository's live keys that match the filters, in the order the API lists them.
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
    created_at:
      description: Creation time (ISO 8601) as reported by the API.
      type: str
      sample: '2026-11-27T10:00:00.000Z'
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.flashback.platform.plugins.module_utils import apikeys
from ansible_collections.flashback.platform.plugins.module_utils.arguments import (
    REPO_MUTUALLY_EXCLUSIVE,
    REPO_REQUIRED_ONE_OF,
    argument_spec,
)
from ansible_collections.flashback.platform.plugins.module_utils.reconcile import ACCESS_LEVELS
from ansible_collections.flashback.platform.plugins.module_utils.runner import run_module


def run(module, client):
    params = module.params
    repo_id = apikeys.resolve_repo_id(client, params['repo_id'], params['repo_name'])
    keys = apikeys.filter_keys(apikeys.list_keys(client, repo_id),
                               name=params['name'], key_id=params['key_id'], access=params['access'])
    return dict(changed=False, apikeys=keys)


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            name=dict(type='str'),
            key_id=dict(type='str'),
            access=dict(type='str', choices=ACCESS_LEVELS),
        ),
        mutually_exclusive=REPO_MUTUALLY_EXCLUSIVE,
        required_one_of=REPO_REQUIRED_ONE_OF,
        supports_check_mode=True,
    )
    run_module(module, run)


if __name__ == '__main__':
    main()
