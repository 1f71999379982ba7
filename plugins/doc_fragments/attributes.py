# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Flashback platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Every module is in the action group listed in meta/runtime.yml.
    DOCUMENTATION = r'''
options: {}
attributes:
  action_group:
    description: Use C(group/flashback.platform.flashback) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - flashback.platform.flashback
'''

    # Modules that only read.
    READ_ONLY = r'''
options: {}
attributes:
  check_mode:
    description: Can run in check mode and return the changed status prediction without modifying the target.
    support: full
    details: The module only reads; it runs the same in check mode.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: none
'''
