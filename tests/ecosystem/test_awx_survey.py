"""awx/project/survey_spec.json: AWX would accept it, its defaults work, and it asks only for what the job reads.

The rules are AWX's (awx_survey.py says where they come from); the job itself runs with the survey's default
answers in test_awx_job.py::test_job_with_survey_answers.
"""

from __future__ import annotations

import copy

import jinja2
import jinja2.meta
import pytest
import yaml

from awx_survey import default_answers, launch_errors, load_survey, schema_errors, spec_errors
from conftest import ROOT

PLAYBOOK = ROOT / 'awx' / 'project' / 'repo_apikeys.yml'
ROLE_SPEC = ROOT / 'roles' / 'repo_apikeys' / 'meta' / 'argument_specs.yml'


def test_survey_passes_awx_spec_validation():
    spec = load_survey()
    assert schema_errors(spec) == []
    assert spec_errors(spec) == []


@pytest.mark.parametrize('change, fragment', [
    (lambda s: s.pop('description'), "'description' is a required property"),
    (lambda s: s.update(spec=[]), 'should be non-empty'),
    (lambda s: s['spec'][0].pop('required'), "'required' is a required property"),
    (lambda s: s['spec'][0].update(required='yes'), "'yes' is not of type 'boolean'"),
    (lambda s: s['spec'][0].update(type='boolean'), "'boolean' is not one of"),
    (lambda s: s['spec'][0].update(min='1'), "'1' is not of type 'integer', 'null'"),
    (lambda s: s['spec'][2].pop('choices'), "'choices' is a required property"),
    (lambda s: s['spec'][4].update(default='0'), "'0' is not valid under any of the given schemas"),
    (lambda s: s['spec'][0].update(default='$encrypted$x'), 'should not be valid under'),
])
def test_the_schema_rejects_what_awx_rejects(change, fragment):
    spec = copy.deepcopy(load_survey())
    change(spec)
    errors = schema_errors(spec)
    assert any(fragment in error for error in errors), errors


@pytest.mark.parametrize('change, fragment', [
    (lambda s: s['spec'][1].update(variable=s['spec'][0]['variable']), 'variable duplicated'),
    (lambda s: s['spec'][2].update(default='OWNER'), 'is not among the choices'),
    (lambda s: s['spec'][2].update(default='READ\nWRITE'), 'has one default'),
    (lambda s: s['spec'][4].update(min=10, max=5), 'min 10 is above max 5'),
    (lambda s: s['spec'][4].update(default=400), 'the default is unusable'),
    (lambda s: s['spec'][0].update(variable='flashback-key-repo'), 'not a valid Ansible variable name'),
])
def test_the_cross_field_checks_catch_what_the_schema_cannot(change, fragment):
    spec = copy.deepcopy(load_survey())
    change(spec)
    assert schema_errors(spec) == []
    errors = spec_errors(spec)
    assert any(fragment in error for error in errors), errors


class _AnyName(dict):
    """Filters and tests for parsing only: Ansible's (combine, bool, ...) are not plain Jinja's."""

    def __contains__(self, name):
        return True

    def __missing__(self, name):
        return lambda *args, **kwargs: None

    def get(self, name, default=None):
        return self[name]


def template_variables(node):
    """Every variable name a Jinja template in the (YAML) node reads."""
    environment = jinja2.Environment()
    environment.filters, environment.tests = _AnyName(environment.filters), _AnyName(environment.tests)
    if isinstance(node, dict):
        return set().union(*(template_variables(v) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(template_variables(v) for v in node)) if node else set()
    if isinstance(node, str) and ('{{' in node or '{%' in node):
        return jinja2.meta.find_undeclared_variables(environment.parse(node))
    return set()


def test_every_survey_variable_is_read_by_the_playbook_or_the_role():
    playbook_reads = template_variables(yaml.safe_load(PLAYBOOK.read_text()))
    role_options = set(yaml.safe_load(ROLE_SPEC.read_text())['argument_specs']['main']['options'])
    assert {'flashback_key_repo', 'flashback_dry_run'} <= playbook_reads  # the scan sees the playbook's templates
    unread = [q['variable'] for q in load_survey()['spec'] if q['variable'] not in playbook_reads | role_options]
    assert not unread, 'survey variables neither the playbook nor the role reads: %s' % unread


def test_default_answers_leave_only_the_required_questions_without_defaults():
    spec = load_survey()
    defaults = default_answers(spec)
    # Every default AWX would apply; the key itself is the operator's choice on each launch.
    assert set(defaults) == {q['variable'] for q in spec['spec'] if 'default' in q}
    assert launch_errors(spec, defaults) == ["'flashback_key_repo' value missing", "'flashback_key_name' value missing"]
    assert launch_errors(spec, dict(defaults, flashback_key_repo='logs', flashback_key_name='shipper')) == []
    assert launch_errors(spec, dict(defaults, flashback_key_repo='', flashback_key_name='shipper',
                                    flashback_repo_apikeys_retire_after_days=-1)) == [
        'flashback_key_repo: length 0 is below min 1',
        'flashback_repo_apikeys_retire_after_days: value -1 is below min 0']
