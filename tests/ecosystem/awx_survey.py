"""AWX's survey rules, for awx/project/survey_spec.json: the API's checks of a spec and of launch answers.

AWX has no schema file for surveys. awx_survey_spec.schema.json encodes what JSON Schema can of the API's check
(ansible/awx awx/api/views/__init__.py, JobTemplateSurveySpec._validate_spec_data); spec_errors() adds the rules
that span fields. answer_errors() follows awx/main/models/mixins.py, SurveyJobTemplateMixin._survey_element_validation
(what a launch's answers must satisfy), and default_answers() _update_unified_job_kwargs (AWX adds a question's
default to the extra variables only when the default itself passes that validation). Read at AWX commit
e21dd0a0933fd544d1fe2513c54fe41203775eb5; written from that reading, not copied.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema

from conftest import ROOT

SURVEY = ROOT / 'awx' / 'project' / 'survey_spec.json'
SCHEMA = Path(__file__).with_name('awx_survey_spec.schema.json')
TEXT_TYPES = ('text', 'textarea', 'password')
CHOICE_TYPES = ('multiplechoice', 'multiselect')
# Survey answers become extra variables: a name Ansible accepts as a variable.
VARIABLE = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')


def load_survey():
    return json.loads(SURVEY.read_text(encoding='utf-8'))


def schema_errors(spec):
    schema = json.loads(SCHEMA.read_text(encoding='utf-8'))
    validator = jsonschema.Draft202012Validator(schema)
    return ['%s: %s' % ('/'.join(str(p) for p in error.absolute_path) or '(top)', error.message)
            for error in validator.iter_errors(spec)]


def choices(question):
    """A question's choices: AWX takes a list or a newline-separated string (blank lines dropped)."""
    value = question.get('choices', [])
    if isinstance(value, str):
        return [line for line in value.splitlines() if line.strip()]
    return list(value)


def _limit(question, key):
    value = question.get(key)
    return None if value in ('', None) else value


def answer_errors(question, value):
    """Why AWX would refuse ``value`` as the answer to ``question`` ([] when it accepts it)."""
    variable, kind = question['variable'], question['type']
    low, high = _limit(question, 'min'), _limit(question, 'max')
    if kind in TEXT_TYPES:
        if not isinstance(value, str):
            return ['%s: %r is not a string' % (variable, value)]
        size, what = len(value), 'length'
    elif kind == 'integer':
        if isinstance(value, bool) or not isinstance(value, int):  # AWX compares the type exactly: no bool
            return ['%s: %r is not an integer' % (variable, value)]
        size, what = value, 'value'
    elif kind == 'float':
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return ['%s: %r is not a number' % (variable, value)]
        size, what = value, 'value'
    elif kind == 'multiselect':
        if not isinstance(value, list):
            return ['%s: %r is not a list' % (variable, value)]
        return ['%s: %r is not one of %s' % (variable, item, choices(question)) for item in value
                if item not in choices(question)]
    else:  # multiplechoice
        return [] if value in choices(question) else ['%s: %r is not one of %s' % (variable, value, choices(question))]
    errors = []
    if low is not None and size < low:
        errors.append('%s: %s %r is below min %s' % (variable, what, size, low))
    if high is not None and size > high:
        errors.append('%s: %s %r is above max %s' % (variable, what, size, high))
    return errors


def spec_errors(spec):
    """The rules of _validate_spec_data (and of a usable survey) that span fields, which the schema cannot hold."""
    errors, seen = [], set()
    for index, question in enumerate(spec['spec']):
        variable, kind = question['variable'], question['type']
        where = 'question %d (%s)' % (index, variable)
        if variable in seen:
            errors.append("%s: variable duplicated (AWX: \"'variable' ... duplicated in survey question\")" % where)
        seen.add(variable)
        if not VARIABLE.match(variable):
            errors.append('%s: not a valid Ansible variable name' % where)
        if kind in CHOICE_TYPES:
            listed = choices(question)
            if len(set(listed)) != len(listed):
                errors.append('%s: duplicated choices %s' % (where, listed))
            if 'default' in question and question['default'] != '':
                default = question['default']
                defaults = [line for line in default.splitlines() if line.strip()] if isinstance(default, str) \
                    else list(default)
                if kind == 'multiplechoice' and len(defaults) > 1:
                    errors.append('%s: a multiple choice question has one default (AWX: "Multiple Choice (Single '
                                  'Select) can only have one default value.")' % where)
                if any(item not in listed for item in defaults):
                    errors.append('%s: default %r is not among the choices %s (AWX: "Default choice must be answered '
                                  'from the choices listed.")' % (where, default, listed))
        low, high = _limit(question, 'min'), _limit(question, 'max')
        if low is not None and high is not None and low > high:
            errors.append('%s: min %s is above max %s' % (where, low, high))
        if kind not in CHOICE_TYPES and question.get('default') not in (None, ''):
            # AWX stores such a default but never applies it (mixins.py _update_unified_job_kwargs validates it first).
            errors += ['%s: the default is unusable: %s' % (where, e) for e in answer_errors(question, question['default'])]
    return errors


def default_answers(spec):
    """The extra variables a launch that accepts every default gets from the survey, as AWX computes them."""
    return {question['variable']: question['default'] for question in spec['spec']
            if question.get('default') is not None and not answer_errors(question, question['default'])}


def launch_errors(spec, answers):
    """Why AWX would refuse a launch with these answers: a required question unanswered, or an answer out of rule."""
    errors = []
    for question in spec['spec']:
        if question['variable'] not in answers:
            if question['required']:
                errors.append("'%s' value missing" % question['variable'])
            continue
        errors += answer_errors(question, answers[question['variable']])
    return errors
