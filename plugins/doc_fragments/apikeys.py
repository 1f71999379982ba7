# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Flashback platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The declared set of keys (module_utils/_reconcile.py ENTRY_SPEC; tests compare the three).
    DOCUMENTATION = r'''
options:
  apikeys:
    description:
      - The declared keys, across any number of repositories. Declare each repository and name (and O(apikeys[].key_id)) once.
      - Every entry is checked before any request; a bad one fails the module naming its position (from 1) and name.
    type: list
    elements: dict
    required: true
    suboptions:
      repo_id:
        description: ID of the key's repository. Exactly one of O(apikeys[].repo_id) and O(apikeys[].repo_name).
        type: str
      repo_name:
        description: Name of the key's repository, resolved with one C(GET /repo) for all entries.
        type: str
      name:
        description:
          - Name of the key (required). Without O(apikeys[].key_id), the key's identity among its repository's live keys;
            a present entry whose name two live keys hold is refused.
          - With O(apikeys[].key_id), the name that key should have (a rename; refused onto a name another live key has).
        type: str
      key_id:
        version_added: 1.0.0
        description: ID of an existing key, to rename it or pick one of several same-named keys.
        type: str
      access:
        description:
          - Access level. When omitted, V(READ) for a key that is created, and the current level of an existing key
            (kept on update and rotation).
        type: str
        choices: [READ, WRITE, ADMIN]
      state:
        description:
          - V(present) or V(absent). V(absent) deletes every live key with this name (or the one O(apikeys[].key_id)),
            and the replacement an interrupted rotation of it left.
        type: str
        choices: [present, absent]
        default: present
      rotate:
        version_added: 1.0.0
        description: Replace the key with a new one (same name and access level) on every run. Only with V(present).
        type: bool
        default: false
      max_age_days:
        version_added: 1.0.0
        description:
          - Replace the key when its C(createdAt) is more than this many days ago. Overrides O(max_age_days).
          - Only with V(present); excludes O(apikeys[].rotate).
        type: int
      retire_after_days:
        version_added: 1.0.0
        description:
          - Grace period of a rotation of this key. V(0) deletes the old key at once. V(N) keeps it valid, renamed to
            C(<name> (retiring after YYYY-MM-DD)) plus a check digest, the date N days from the rotation (UTC); every
            run before that date leaves it alone, the first run on or after it deletes it (one C(DELETE)).
          - Overrides O(retire_after_days). Only with V(present).
        type: int
  exclusive:
    description:
      - Also delete the live keys of each repository named in O(apikeys) that are not declared there.
    type: bool
    default: false
  protected:
    description:
      - Key names that O(exclusive=true) never deletes.
      - The replacement of an unfinished rotation of a declared name is never deleted either.
    type: list
    elements: str
    default: []
  max_age_days:
    version_added: 1.0.0
    description:
      - Default for O(apikeys[].max_age_days) of the present entries that set neither it nor O(apikeys[].rotate).
    type: int
  retire_after_days:
    version_added: 1.0.0
    description:
      - Default for O(apikeys[].retire_after_days) of the present entries that do not set it. Unset, V(0).
    type: int
  warn_before_days:
    version_added: 1.0.0
    description:
      - Report in C(due_soon) (and as warnings) the declared keys with O(apikeys[].max_age_days) (or O(max_age_days))
        that are due for rotation within this many days.
    type: int
  concurrency:
    version_added: 1.0.0
    description:
      - How many repositories are listed and worked on at once (1 to 16). The keys of one repository are worked on
        in order. A C(429) answer holds back every request for its C(Retry-After).
    type: int
    default: 4
'''
