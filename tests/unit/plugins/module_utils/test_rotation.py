# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest

from ansible_collections.flashback.platform.plugins.module_utils import apikeys, errors, rotation


def live(fake_api, repo_id='r1'):
    return [(key['id'], key['name']) for key in fake_api.keys[repo_id]]


def view(fake_api, key_id, repo_id='r1'):
    return apikeys.filter_keys(apikeys.list_keys(fake_api, repo_id), key_id=key_id)[0]


class FailingDeletes(object):
    def __init__(self, api):
        self.api = api
        self.timeout = 1

    def request(self, method, path, payload=None, context=None):
        if method == 'DELETE':
            raise errors.ServerError('the Flashback API failed on DELETE with HTTP 500', 500)
        return self.api.request(method, path, payload, context)


class TestNames:
    def test_marker_round_trip(self):
        keys = [dict(id='n1', name=rotation.replacement_name('ci', 'k1')), dict(id='n2', name='ci (replacing)'),
                dict(id='n3', name=rotation.replacement_name('other', 'k1'))]
        assert keys[0]['name'] == 'ci (replacing k1)'
        assert rotation.pending_replacements(keys, 'ci') == [(keys[0], 'k1')]


class TestCreatedAt:
    @pytest.mark.parametrize('value, expected', [
        ('2026-11-27T10:00:00.123Z', datetime.datetime(2026, 11, 27, 10, 0, 0)),
        ('2026-11-27T10:00:00Z', datetime.datetime(2026, 11, 27, 10, 0, 0)),
        ('2026-11-27T12:30:00+02:30', datetime.datetime(2026, 11, 27, 10, 0, 0)),
        ('2026-11-27T08:00:00-0200', datetime.datetime(2026, 11, 27, 10, 0, 0)),
        ('yesterday', None), (None, None), ('', None),
    ])
    def test_parse(self, value, expected):
        assert rotation.parse_created_at(value) == expected

    def test_older_than(self):
        now = datetime.datetime(2026, 11, 27)
        assert rotation.older_than(dict(id='k', created_at='2026-08-28T23:59:59Z'), 90, now)
        assert not rotation.older_than(dict(id='k', created_at='2026-08-29T00:00:01Z'), 90, now)

    def test_unreadable_age_fails(self):
        with pytest.raises(errors.ResourceError) as exc:
            rotation.older_than(dict(id='k1', created_at=None), 90, datetime.datetime(2026, 1, 1))
        assert 'cannot tell the age of API key k1' in exc.value.message


class TestRotate:
    def test_create_before_delete_then_rename(self, fake_api):
        old = apikeys.normalize_key(fake_api.add_key('r1', 'ci', 'WRITE'), 'r1')
        api = apikeys.ApiKeys(fake_api, 'r1')
        new, secret, replaced = rotation.rotate(api, old, 'ci', 'WRITE', ['k1'])
        assert [c[:2] for c in fake_api.writes] == [
            ('POST', '/repo/r1/apikey'), ('DELETE', '/repo/r1/apikey/k1'), ('PUT', '/repo/r1/apikey/k2')]
        assert fake_api.writes[0][2] == dict(name='ci (replacing k1)', accessType='WRITE')
        assert (new['id'], new['name'], new['access'], secret) == ('k2', 'ci', 'WRITE', 'plain-secret-k2')
        assert replaced == dict(id='k1', key='FBK1', created_at=old['created_at'])
        assert live(fake_api) == [('k2', 'ci')]

    def test_failed_create_leaves_the_old_key(self, fake_api):
        old = apikeys.normalize_key(fake_api.add_key('r1', 'ci'), 'r1')

        class RefusingCreate(object):
            def request(self, method, path, payload=None, context=None):
                if method == 'POST':
                    raise errors.BadRequestError('rejected', 400)
                return fake_api.request(method, path, payload, context)
        with pytest.raises(errors.BadRequestError):
            rotation.rotate(apikeys.ApiKeys(RefusingCreate(), 'r1'), old, 'ci', 'READ', ['k1'])
        assert live(fake_api) == [('k1', 'ci')]

    def test_failed_delete_still_hands_over_the_secret(self, fake_api):
        old = apikeys.normalize_key(fake_api.add_key('r1', 'ci'), 'r1')
        with pytest.raises(rotation.RotationIncomplete) as exc:
            rotation.rotate(apikeys.ApiKeys(FailingDeletes(fake_api), 'r1'), old, 'ci', 'READ', ['k1'])
        kwargs = exc.value.fail_kwargs()
        assert kwargs['secret'] == 'plain-secret-k2'
        assert kwargs['apikey']['id'] == 'k2'
        assert kwargs['replaced']['id'] == 'k1'
        assert 'store the secret now, then rerun to finish the rotation' in kwargs['msg']
        assert 'plain-secret' not in kwargs['msg']
        assert live(fake_api) == [('k1', 'ci'), ('k2', 'ci (replacing k1)')]

    def test_check_mode_predicts(self, fake_api):
        old = apikeys.normalize_key(fake_api.add_key('r1', 'ci'), 'r1')
        new, secret, replaced = rotation.rotate(apikeys.ApiKeys(fake_api, 'r1', check_mode=True), old, 'ci', 'READ', [])
        assert (new['id'], new['name'], secret, replaced['id']) == (None, 'ci', None, 'k1')
        assert fake_api.writes == []


class TestFinish:
    def test_nothing_pending(self, fake_api):
        assert rotation.finish(apikeys.ApiKeys(fake_api, 'r1'), [], None, 'ci', None) is None

    def test_old_key_still_there(self, fake_api):
        fake_api.add_key('r1', 'ci')
        fake_api.add_key('r1', 'ci (replacing k1)', 'ADMIN')
        keys = apikeys.list_keys(fake_api, 'r1')
        apikey, replaced = rotation.finish(apikeys.ApiKeys(fake_api, 'r1'), keys, keys[0], 'ci', None)
        assert (apikey['id'], apikey['name'], apikey['access'], replaced['id']) == ('k2', 'ci', 'ADMIN', 'k1')
        assert live(fake_api) == [('k2', 'ci')]
        assert [c[0] for c in fake_api.writes] == ['DELETE', 'PUT']

    def test_old_key_already_gone(self, fake_api):
        fake_api.add_key('r1', 'ci (replacing k0)')
        keys = apikeys.list_keys(fake_api, 'r1')
        apikey, replaced = rotation.finish(apikeys.ApiKeys(fake_api, 'r1'), keys, None, 'ci', 'WRITE')
        assert (apikey['name'], apikey['access'], replaced) == ('ci', 'WRITE', None)
        assert [c[0] for c in fake_api.writes] == ['PUT']

    def test_unrelated_key_with_the_name_is_refused(self, fake_api):
        fake_api.add_key('r1', 'ci')
        fake_api.add_key('r1', 'ci (replacing k9)')
        keys = apikeys.list_keys(fake_api, 'r1')
        with pytest.raises(errors.ResourceError) as exc:
            rotation.finish(apikeys.ApiKeys(fake_api, 'r1'), keys, keys[0], 'ci', None)
        assert 'replaces key k9' in exc.value.message
        assert fake_api.writes == []

    def test_two_pending_are_refused(self, fake_api):
        fake_api.add_key('r1', 'ci (replacing k8)')
        fake_api.add_key('r1', 'ci (replacing k9)')
        with pytest.raises(errors.ResourceError) as exc:
            rotation.finish(apikeys.ApiKeys(fake_api, 'r1'), apikeys.list_keys(fake_api, 'r1'), None, 'ci', None)
        assert '2 unfinished rotations' in exc.value.message
