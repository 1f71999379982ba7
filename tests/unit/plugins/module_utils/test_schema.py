# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The declared entry has one schema, reconcile.ENTRY_SPEC: its documentation and the role's spec follow it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

from ansible_collections.flashback.platform.plugins.doc_fragments import apikeys as apikeys_fragment
from ansible_collections.flashback.platform.plugins.module_utils import _arguments as arguments, _reconcile as reconcile
from ansible_collections.flashback.platform.plugins.modules import flashback_repo_apikey

# This file is tests/unit/plugins/module_utils/test_schema.py in the collection (or a copy of it).
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
ROLE_SPEC = os.path.join(ROOT, 'roles', 'repo_apikeys', 'meta', 'argument_specs.yml')

FIELDS = ('type', 'choices', 'default')


def documented_entry():
    options = yaml.safe_load(apikeys_fragment.ModuleDocFragment.DOCUMENTATION)['options']
    return options['apikeys']['suboptions']


def role_entry():
    with open(ROLE_SPEC) as handle:
        spec = yaml.safe_load(handle)
    return spec['argument_specs']['main']['options']['flashback_repo_apikeys']['options']


def test_the_collection_root_is_found():
    assert os.path.isfile(os.path.join(ROOT, 'galaxy.yml'))
    assert os.path.isfile(ROLE_SPEC)


class TestDocFragment:
    def test_same_suboptions(self):
        assert sorted(documented_entry()) == sorted(reconcile.ENTRY_SPEC)

    @pytest.mark.parametrize('field', sorted(reconcile.ENTRY_SPEC))
    def test_same_type_choices_default(self, field):
        spec, doc = reconcile.ENTRY_SPEC[field], documented_entry()[field]
        assert dict((k, doc.get(k)) for k in FIELDS) == dict((k, spec.get(k)) for k in FIELDS)
        assert doc.get('description'), 'suboption %s is undocumented' % field

    def test_the_module_uses_entry_spec(self):
        assert arguments.APIKEY_SET_SPEC['apikeys']['options'] is reconcile.ENTRY_SPEC
        assert reconcile.ENTRY_SPEC['access']['choices'] == reconcile.ACCESS_LEVELS
        assert reconcile.ENTRY_SPEC['state']['choices'] == reconcile.STATES


class TestRoleSpec:
    def test_same_options(self):
        assert sorted(role_entry()) == sorted(reconcile.ENTRY_SPEC)

    @pytest.mark.parametrize('field', sorted(reconcile.ENTRY_SPEC))
    def test_what_the_role_states_matches(self, field):
        spec, role = reconcile.ENTRY_SPEC[field], role_entry()[field]
        assert role['type'] == spec['type']
        # The role may leave choices and defaults to the module; what it does state must agree.
        for key in ('choices', 'default'):
            if key in role:
                assert role[key] == spec.get(key), '%s.%s' % (field, key)
        assert role.get('description'), 'option %s is undocumented' % field


class TestSingleKeyModule:
    """flashback_repo_apikey's own options are the entry's, minus the repository options it shares."""

    def options(self):
        return yaml.safe_load(flashback_repo_apikey.DOCUMENTATION)['options']

    def test_same_options(self):
        expected = set(reconcile.ENTRY_SPEC) - set(arguments.REPO_ARGUMENT_SPEC)
        assert set(self.options()) == expected
        assert set(arguments.SINGLE_APIKEY_SPEC) == expected

    @pytest.mark.parametrize('field', sorted(set(reconcile.ENTRY_SPEC) - set(arguments.REPO_ARGUMENT_SPEC)))
    def test_same_type_choices_default(self, field):
        spec, doc = arguments.SINGLE_APIKEY_SPEC[field], self.options()[field]
        assert dict((k, doc.get(k)) for k in FIELDS + ('required',)) == dict(
            (k, spec.get(k)) for k in FIELDS + ('required',))
        assert dict((k, spec.get(k)) for k in FIELDS) == dict((k, reconcile.ENTRY_SPEC[field].get(k)) for k in FIELDS)

    def test_name_is_required_only_in_the_single_module(self):
        assert arguments.SINGLE_APIKEY_SPEC['name']['required'] is True
        assert 'required' not in reconcile.ENTRY_SPEC['name']
