# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Lets plain pytest import the collection as ansible-test does.

ansible-test puts the directory above ``ansible_collections/`` on sys.path; plain pytest (an IDE, tox)
run in a checkout at ``.../ansible_collections/flashback/platform`` does not.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))  # the collection root
_ABOVE = os.path.dirname(os.path.dirname(os.path.dirname(_ROOT)))  # the directory holding ansible_collections/
if os.path.basename(os.path.dirname(os.path.dirname(_ROOT))) == 'ansible_collections' and _ABOVE not in sys.path:
    sys.path.insert(0, _ABOVE)
