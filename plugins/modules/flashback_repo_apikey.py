#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Flashback platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: flashback_repo_apikey
short_description: Create, update and delete Flashback repository API keys
version_added: 0.1.0
description:
  - Ensures an API key of a Flashback repository exists with the given name and access level, or does not exist.
  - A key is identified by its O(name) among the repository's live keys, or by O(key_id).
  - The key's secret is returned only by the run that creates the key, in RV(secret). The API cannot show it
    again; store it right away (for example in a vault).
  - Access drift is fixed in place (same key, same secret); renaming requires O(key_id).
author:
  - Flashback platform team (@flashbacknetwork)
extends_documentation_fragment:
  - flashback.platform.attributes
  - flashback.platform.connection
  - flashback.platform.connection.REPOSITORY
attributes:
  check_mode:
    description: Can run in check mode and return the changed status prediction without modifying the target.
    support: full
    details: Sends no write request; predicts C(changed) and RV(apikey) (with RV(apikey.id=null) for a key that
      would be created).
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
    details: Shows the key before and after, never a secret.
options:
  name:
    description:
      - Name of the key.
      - Without O(key_id), the key's identity among the repository's live keys. If two or more live keys have
        this name the module fails, lists their IDs and changes nothing; set O(key_id) to pick one.
      - With O(key_id), the desired name of that key (a rename). A rename onto a name another live key has fails.
    type: str
    required: true
  key_id:
    description:
      - ID of an existing key to manage. Use it to rename a key or to pick one of several same-named keys.
      - With O(state=present), fails if the repository has no live key with this ID (an ID cannot be chosen
        when creating).
    type: str
  access:
    description:
      - Access level of the key.
      - When creating a key, defaults to V(READ).
      - When omitted, an existing key's access level is left as it is.
    type: str
    choices: [READ, WRITE, ADMIN]
  state:
    description:
      - V(present) creates the key or updates its name and access level in place.
      - V(absent) deletes the key if it exists (every live key with O(name), or the one with O(key_id)), and the
        replacement of an unfinished rotation of it.
    type: str
    choices: [present, absent]
    default: present
  rotate:
    version_added: 1.0.0
    description:
      - Replace the existing key with a new one of the same name and access level, returning the new RV(secret).
      - Every run with V(true) rotates; use it for explicit, one-off rotation (for example after a leak). For
        periodic rotation use O(max_age_days).
      - The new key is created before the old one is deleted. It is created under the marker name
        C(<name> (replacing <old id>)) plus a check digest, and takes over O(name) once the old key is gone, so a run that fails halfway
        leaves a state the next run finishes without creating another key. See the rotation guide in C(docs/).
      - Only with O(state=present). Mutually exclusive with O(max_age_days).
      - The decision (create, update, rotate, finish a rotation, delete) is made by the same code as
        M(flashback.platform.flashback_repo_apikeys), so one key and a declared set behave alike.
    type: bool
    default: false
  max_age_days:
    version_added: 1.0.0
    description:
      - Rotate the existing key (as O(rotate) does) only when its C(createdAt) is more than this many days ago.
      - A rerun right after a rotation changes nothing. Fails if the API gives no readable C(createdAt).
      - Only with O(state=present).
    type: int
  retire_after_days:
    version_added: 1.0.0
    description:
      - Grace period of a rotation (by O(rotate) or O(max_age_days)). V(0) (the default) deletes the old key at once.
      - V(N) keeps the old key valid, renamed to C(<name> (retiring after YYYY-MM-DD)) plus a check digest, the date
        N days from the rotation (UTC), so consumers can switch to the new secret. Runs before that date leave it
        alone; the first run on or after it deletes it (one C(DELETE)). RV(replaced) tells its name and date.
      - V(state=absent) deletes the key's retiring predecessors too. Only with O(state=present).
    type: int
seealso:
  - module: flashback.platform.flashback_repo_apikey_info
'''

EXAMPLES = r'''
- name: Ensure the CI runner has a read-only key on the backups repository
  flashback.platform.flashback_repo_apikey:
    api_url: https://backend.flashback.tech
    api_token: "{{ flashback_token }}"
    repo_name: backups
    name: ci-reader
    access: READ
  register: ci_key
  no_log: true  # the result can hold the one-time secret

- name: Store the one-time secret as soon as it exists
  ansible.builtin.copy:
    content: "{{ {'key': ci_key.apikey.key, 'secret': ci_key.secret} | to_json }}"
    dest: /etc/ci/flashback-key.json
    mode: "0600"
  when: ci_key.secret is defined
  no_log: true

- name: Give the ingest service write access (connection options from module_defaults)
  module_defaults:
    group/flashback.platform.flashback:
      api_token: "{{ flashback_token }}"
  block:
    - name: Ensure the ingest key can write to repository r2
      flashback.platform.flashback_repo_apikey:
        repo_id: r2
        name: ingest
        access: WRITE
      no_log: true  # a create returns the one-time secret

    - name: Rename a key by its ID, keeping its access and secret
      flashback.platform.flashback_repo_apikey:
        repo_id: r2
        key_id: "{{ ingest_key_id }}"
        name: ingest-service

