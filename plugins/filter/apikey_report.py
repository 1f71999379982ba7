# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Flashback platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The fleet report's order and tables (documentation: apikey_urgency.yml, apikey_report.yml).

In Python rather than in the role's Jinja: with ansible-core 2.19, sorting 2000 keys with Jinja filters and
rendering them through a template took seconds per table; here it takes milliseconds.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import time

from ansible.errors import AnsibleFilterError

COLUMNS = ('repository', 'key', 'access', 'age', 'due', 'retiring')
FORMATS = ('markdown', 'csv', 'summary')
# Markdown would read these as markup, HTML or a cell border; a backslash makes each a plain character.
_MARKDOWN_SPECIAL = re.compile(r'([\\|`*<>\[\]])')
# A spreadsheet runs a cell starting with one of these as a formula.
_FORMULA_START = ('=', '+', '-', '@', '\t', '\r')

# Urgency groups, most urgent first (one assignment each: ansible-doc reads this file and warns on tuples).
DUE = 0
RETIRING = 1
UPCOMING = 2
UNKNOWN = 3


def _check(keys, max_age_days, filter_name):
    if not isinstance(keys, list) or not all(isinstance(key, dict) for key in keys):
        raise AnsibleFilterError('%s expects the apikeys list of flashback_repo_apikey_info' % filter_name)
    for key in keys:
        missing = [field for field in ('repo_id', 'name', 'age_days', 'retiring') if field not in key]
        if missing:
            raise AnsibleFilterError('%s expects the apikeys list of flashback_repo_apikey_info (version 1.0.0 or '
                                     'later); a key has no %s' % (filter_name, ', '.join(missing)))
    if max_age_days is not None and (isinstance(max_age_days, bool) or not isinstance(max_age_days, int)
                                     or max_age_days < 1):
        raise AnsibleFilterError('%s: max_age_days is %r; use a whole number of days, 1 or more'
                                 % (filter_name, max_age_days))


def urgency(key, max_age_days=None):
    """``(group, ...)``: due for rotation (oldest first), retiring (earliest date first), the rest (oldest first),
    age unknown."""
    if key['retiring']:
        return (RETIRING, key.get('retire_after') or '', 0)
    if key['age_days'] is None:
        return (UNKNOWN, '', 0)
    due = max_age_days is not None and key['age_days'] >= max_age_days
    return (DUE if due else UPCOMING, '', -key['age_days'])


def apikey_urgency(keys, max_age_days=None):
    """The keys most urgent first; ties by repository ID, then name."""
    _check(keys, max_age_days, 'apikey_urgency')
    return sorted(keys, key=lambda key: urgency(key, max_age_days) + (key['repo_id'], key['name']))


def _repository(key):
    name = key.get('repo_name')
    return '%s (%s)' % (name, key['repo_id']) if name else key['repo_id']


def _days(count):
    return '%d day%s' % (count, '' if count == 1 else 's')


def _due_in_days(key, max_age_days):
    # Recomputed from the age rather than read from due_in_days: the table follows the max_age_days it is given.
    if key['retiring'] or max_age_days is None or key['age_days'] is None:
        return None
    return max_age_days - key['age_days']


def _markdown_cell(value):
    return _MARKDOWN_SPECIAL.sub(r'\\\1', re.sub(r'[\r\n]+', ' ', '%s' % value))


def _markdown_due(key, max_age_days):
    due = _due_in_days(key, max_age_days)
    if due is None:
        return 'unknown' if max_age_days is not None and not key['retiring'] else '-'
    if due < 0:
        return 'overdue by %s' % _days(abs(due))
    return 'today' if due == 0 else 'in %s' % _days(due)


def _csv_field(value, text=False):
    value = '' if value is None else '%s' % value
    if text and value.startswith(_FORMULA_START):
        value = "'" + value
    return '"%s"' % value.replace('"', '""')


def _counts(keys, max_age_days):
    groups = [urgency(key, max_age_days)[0] for key in keys]
    return dict(due=groups.count(DUE), retiring=groups.count(RETIRING), unknown=groups.count(UNKNOWN))


def summary(keys, max_age_days=None):
    counts = _counts(keys, max_age_days)
    parts = ['%d retiring' % counts['retiring'], '%d of unknown age' % counts['unknown']]
    if max_age_days is not None:
        parts.insert(0, '%d due for rotation (%d days or older)' % (counts['due'], max_age_days))
    return '%d key%s in %d repositor%s: %s' % (
        len(keys), '' if len(keys) == 1 else 's', len(set(key['repo_id'] for key in keys)),
        'y' if len(set(key['repo_id'] for key in keys)) == 1 else 'ies', ', '.join(parts))


def markdown(keys, max_age_days=None, today=None):
    lines = [
        '# Flashback API keys',
        '',
        '%s; as of %s (UTC).' % (summary(keys, max_age_days), today),
        '',
        ('Most urgent first: keys due for rotation (the most overdue first), then retiring keys (the earliest date '
         'first), then the rest (the oldest first).' if max_age_days is not None else
         'Most urgent first: retiring keys (the earliest date first), then the rest (the oldest first).'),
        '',
        '| %s |' % ' | '.join(COLUMNS),
        '|%s' % ('---|' * len(COLUMNS)),
    ]
    for key in keys:
        cells = [_repository(key), key['name'], key.get('access'),
                 'unknown' if key['age_days'] is None else _days(key['age_days']), _markdown_due(key, max_age_days),
                 'after %s' % key.get('retire_after') if key['retiring'] else '']
        lines.append('| %s |' % ' | '.join(_markdown_cell(cell) for cell in cells))
    return '\n'.join(lines) + '\n'


def csv(keys, max_age_days=None):
    lines = [','.join(_csv_field(column) for column in COLUMNS)]
    for key in keys:
        lines.append(','.join((
            _csv_field(_repository(key), text=True), _csv_field(key['name'], text=True),
            _csv_field(key.get('access'), text=True), _csv_field(key['age_days']),
            _csv_field(_due_in_days(key, max_age_days)), _csv_field(key.get('retire_after') if key['retiring'] else None),
        )))
    return '\n'.join(lines) + '\n'


def apikey_report(keys, report_format='markdown', max_age_days=None, today=None):
    """The keys, in the order given, as a Markdown document, CSV text or a one-line summary."""
    _check(keys, max_age_days, 'apikey_report')
    if report_format not in FORMATS:
        raise AnsibleFilterError('apikey_report: format is %r; use one of %s' % (report_format, ', '.join(FORMATS)))
    if report_format == 'csv':
        return csv(keys, max_age_days)
    if report_format == 'summary':
        return summary(keys, max_age_days)
    if today is None:
        today = time.strftime('%Y-%m-%d', time.gmtime())
    elif not isinstance(today, str):
        raise AnsibleFilterError('apikey_report: today is %r; give a YYYY-MM-DD string' % (today,))
    return markdown(keys, max_age_days, today)


class FilterModule(object):
    def filters(self):
        return dict(apikey_urgency=apikey_urgency, apikey_report=apikey_report)
