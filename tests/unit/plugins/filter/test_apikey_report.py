# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import io

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.flashback.platform.plugins.filter import apikey_report as module_under_test


def key(name, repo_id='r1', age_days=10, retire_after=None, repo_name='backups', access='READ'):
    """A key as flashback_repo_apikey_info returns it (the fields the report reads)."""
    return dict(id='id-%s-%s' % (repo_id, name), name=name, access=access, key='FBK-SECRET-FREE', repo_id=repo_id,
                repo_name=repo_name, created_at=None, age_days=age_days, retiring=retire_after is not None,
                retire_after=retire_after)


def names(keys):
    return [(k['repo_id'], k['name']) for k in keys]


class TestApikeyUrgency:
    KEYS = [
        key('fresh', age_days=1),
        key('unknown', age_days=None),
        key('old', age_days=200),
        key('retiring-late', age_days=300, retire_after='2027-02-01'),
        key('due-today', age_days=90),
        key('retiring-soon', age_days=5, retire_after='2027-01-01'),
        key('middle', age_days=50),
        key('old', repo_id='r0', age_days=200),
    ]

    @pytest.mark.parametrize('max_age_days, expected', [
        (90, [('r0', 'old'), ('r1', 'old'), ('r1', 'due-today'), ('r1', 'retiring-soon'), ('r1', 'retiring-late'),
              ('r1', 'middle'), ('r1', 'fresh'), ('r1', 'unknown')]),
        # A higher limit: nothing at 90 days is due, so it sorts with the rest by age.
        (100, [('r0', 'old'), ('r1', 'old'), ('r1', 'retiring-soon'), ('r1', 'retiring-late'), ('r1', 'due-today'),
               ('r1', 'middle'), ('r1', 'fresh'), ('r1', 'unknown')]),
        # Without a limit nothing is due: retiring first, then by age.
        (None, [('r1', 'retiring-soon'), ('r1', 'retiring-late'), ('r0', 'old'), ('r1', 'old'), ('r1', 'due-today'),
                ('r1', 'middle'), ('r1', 'fresh'), ('r1', 'unknown')]),
    ])
    def test_order(self, max_age_days, expected):
        assert names(module_under_test.apikey_urgency(self.KEYS, max_age_days)) == expected

    def test_input_left_as_it_was(self):
        keys = list(self.KEYS)
        module_under_test.apikey_urgency(keys, 90)
        assert keys == self.KEYS

    @pytest.mark.parametrize('keys, max_age_days, message', [
        ('not a list', None, 'expects the apikeys list'),
        ([1, 2], None, 'expects the apikeys list'),
        ([dict(id='k1', name='a', repo_id='r1')], None, 'a key has no age_days, retiring'),
        ([], 0, 'max_age_days is 0'),
        ([], '90', "max_age_days is '90'"),
        ([], True, 'max_age_days is True'),
    ])
    def test_refuses(self, keys, max_age_days, message):
        with pytest.raises(AnsibleFilterError, match=message):
            module_under_test.apikey_urgency(keys, max_age_days)


class TestMarkdown:
    @pytest.mark.parametrize('row, max_age_days, expected', [
        (key('ci', age_days=100), 90, '| backups (r1) | ci | READ | 100 days | overdue by 10 days |  |'),
        (key('ci', age_days=91), 90, '| backups (r1) | ci | READ | 91 days | overdue by 1 day |  |'),
        (key('ci', age_days=90), 90, '| backups (r1) | ci | READ | 90 days | today |  |'),
        (key('ci', age_days=89), 90, '| backups (r1) | ci | READ | 89 days | in 1 day |  |'),
        (key('ci', age_days=1), None, '| backups (r1) | ci | READ | 1 day | - |  |'),
        (key('ci', age_days=None), 90, '| backups (r1) | ci | READ | unknown | unknown |  |'),
        (key('ci', age_days=None), None, '| backups (r1) | ci | READ | unknown | - |  |'),
        (key('ci (retiring after 2027-01-01 #1234abcd)', age_days=120, retire_after='2027-01-01'), 90,
         '| backups (r1) | ci (retiring after 2027-01-01 #1234abcd) | READ | 120 days | - | after 2027-01-01 |'),
        (key('ci', repo_name=None), 90, '| r1 | ci | READ | 10 days | in 80 days |  |'),
        # Nothing a name holds can end its cell, open a new line, or turn into markup or HTML.
        (key('a|b\\|c', access='WRITE'), None, '| backups (r1) | a\\|b\\\\\\|c | WRITE | 10 days | - |  |'),
        (key('<img src=x>`*[x](y)*`'), None, '| backups (r1) | \\<img src=x\\>\\`\\*\\[x\\](y)\\*\\` | READ | 10 days | - |  |'),
        (key('line\r\nbreak\nhere'), None, '| backups (r1) | line break here | READ | 10 days | - |  |'),
        (key('under_score-dash (paren) #hash'), None, '| backups (r1) | under_score-dash (paren) #hash | READ | 10 days | - |  |'),
        (key('ci', repo_name='a|b'), None, '| a\\|b (r1) | ci | READ | 10 days | - |  |'),
    ])
    def test_row(self, row, max_age_days, expected):
        lines = module_under_test.apikey_report([row], 'markdown', max_age_days, today='2026-12-27').splitlines()
        assert lines[-1] == expected
        assert lines[-3:-1] == ['| repository | key | access | age | due | retiring |', '|---|---|---|---|---|---|']

    def test_document(self):
        keys = [key('old', age_days=100), key('gone', age_days=3, retire_after='2027-01-01', repo_id='r2',
                                              repo_name='media'), key('new', age_days=1), key('lost', age_days=None)]
        text = module_under_test.apikey_report(keys, 'markdown', 90, today='2026-12-27')
        assert text == '\n'.join([
            '# Flashback API keys',
            '',
            '4 keys in 2 repositories: 1 due for rotation (90 days or older), 1 retiring, 1 of unknown age; as of '
            '2026-12-27 (UTC).',
            '',
            'Most urgent first: keys due for rotation (the most overdue first), then retiring keys (the earliest date '
            'first), then the rest (the oldest first).',
            '',
            '| repository | key | access | age | due | retiring |',
            '|---|---|---|---|---|---|',
            '| backups (r1) | old | READ | 100 days | overdue by 10 days |  |',
            '| media (r2) | gone | READ | 3 days | - | after 2027-01-01 |',
            '| backups (r1) | new | READ | 1 day | in 89 days |  |',
            '| backups (r1) | lost | READ | unknown | unknown |  |',
        ]) + '\n'

    def test_empty(self):
        text = module_under_test.apikey_report([], 'markdown', today='2026-12-27')
        assert '0 keys in 0 repositories: 0 retiring, 0 of unknown age; as of 2026-12-27 (UTC).' in text
        assert text.endswith('|---|---|---|---|---|---|\n')

    def test_today_defaults_to_a_date(self):
        line = module_under_test.apikey_report([], 'markdown').splitlines()[2]
        assert line[-len('YYYY-MM-DD (UTC).'):-len(' (UTC).')].count('-') == 2


