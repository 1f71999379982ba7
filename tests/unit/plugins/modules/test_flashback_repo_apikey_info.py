# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import threading

import pytest

from ansible_collections.flashback.platform.plugins.module_utils import _converge as converge, _errors as errors, _runner as runner
from ansible_collections.flashback.platform.plugins.module_utils._reconcile import retiring_name
from ansible_collections.flashback.platform.plugins.modules import flashback_repo_apikey_info as module_under_test

# FakeApi keys are created at 2026-11-27T10:00:0N.000Z; NOW is 30 days and a few hours later.
NOW = datetime.datetime(2026, 12, 27, 14, 0, 0)
FIELDS = {'id', 'name', 'access', 'key', 'repo_id', 'repo_name', 'created_at', 'age_days', 'retiring', 'retire_after'}
FLEET_LISTINGS = [('GET', '/repo/%s/apikey' % repo_id, None) for repo_id in ('r1', 'r2', 'r4', 'r5')]


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch):
    monkeypatch.setattr(converge, 'utc_now', lambda: NOW)


@pytest.fixture
def info_module(make_module):
    """FakeModule with the info module's defaults; keyword arguments override them."""
    def factory(**overrides):
        params = dict(max_age_days=None, concurrency=converge.DEFAULT_CONCURRENCY)
        params.update(overrides)
        return make_module(**params)
    return factory


def key(name='ci', created_at='2026-01-01T00:00:00.000Z'):
    return dict(id='k1', name=name, access='READ', key='FBK1', repo_id='r1', created_at=created_at)


class TestReportKey:
    @pytest.mark.parametrize('created_at, now, age_days', [
        ('2026-01-01T00:00:00.000Z', datetime.datetime(2026, 1, 1, 0, 0, 0), 0),
        ('2026-01-01T00:00:00.000Z', datetime.datetime(2026, 1, 1, 23, 59, 59), 0),
        ('2026-01-01T00:00:00.000Z', datetime.datetime(2026, 1, 2, 0, 0, 0), 1),
        ('2026-01-01T00:00:00Z', datetime.datetime(2026, 3, 2, 0, 0, 0), 60),  # across February, no fraction
        # 01:00+02:00 is 2025-12-31T23:00Z: one day old at 2026-01-01T23:00Z, not a second before.
        ('2026-01-01T01:00:00+02:00', datetime.datetime(2026, 1, 1, 22, 59, 59), 0),
        ('2026-01-01T01:00:00+02:00', datetime.datetime(2026, 1, 1, 23, 0, 0), 1),
        ('2026-01-01T00:00:00.000Z', datetime.datetime(2025, 12, 31, 23, 0, 0), 0),  # server clock ahead of ours
        ('2024-02-29T12:00:00.000Z', datetime.datetime(2026, 2, 28, 12, 0, 0), 730),
        (None, datetime.datetime(2026, 1, 1), None),
        ('', datetime.datetime(2026, 1, 1), None),
        ('2026-02-30T00:00:00Z', datetime.datetime(2026, 3, 31), None),  # shaped like a date, not one
        ('yesterday', datetime.datetime(2026, 1, 1), None),
    ])
    def test_age_days(self, created_at, now, age_days):
        assert module_under_test.report_key(key(created_at=created_at), 'backups', now)['age_days'] == age_days

    @pytest.mark.parametrize('created_at, max_age_days, due_in_days', [
        ('2026-12-27T10:00:00Z', 90, 90),  # created today
        ('2026-11-27T10:00:00Z', 90, 60),
        ('2026-11-27T10:00:00Z', 30, 0),  # the day it falls due
        ('2026-11-27T10:00:00Z', 29, -1),
        ('2025-12-27T10:00:00Z', 1, -364),
        ('not a date', 30, None),
        (None, 30, None),
    ])
    def test_due_in_days(self, created_at, max_age_days, due_in_days):
        view = module_under_test.report_key(key(created_at=created_at), 'backups', NOW, max_age_days)
        assert view['due_in_days'] == due_in_days

    def test_no_due_in_days_without_max_age_days(self):
        assert 'due_in_days' not in module_under_test.report_key(key(), 'backups', NOW)

    @pytest.mark.parametrize('name, retiring, retire_after', [
        ('ci', False, None),
        (retiring_name('ci', '2026-12-04'), True, '2026-12-04'),
        (retiring_name('ci reader (old)', '2027-01-31'), True, '2027-01-31'),
        # Looks like a marker, but the check does not fit: an ordinary key somebody named so.
        ('ci (retiring after 2026-12-04 #00000000)', False, None),
        ('ci (retiring after 2026-12-04)', False, None),
    ])
    def test_retiring(self, name, retiring, retire_after):
        view = module_under_test.report_key(key(name=name), 'backups', NOW, 90)
        assert (view['retiring'], view['retire_after']) == (retiring, retire_after)
        assert view['name'] == name  # the name as listed, marker included

    def test_keeps_the_key_and_adds_the_repository_name(self):
        original = key()
        view = module_under_test.report_key(original, 'backups', NOW, 90)
        assert set(view) == FIELDS | {'due_in_days'}
        assert dict((field, view[field]) for field in original) == original
        assert view['repo_name'] == 'backups'
        assert original == key()  # not changed in place


