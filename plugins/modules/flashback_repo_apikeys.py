#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Flashback platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: flashback_repo_apikeys
short_description: Converge a declared set of Flashback repository API keys in one run
version_added: 0.2.0
description:
  - Brings every key in O(apikeys), across any number of repositories, to its declared state in one module run.
  - Reads once, then writes only what differs. It lists each repository once (plus one C(GET /repo) when an entry
    uses O(apikeys[].repo_name)), decides every entry, and sends exactly one C(POST) per create, one C(PUT) per
    update and one C(DELETE) per key deleted. A rotation is C(POST), C(DELETE), C(PUT); the new key is created
    under a marker name (C(<name> (replacing <old id>)) plus a check digest), the old key deleted, the new key renamed, so a rerun finishes
    an interrupted rotation without creating another key.
  - The decision for each key is the same as M(flashback.platform.flashback_repo_apikey)'s (one shared function).
    An omitted O(apikeys[].access) means V(READ) for a new key and keeps an existing key's level.
  - Nothing is written when an entry is malformed or refused (two live keys with a declared name, an ambiguous
    interrupted rotation, a rename onto a taken name), or when a listing fails.
  - When some writes fail, the module still returns every change made and every secret minted (RV(new_secrets)),
    names each failed entry in RV(failures) and in the failure message, and then fails. Run it with C(no_log) (the
    P(flashback.platform.repo_apikeys#role) role does); the result holds one-time secrets.
  - Repositories are worked on concurrently (O(concurrency)), the keys of one repository in order.
author:
  - Flashback platform team (@flashbacknetwork)
extends_documentation_fragment:
  - flashback.platform.attributes
  - flashback.platform.connection
  - flashback.platform.apikeys
attributes:
  check_mode:
    description: Can run in check mode and return the changed status prediction without modifying the target.
    support: full
    details: Sends no write; RV(changes) and RV(key_results) are the plan (the same as M(flashback.platform.flashback_repo_apikey_plan)).
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
    details: One before/after per changed key, never a secret.
options:
  retire_old_keys:
    description:
      - V(false) stops each rotation after creating its replacement (whose secret is returned) and leaves the old key
        live and valid under its name; an interrupted rotation found is left as it is. A later run with V(true) retires
        the old keys (deletes them and gives the replacements their names).
      - Use V(false), then V(true), to hand new secrets to their consumers before the old keys stop working.
    type: bool
    default: true
  create_keys:
    description:
      - V(false) creates no key. Creations and rotations are reported (RV(key_results[].pending_create),
        RV(key_results[].pending_rotation)) but not made; everything else (finishing rotations under way, updates, deletes,
        withdrawals) is done.
      - The second phase of a two-phase rotation uses it, so that it never mints a secret after the delivery step.
    type: bool
    default: true
  undelivered:
    description:
      - New keys whose secret did not reach its owner, as returned in RV(new_secrets) by an earlier run with
        O(retire_old_keys=false) (only O(undelivered[].repo_id) and O(undelivered[].id) are needed).
      - Each is withdrawn (deleted) instead of being finished; a rotation's replacement goes and the old key stays valid
        under its name; a newly created key goes. A later run creates and hands out another one.
      - Ids that are not the new key of a declared entry are left alone.
    type: list
    elements: dict
    default: []
    suboptions:
      repo_id:
        description: ID of the key's repository.
        type: str
        required: true
      id:
        description: ID of the key.
        type: str
        required: true
seealso:
  - module: flashback.platform.flashback_repo_apikey
  - module: flashback.platform.flashback_repo_apikey_plan
'''

EXAMPLES = r'''
- name: Converge the keys of two repositories
  flashback.platform.flashback_repo_apikeys:
    api_token: "{{ flashback_token }}"
    apikeys:
      - {repo_name: backups, name: ci-reader}
      - {repo_id: r2, name: ingest, access: WRITE}
      - {repo_id: r2, name: legacy-uploader, state: absent}
    max_age_days: 90
  register: fleet
  no_log: true  # the result holds every new secret

- name: Store each new secret in a 0600 file, one per repository and key name
  flashback.platform.flashback_secret_files:
    path: /etc/flashback/keys
    secrets: "{{ fleet.new_secrets }}"
  no_log: true

- name: Rotate keys older than 90 days, keeping each old key valid for 7 more days (grace period)
  flashback.platform.flashback_repo_apikeys:
    api_token: "{{ flashback_token }}"
    apikeys:
      - {repo_id: r2, name: ingest}
    max_age_days: 90
    retire_after_days: 7
    warn_before_days: 14
  register: graced
  no_log: true

- name: Rotate in two phases, delivering the new secrets while the old keys still work
  flashback.platform.flashback_repo_apikeys:
    api_token: "{{ flashback_token }}"
    apikeys:
      - {repo_id: r2, name: ingest, rotate: true}
    retire_old_keys: false
  register: rotation
  no_log: true

# ... deliver each of rotation.new_secrets; collect the ones that could not be delivered in `undelivered` ...

- name: Retire the old keys of the delivered secrets; withdraw the new keys that were not delivered
  flashback.platform.flashback_repo_apikeys:
    api_token: "{{ flashback_token }}"
    apikeys:
      - {repo_id: r2, name: ingest, rotate: true}
    create_keys: false
    undelivered: "{{ undelivered | default([]) }}"
  no_log: true  # with create_keys false no secret comes back, but keep the habit on every call of this module
'''

RETURN = r'''
changes:
  description: The changes made (in check mode, to be made), in order.
  returned: always
  type: list
  elements: dict
  contains:
    action:
      description: V(create), V(update), V(rotate), V(finish_rotation), V(delete), V(retire) (delete retiring keys whose date
        has come) or V(withdraw) (delete an O(undelivered) new key).
      type: str
      sample: create
    repo_id:
      description: ID of the repository.
      type: str
      sample: r1
    name:
      description: Name of the key.
      type: str
      sample: ci-reader
    access:
      description: The access level the key ends with (for deletes, the one it had).
      type: str
      sample: READ
    state:
      description: V(present), or V(absent) for deletes.
      type: str
      sample: present
    key_id:
      description: ID of the live key changed; V(null) for creates.
      type: str
      sample: null
    before:
      description: The live key before the change; V({}) for creates.
      type: dict
      sample: {}
key_results:
  description: One entry per declared key, in order, then one per key O(exclusive) deleted.
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
    action:
      description: What was decided (see RV(changes[].action)), V(none) when the key was already as declared.
      type: str
      sample: none
    id:
      description:
        - ID of the key after the run; for a deleted key, the ID it had.
        - V(null) for a key that was already absent or one check mode would create.
      type: str
      sample: 5d0f4c8e-2a7b-4b8e-9a51-0c3b1f0e7a21
    key:
      description: The access key ID (not secret); V(null) like RV(key_results[].id).
      type: str
      sample: FBK7Q2M9X4L0P3R8T6W1
    access:
      description: Access level after the run; for a deleted key, the one it had; V(null) when already absent.
      type: str
      sample: READ
    state:
      description: V(present) or V(absent).
      type: str
      sample: present
    changed:
      description: Whether this key was changed (in check mode, would be).
      type: bool
      sample: false
    retiring:
      description: The old key a grace-period rotation keeps valid, C({id, key, created_at, name, retire_after}).
      type: dict
      returned: when a rotation kept the old key for O(apikeys[].retire_after_days)
      sample: {id: k1, key: FBK1, created_at: '2026-08-01T09:00:00.000Z', name: 'ci (retiring after 2026-12-04 #1a2b3c4d)',
               retire_after: '2026-12-04'}
    due_in_days:
      description: With O(apikeys[].max_age_days), days until the key is due for rotation (negative when overdue).
      type: int
      returned: when max_age_days applies and the key's age is known
      sample: 42
    pending_rotation:
      description: With O(retire_old_keys=false), the old key of this rotation is still live; with O(create_keys=false),
        a rotation that is due was not started.
      type: bool
      returned: when a rotation waits for its old key to be retired, or was not started
      sample: true
    pending_create:
      description: With O(create_keys=false), the key does not exist and was not created.
      type: bool
      returned: when a creation was not made
      sample: true
    failed:
      description: This entry's writes failed; RV(key_results[].msg) says why.
      type: bool
      returned: when the entry failed
      sample: true
    msg:
      description: Why the entry failed.
      type: str
      returned: when the entry failed
      sample: the Flashback API failed on POST /repo/r1/apikey with HTTP 500
new_secrets:
  description: Every key created in this run (new or rotated), with its one-time secret. Also when the run failed.
  returned: always
  type: list
  elements: dict
  contains:
    repo_id:
      description: ID of the repository.
      type: str
      sample: r1
    repo_name:
      description: Name of the repository, when an entry named it (V(null) otherwise).
      type: str
      sample: backups
    name:
      description: Name of the key as declared (while O(retire_old_keys=false) keeps the old key, the new one carries the marker name until a later run).
      type: str
      sample: ci-reader
    id:
      description: ID of the new key.
      type: str
      sample: 5d0f4c8e-2a7b-4b8e-9a51-0c3b1f0e7a21
    key:
      description: The access key ID.
      type: str
      sample: FBK7Q2M9X4L0P3R8T6W1
    access:
      description: Access level.
      type: str
      sample: READ
    secret:
      description: The one-time secret; the API cannot show it again.
      type: str
      sample: 3q2-7wEXAMPLEvY1s0r6c1N8hF5Jb0dQmZkT
due_soon:
  description: One line per declared key due for rotation within O(warn_before_days) days (also given as warnings).
  returned: when O(warn_before_days) is set
  type: list
  elements: str
  sample: ['r1/ci-reader is due for rotation in 3 days']
failures:
  description: One line per entry whose writes failed; the module fails when it is not empty.
  returned: always
  type: list
  elements: str
  sample: []
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.flashback.platform.plugins.module_utils import converge
from ansible_collections.flashback.platform.plugins.module_utils.arguments import APIKEY_SET_SPEC, argument_spec
from ansible_collections.flashback.platform.plugins.module_utils.errors import FlashbackError
from ansible_collections.flashback.platform.plugins.module_utils.runner import run_module


def run(module, client):
    result = converge.converge_set(client, module.params, module.check_mode, module._diff, warn=module.warn)
    if result['failures']:
        raise FlashbackError('%d of %d changes failed (the changes made and new secrets are in this result): %s'
                             % (len(result['failures']), len(result['changes']), '; '.join(result['failures'])),
                             **result)
    return result


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(repository=False, retire_old_keys=dict(type='bool', default=True),
                                    create_keys=dict(type='bool', default=True),
                                    undelivered=dict(type='list', elements='dict', default=[], no_log=False,
                                                     options=dict(repo_id=dict(type='str', required=True),
                                                                  id=dict(type='str', required=True))),
                                    **APIKEY_SET_SPEC),
        supports_check_mode=True,
    )
    run_module(module, run)


if __name__ == '__main__':
    main()