- name: Rotate the CI key when it is older than 90 days
  flashback.platform.flashback_repo_apikey:
    api_token: "{{ flashback_token }}"
    repo_name: backups
    name: ci-reader
    access: READ
    max_age_days: 90
  register: ci_rotation
  no_log: true  # the result can hold the one-time secret

- name: Replace a leaked key now
  flashback.platform.flashback_repo_apikey:
    api_token: "{{ flashback_token }}"
    repo_id: r2
    name: ingest-service
    rotate: true
  register: ingest_rotation
  no_log: true  # the result can hold the one-time secret

- name: Delete the key of a retired service
  flashback.platform.flashback_repo_apikey:
    api_token: "{{ flashback_token }}"
    repo_id: r2
    name: legacy-uploader
    state: absent
'''

RETURN = r'''
apikey:
  description:
    - The key after the run (in check mode, as it would be). Never holds a secret.
    - An empty dict when the key is absent.
  returned: always
  type: dict
  contains:
    id:
      description: ID of the key; V(null) in check mode for a key that would be created.
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
      description: The access key ID (not secret) that clients present with the secret.
      type: str
      sample: FBK7Q2M9X4L0P3R8T6W1
    repo_id:
      description: ID of the repository the key belongs to.
      type: str
      sample: r1
    created_at:
      description:
        - Creation time (ISO 8601) as reported by the API.
        - V(null) in the run that creates the key, because the API's create answer does not carry it.
      type: str
      sample: '2026-11-27T10:00:00.000Z'
secret:
  description:
    - The key's secret. Only returned by the run that created (or rotated) the key; the API cannot return it again.
    - Also returned when a rotation created the new key but failed to retire the old one; the task fails, and the
      next run finishes the rotation.
  returned: when a key was created or rotated
  type: str
  sample: 3q2-7wEXAMPLEvY1s0r6c1N8hF5Jb0dQmZkT
replaced:
  version_added: 1.0.0
  description: The key a rotation replaced (also when a run finished an interrupted rotation).
  returned: when a key was rotated
  type: dict
  contains:
    id:
      description: ID of the old key.
      type: str
      sample: 0b7c3e52-3a0a-4c5e-8a8e-5f4f1d2e9c11
    key:
      description: The old access key ID.
      type: str
      sample: FBK0OLDKEY00000000000
    created_at:
      description: When the old key was created.
      type: str
      sample: '2026-08-01T09:00:00.000Z'
    name:
      description: The name the old key keeps until it is retired.
      type: str
      returned: with O(retire_after_days) above 0
      sample: 'ci-reader (retiring after 2026-12-04 #1a2b3c4d)'
    retire_after:
      description: The date (UTC, C(YYYY-MM-DD)) on or after which a run deletes the old key.
      type: str
      returned: with O(retire_after_days) above 0
      sample: '2026-12-04'
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.flashback.platform.plugins.module_utils import _converge as converge
from ansible_collections.flashback.platform.plugins.module_utils._arguments import (
    REPO_MUTUALLY_EXCLUSIVE,
    REPO_REQUIRED_ONE_OF,
    SINGLE_APIKEY_SPEC,
    argument_spec,
)
from ansible_collections.flashback.platform.plugins.module_utils._errors import FlashbackError
from ansible_collections.flashback.platform.plugins.module_utils._reconcile import ENTRY_SPEC
from ansible_collections.flashback.platform.plugins.module_utils._runner import run_module


def _label(index, entry):
    return 'API key %r' % entry.get('name')


def run(module, client):
    """One entry through the same decision and executor as flashback_repo_apikeys."""
    entry = dict((field, module.params[field]) for field in ENTRY_SPEC)
    outcome = converge.converge(client, [entry], check_mode=module.check_mode, label=_label)['outcomes'][0]
    result = dict(changed=outcome.changed, apikey=outcome.after or {})
    # secret and replaced are returned only when there is one (never a null secret).
    if outcome.secret:
        result['secret'] = outcome.secret
    if outcome.replaced:
        result['replaced'] = outcome.replaced
    if module._diff:
        result['diff'] = dict(before=outcome.decision.current or {}, after=result['apikey'])
    if outcome.error:
        # A failed run still hands back what it did, the new secret included.
        raise FlashbackError(outcome.error, **result)
    return result


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(**SINGLE_APIKEY_SPEC),
        mutually_exclusive=REPO_MUTUALLY_EXCLUSIVE,
        required_one_of=REPO_REQUIRED_ONE_OF,
        supports_check_mode=True,
    )
    run_module(module, run)


if __name__ == '__main__':
    main()