class TestFleet:
    def seed(self, fake_api):
        fake_api.add_key('r1', 'ci', 'READ')                                # k1
        fake_api.add_key('r2', 'ingest', 'WRITE')                           # k2
        fake_api.add_key('r2', retiring_name('ingest', '2026-12-30'), 'WRITE')  # k3
        fake_api.add_key('r4', 'ci', 'ADMIN')                               # k4
        fake_api.add_key('r5', 'ci', 'READ')                                # k5

    @pytest.mark.parametrize('concurrency', [1, 2, 4, 16])
    def test_one_repository_list_then_one_listing_per_repository(self, fake_api, info_module, concurrency):
        self.seed(fake_api)
        result = module_under_test.run(info_module(concurrency=concurrency), fake_api)
        assert fake_api.calls[0] == ('GET', '/repo', None)
        assert sorted(fake_api.calls[1:]) == FLEET_LISTINGS
        assert result['changed'] is False
        # Repository by repository in the order GET /repo lists them, whatever order the listings finished in.
        assert [(k['repo_id'], k['repo_name'], k['id']) for k in result['apikeys']] == [
            ('r1', 'backups', 'k1'), ('r2', 'media', 'k2'), ('r2', 'media', 'k3'), ('r4', 'shared', 'k4'),
            ('r5', 'shared', 'k5')]

    def test_every_key_carries_its_age_and_retirement(self, fake_api, info_module):
        self.seed(fake_api)
        result = module_under_test.run(info_module(max_age_days=30), fake_api)
        assert all(set(k) == FIELDS | {'due_in_days'} for k in result['apikeys'])
        assert [(k['age_days'], k['due_in_days'], k['retiring'], k['retire_after']) for k in result['apikeys']] == [
            (30, 0, False, None), (30, 0, False, None), (30, 0, True, '2026-12-30'), (30, 0, False, None),
            (30, 0, False, None)]

    @pytest.mark.parametrize('filters, expected', [
        (dict(name='ci'), ['k1', 'k4', 'k5']),
        (dict(access='WRITE'), ['k2', 'k3']),
        (dict(name='ci', access='ADMIN'), ['k4']),
        (dict(key_id='k5'), ['k5']),
        (dict(key_id='k9'), []),
        (dict(name='ingest'), ['k2']),  # a retiring key is listed under its marker name
    ])
    def test_filters_apply_across_the_fleet(self, fake_api, info_module, filters, expected):
        self.seed(fake_api)
        result = module_under_test.run(info_module(**filters), fake_api)
        assert [k['id'] for k in result['apikeys']] == expected
        assert len(fake_api.calls) == 5  # filters are applied here, not by more requests

    def test_only_what_the_token_sees(self, fake_api, info_module):
        self.seed(fake_api)
        fake_api.repos = [dict(id='r2', name='media')]
        result = module_under_test.run(info_module(), fake_api)
        assert fake_api.calls == [('GET', '/repo', None), ('GET', '/repo/r2/apikey', None)]
        assert [k['id'] for k in result['apikeys']] == ['k2', 'k3']

    def test_no_repository(self, fake_api, info_module):
        fake_api.repos = []
        assert module_under_test.run(info_module(), fake_api)['apikeys'] == []
        assert fake_api.calls == [('GET', '/repo', None)]

    def test_never_returns_secrets(self, fake_api, info_module):
        self.seed(fake_api)
        result = module_under_test.run(info_module(max_age_days=90), fake_api)
        text = json.dumps(result)
        assert 'authTag' not in text and '"enc"' not in text and 'secret' not in text

    def test_a_failed_listing_fails_the_report(self, fake_api, info_module):
        self.seed(fake_api)
        fake_api.failures[('GET', '/repo/r4/apikey')] = errors.PermissionDeniedError(
            'access denied to repository r4: use a token scoped for it', 403)
        with pytest.raises(errors.PermissionDeniedError, match='repository r4'):
            module_under_test.run(info_module(), fake_api)

    @pytest.mark.parametrize('concurrency', [1, 2, 4])
    def test_listings_run_concurrency_at_a_time(self, info_module, fake_api_factory, concurrency):
        # Each listing waits until `concurrency` listings are in flight: with fewer threads the barrier times out
        # (and the test fails); with more, in_flight would exceed concurrency.
        barrier = threading.Barrier(concurrency, timeout=10)
        state = dict(in_flight=0, most=0)
        lock = threading.Lock()

        class SlowApi(fake_api_factory):
            def request(self, method, path, payload=None, context=None):
                if path == '/repo':
                    return super(SlowApi, self).request(method, path, payload, context)
                with lock:
                    state['in_flight'] += 1
                    state['most'] = max(state['most'], state['in_flight'])
                barrier.wait()
                try:
                    return super(SlowApi, self).request(method, path, payload, context)
                finally:
                    with lock:
                        state['in_flight'] -= 1

        api = SlowApi()
        result = module_under_test.run(info_module(concurrency=concurrency), api)
        assert state['most'] == concurrency
        assert sorted(api.calls[1:]) == FLEET_LISTINGS and result['apikeys'] == []