class TestCsv:
    @pytest.mark.parametrize('row, max_age_days, expected', [
        (key('ci', age_days=100), 90, ['backups (r1)', 'ci', 'READ', '100', '-10', '']),
        (key('ci', age_days=90), 90, ['backups (r1)', 'ci', 'READ', '90', '0', '']),
        (key('ci', age_days=10), None, ['backups (r1)', 'ci', 'READ', '10', '', '']),
        (key('ci', age_days=None), 90, ['backups (r1)', 'ci', 'READ', '', '', '']),
        (key('ci', age_days=200, retire_after='2027-01-01'), 90, ['backups (r1)', 'ci', 'READ', '200', '', '2027-01-01']),
        (key('say "hi", ok'), None, ['backups (r1)', 'say "hi", ok', 'READ', '10', '', '']),
        (key('two\nlines'), None, ['backups (r1)', 'two\nlines', 'READ', '10', '', '']),
        # Formulas are data: a leading quote stops a spreadsheet from running them; numbers keep their sign.
        (key('=HYPERLINK("http://x")'), None, ['backups (r1)', '\'=HYPERLINK("http://x")', 'READ', '10', '', '']),
        (key('+1', repo_name='-repo'), None, ["'-repo (r1)", "'+1", 'READ', '10', '', '']),
        (key('@sum', access='\tREAD'), None, ['backups (r1)', "'@sum", "'\tREAD", '10', '', '']),
        (key('a=b'), None, ['backups (r1)', 'a=b', 'READ', '10', '', '']),
    ])
    def test_row(self, row, max_age_days, expected):
        text = module_under_test.apikey_report([row], 'csv', max_age_days)
        rows = list(csv.reader(io.StringIO(text, newline='')))
        assert rows == [['repository', 'key', 'access', 'age', 'due', 'retiring'], expected]

    def test_every_field_quoted(self):
        assert module_under_test.apikey_report([key('ci')], 'csv', 90) == (
            '"repository","key","access","age","due","retiring"\n"backups (r1)","ci","READ","10","80",""\n')


class TestSummaryAndFormats:
    @pytest.mark.parametrize('keys, max_age_days, expected', [
        ([], None, '0 keys in 0 repositories: 0 retiring, 0 of unknown age'),
        ([key('a')], None, '1 key in 1 repository: 0 retiring, 0 of unknown age'),
        ([key('a', age_days=95), key('b', repo_id='r2', age_days=None), key('c', age_days=95, retire_after='2027-01-01')],
         90, '3 keys in 2 repositories: 1 due for rotation (90 days or older), 1 retiring, 1 of unknown age'),
    ])
    def test_summary(self, keys, max_age_days, expected):
        assert module_under_test.apikey_report(keys, 'summary', max_age_days) == expected

    def test_unknown_format(self):
        with pytest.raises(AnsibleFilterError, match="format is 'html'; use one of markdown, csv, summary"):
            module_under_test.apikey_report([], 'html')

    def test_no_secret_and_no_access_key_id(self):
        row = dict(key('ci'), secret=dict(key='enc', iv='iv', authTag='tag', message='m'))
        for report_format in ('markdown', 'csv', 'summary'):
            text = module_under_test.apikey_report([row], report_format, 90, today='2026-12-27')
            assert 'FBK-SECRET-FREE' not in text and 'authTag' not in text

    def test_filters_are_registered(self):
        filters = module_under_test.FilterModule().filters()
        assert filters == dict(apikey_urgency=module_under_test.apikey_urgency,
                               apikey_report=module_under_test.apikey_report)
