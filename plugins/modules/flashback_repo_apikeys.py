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
version_added: 1.0.0
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
    details:
      - Sends no write; RV(changes) and RV(key_results) are the plan, a drift report.
      - It replaces the deprecated M(flashback.platform.flashback_repo_apikey_plan).
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
    details: One before/after per changed key, never a secret.
options:
  phase:
    description:
      - V(all) converges in one run. A rotation's old key is deleted (or renamed for its grace period) in the run that
        creates the new key, and that run's result hands the new secret back.
      - V(stage) and V(commit) split a run around a delivery step, so that each new secret reaches its consumers while
        the key it replaces still works. V(stage) only creates keys. A rotation's new key is created under the marker
        name C(<name> (replacing <old id> ...)) beside the old key. A new key with no predecessor is created
        under C(<name> (staged ...)). Every other change waits for the commit (RV(key_results[].pending)).
      - V(commit) creates no key. It finishes each new key listed in O(delivered). The old key is retired, and the new
        key gets the declared name. It withdraws (deletes) each staged new key that is not listed; the old key stays
        valid. Then it makes every other change (updates, deletes, exclusive mode, expired retiring keys).
      - A new key is finished only once its secret is known to have reached someone. The run that minted it may
        finish it (V(all)), or a commit may name it in O(delivered). A run that cannot finish the rotation it
        minted renames the new key to C(<name> (handed back, replacing <old id> ...)) before it returns the
        secret, and any later run finishes that key. Any run withdraws a staged new key that nothing confirms, and
        V(all) and V(stage) then mint another one. A play that stopped between stage and commit therefore never
        leaves a key whose secret nobody holds.
    type: str
    choices: [all, stage, commit]
    default: all
  delivered:
    description:
      - With O(phase=commit) (or V(all)), the new keys whose secrets reached their owners. These are entries of the
        RV(new_secrets) of the stage run; only O(delivered[].repo_id) and O(delivered[].id) are read, so pass those
        two fields, never the secret.
      - Ids that are not the staged new key of a declared entry are ignored.
    type: list
    elements: dict
    default: []
    suboptions:
      repo_id:
        description: ID of the key's repository.
        type: str
        required: true
      id:
        description: ID of the new key.
        type: str
        required: true
      name:
        description: Name of the key (not read; accepted so that entries of RV(new_keys) can be passed as they are).
        type: str
seealso:
  - module: flashback.platform.flashback_repo_apikey
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

# A playbook that delivers the secrets itself: stage, deliver, commit. A stop anywhere in between is safe: the
# old keys stay valid, and the next stage withdraws the undelivered new keys and mints others.
- name: Stage the new keys (the old keys stay valid)
  flashback.platform.flashback_repo_apikeys:
    api_token: "{{ flashback_token }}"
    apikeys: &rotating
      - {repo_id: r2, name: ingest, rotate: true}
    phase: stage
  register: staged
  no_log: true

- name: Deliver each new secret; the loop runs over new_keys (no secret), the secret comes through vars
  ansible.builtin.copy:
    dest: "/etc/ingest/{{ item.name }}.secret"
    content: "{{ new_secret }}"
    mode: '0600'
  vars:
    new_secret: "{{ (staged.new_secrets | selectattr('id', 'equalto', item.id) | first).secret }}"
  loop: "{{ staged.new_keys }}"
  loop_control:
    label: "{{ item.repo_id }}/{{ item.name }}"
  register: deliveries
  ignore_errors: true
  no_log: true

- name: Finish the delivered keys, withdraw the others (their old keys stay valid)
  flashback.platform.flashback_repo_apikeys:
    api_token: "{{ flashback_token }}"
    apikeys: *rotating
    phase: commit
    delivered: "{{ deliveries.results | rejectattr('failed') | map(attribute='item') | list }}"
  no_log: true
'''

RETURN = r'''
changes:
  description: The changes made (in check mode, to be made), in order.
  returned: always
  type: list
  elements: dict
  contains:
    action:
      description:
        - V(create), V(update), V(rotate), V(finish_rotation), V(delete), V(retire) (delete retiring keys whose date
          has come), V(withdraw) (delete a new key whose secret is not known to have been delivered),
          V(stage_rotation) and V(stage_create) (O(phase=stage) creates a new key under its marker name) or
          V(finish_create) (a commit gives a delivered staged key its name).
        - Any action may first withdraw an unconfirmed new key of the same name (RV(key_results[].withdrawn)).
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
    pending:
      description:
        - The action this phase left to the other one. In a stage, every change that is not a create (V(update),
          V(delete), V(finish_rotation), V(finish_create)); in a commit, a create or rotation that no stage made
          (V(create), V(rotate)).
      type: str
      returned: when O(phase) is V(stage) or V(commit) and a change waits for the other phase
      sample: update
    withdrawn:
      description: IDs of the new keys of this name that were withdrawn (deleted) because nothing confirmed their
        secrets reached anyone. Returned only once each DELETE succeeded.
      type: list
      elements: str
      returned: when a new key was withdrawn
      sample: [5d0f4c8e-2a7b-4b8e-9a51-0c3b1f0e7a21]
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
      description: Name of the key as declared (after O(phase=stage), the key carries its marker name until the commit).
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
new_keys:
  description:
    - The keys of RV(new_secrets) without their secrets, C({repo_id, id, name}) each. Loop over these to deliver
      (a loop's items are recorded by callbacks such as junit whatever C(no_log) says), and pass the delivered ones
      as O(delivered).
  returned: always
  type: list
  elements: dict
  sample: [{repo_id: r2, id: 5d0f4c8e-2a7b-4b8e-9a51-0c3b1f0e7a21, name: ingest}]
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

from ansible_collections.flashback.platform.plugins.module_utils import _converge as converge
from ansible_collections.flashback.platform.plugins.module_utils._arguments import (
    APIKEY_SET_SPEC,
    PHASE_SPEC,
    argument_spec,
)
from ansible_collections.flashback.platform.plugins.module_utils._errors import FlashbackError
from ansible_collections.flashback.platform.plugins.module_utils._runner import run_module


def run(module, client):
    result = converge.converge_set(client, module.params, module.check_mode, module._diff, warn=module.warn)
    if result['failures']:
        raise FlashbackError('%d of %d changes failed (the changes made and new secrets are in this result): %s'
                             % (len(result['failures']), len(result['changes']), '; '.join(result['failures'])),
                             **result)
    return result


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(repository=False, **dict(APIKEY_SET_SPEC, **PHASE_SPEC)),
        supports_check_mode=True,
    )
    run_module(module, run)


if __name__ == '__main__':
    main()