class TestOneRepository:
    def seed(self, fake_api):
        fake_api.add_key('r1', 'a', 'READ')
        fake_api.add_key('r1', 'b', 'WRITE')
        fake_api.add_key('r1', 'b', 'ADMIN')
        fake_api.add_key('r2', 'a', 'READ')

    @pytest.mark.parametrize('filters, expected', [
        (dict(), ['k1', 'k2', 'k3']),
        (dict(name='b'), ['k2', 'k3']),
        (dict(access='ADMIN'), ['k3']),
        (dict(key_id='k2'), ['k2']),
        (dict(name='a', access='WRITE'), []),
    ])
    def test_filters(self, fake_api, info_module, filters, expected):
        self.seed(fake_api)
        result = module_under_test.run(info_module(repo_id='r1', **filters), fake_api)
        assert result['changed'] is False
        assert [key['id'] for key in result['apikeys']] == expected

    def test_by_repo_id_is_the_listing_and_one_repository_lookup(self, fake_api, info_module):
        self.seed(fake_api)
        result = module_under_test.run(info_module(repo_id='r1', max_age_days=90), fake_api)
        # The name comes from GET /repo?repoId=, never from the list of every repository.
        assert fake_api.calls == [('GET', '/repo/r1/apikey', None), ('GET', '/repo?repoId=r1', None)]
        assert all(set(k) == FIELDS | {'due_in_days'} for k in result['apikeys'])
        assert [(k['repo_id'], k['repo_name'], k['age_days'], k['due_in_days']) for k in result['apikeys']] == [
            ('r1', 'backups', 30, 60)] * 3

    def test_by_repo_id_on_a_server_that_ignores_the_filter(self, fake_api, info_module):
        self.seed(fake_api)
        fake_api.ignores_repo_filter = True
        result = module_under_test.run(info_module(repo_id='r2'), fake_api)
        assert [(k['repo_id'], k['repo_name']) for k in result['apikeys']] == [('r2', 'media')]
        assert len(fake_api.calls) == 2

    def test_by_repo_id_without_a_name_in_the_answer_keeps_repo_name_null(self, fake_api, info_module):
        self.seed(fake_api)
        fake_api.repos = [repo for repo in fake_api.repos if repo['id'] != 'r1']  # listable, but not in GET /repo
        result = module_under_test.run(info_module(repo_id='r1'), fake_api)
        assert [k['repo_name'] for k in result['apikeys']] == [None] * 3

    def test_a_repository_that_cannot_be_listed_fails_before_its_name_is_asked(self, fake_api, info_module):
        with pytest.raises(errors.NotFoundError):
            module_under_test.run(info_module(repo_id='r9'), fake_api)
        assert fake_api.calls == [('GET', '/repo/r9/apikey', None)]

    def test_by_repo_name_is_two_requests(self, fake_api, info_module):
        self.seed(fake_api)
        result = module_under_test.run(info_module(repo_name='backups'), fake_api)
        assert fake_api.calls == [('GET', '/repo', None), ('GET', '/repo/r1/apikey', None)]
        assert all(set(k) == FIELDS for k in result['apikeys'])
        assert [(k['repo_id'], k['repo_name']) for k in result['apikeys']] == [('r1', 'backups')] * 3
        assert 'enc' not in json.dumps(result)

    def test_concurrency_is_checked_but_unused(self, fake_api, info_module):
        with pytest.raises(errors.ConfigurationError):
            module_under_test.run(info_module(repo_id='r1', concurrency=0), fake_api)
        assert fake_api.calls == []


class TestCheckOptions:
    @pytest.mark.parametrize('options, message', [
        (dict(concurrency=0), 'concurrency is 0; use 1 to 16'),
        (dict(concurrency=-1), 'concurrency is -1; use 1 to 16'),
        (dict(concurrency=17), 'concurrency is 17; use 1 to 16'),
        (dict(max_age_days=0), 'max_age_days is 0; use 1 or more'),
        (dict(max_age_days=-5), 'max_age_days is -5; use 1 or more'),
        (dict(repo_id=''), 'repo_id is empty: give a value, or leave out both repo_id and repo_name to list every '
                           'repository'),
        (dict(repo_name='  '), 'repo_name is empty'),
    ])
    def test_refused_before_any_request(self, fake_api, info_module, options, message):
        with pytest.raises(errors.ConfigurationError) as caught:
            module_under_test.run(info_module(**options), fake_api)
        assert caught.value.message.startswith(message)
        assert fake_api.calls == []

    @pytest.mark.parametrize('options', [dict(concurrency=1), dict(concurrency=16), dict(max_age_days=1)])
    def test_limits_accepted(self, fake_api, info_module, options):
        module_under_test.run(info_module(**options), fake_api)
        assert fake_api.calls[0] == ('GET', '/repo', None)


class TestMain:
    def run_main(self, args, module_args, capsys, monkeypatch, fake_api):
        monkeypatch.setattr(runner.client_module, 'FlashbackClient', lambda **kwargs: fake_api)
        with module_args(dict(args, api_token='unit-test-token')):
            with pytest.raises(SystemExit):
                module_under_test.main()
        return json.loads(capsys.readouterr().out)

    def test_one_repository(self, module_args, capsys, monkeypatch, fake_api):
        fake_api.add_key('r2', 'x')
        out = self.run_main(dict(repo_name='media'), module_args, capsys, monkeypatch, fake_api)
        assert out['changed'] is False
        assert [key['name'] for key in out['apikeys']] == ['x']

    def test_without_a_repository_reports_the_fleet(self, module_args, capsys, monkeypatch, fake_api):
        fake_api.add_key('r1', 'x')
        fake_api.add_key('r5', 'y')
        out = self.run_main(dict(max_age_days=10), module_args, capsys, monkeypatch, fake_api)
        assert [(k['repo_name'], k['name'], k['due_in_days']) for k in out['apikeys']] == [
            ('backups', 'x', -20), ('shared', 'y', -20)]
        assert fake_api.calls[0] == ('GET', '/repo', None) and len(fake_api.calls) == 5

    def test_repo_id_and_repo_name_exclude_each_other(self, module_args, capsys, monkeypatch, fake_api):
        out = self.run_main(dict(repo_id='r1', repo_name='backups'), module_args, capsys, monkeypatch, fake_api)
        assert out['failed'] is True
        assert 'parameters are mutually exclusive: repo_id|repo_name' in out['msg']
        assert fake_api.calls == []

    def test_bad_concurrency_fails_cleanly(self, module_args, capsys, monkeypatch, fake_api):
        out = self.run_main(dict(concurrency=99), module_args, capsys, monkeypatch, fake_api)
        assert out['failed'] is True and out['msg'] == 'concurrency is 99; use 1 to 16'
        assert fake_api.calls == []
