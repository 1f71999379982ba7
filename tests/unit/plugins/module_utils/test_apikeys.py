# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.flashback.platform.plugins.module_utils import _apikeys as apikeys, _client as client_module, _errors as errors

# Ids id_problem refuses: a URL must never get one, whether a user or the server supplied it.
UNUSABLE_IDS = ['..', '.', '.hidden', 'r/1', '../x?y', 'a b', 'k\n1', 'x#y', '%2e%2e', '', 'k' * 129, u'k\u00e9']


class Answering(object):
    """A client whose every request returns ``body``."""

    def __init__(self, body):
        self.body = body
        self.calls = []

    def request(self, method, path, payload=None, context=None):
        self.calls.append((method, path))
        return self.body


class TestNormalizeKey:
    def test_drops_encrypted_secret_and_renames_fields(self):
        raw = dict(id='k1', name='ci', accessType='WRITE', key='FBK1', createdAt='2026-01-01T00:00:00.000Z',
                   secret=dict(key='a', iv='b', authTag='c', message='d'), extra='ignored')
        assert apikeys.normalize_key(raw, 'r1') == dict(
            id='k1', name='ci', access='WRITE', key='FBK1', repo_id='r1', created_at='2026-01-01T00:00:00.000Z')

    def test_optional_fields_may_be_missing(self):
        key = apikeys.normalize_key(dict(id='k1', name='ci', accessType='READ'), 'r1')
        assert key['key'] is None and key['created_at'] is None

    @pytest.mark.parametrize('raw', [
        dict(name='ci', accessType='READ'),
        dict(id=5, name='ci', accessType='READ'),
        dict(id='k1', name='', accessType='READ'),
        dict(id='k1', name='ci'),
        dict(id='k1', name='ci', accessType='READ', key=['x']),
    ])
    def test_malformed_key(self, raw):
        with pytest.raises(errors.MalformedResponseError):
            apikeys.normalize_key(raw, 'r1')

    @pytest.mark.parametrize('key_id', [i for i in UNUSABLE_IDS if i])
    def test_unusable_id_from_the_server_is_refused(self, key_id):
        with pytest.raises(errors.MalformedResponseError) as exc:
            apikeys.normalize_key(dict(id=key_id, name='ci', accessType='READ'), 'r1')
        assert exc.value.message.startswith('the Flashback API returned an API key with an unusable id (it ')
        assert '\n' not in exc.value.message
        if len(key_id) > 2:
            assert key_id not in exc.value.message


class TestKeysPath:
    def test_usable_ids(self):
        assert apikeys.keys_path('r1') == '/repo/r1/apikey'
        assert apikeys.keys_path('0b5e-4f_x.y~z', 'k-1') == '/repo/0b5e-4f_x.y~z/apikey/k-1'

    @pytest.mark.parametrize('bad', UNUSABLE_IDS)
    @pytest.mark.parametrize('position', ['repo', 'key'])
    def test_unusable_ids_never_reach_a_url(self, bad, position):
        with pytest.raises(errors.ResourceError) as exc:
            if position == 'repo':
                apikeys.keys_path(bad, 'k1')
            else:
                apikeys.keys_path('r1', bad)
        what = 'repository' if position == 'repo' else 'API key'
        assert exc.value.message.startswith('refusing to put the %s id into a URL because it ' % what)

    def test_list_keys_of_an_unusable_repo_id_sends_nothing(self):
        client = Answering(dict(keys=[]))
        with pytest.raises(errors.ResourceError):
            apikeys.list_keys(client, '..')
        assert client.calls == []


class TestListKeys:
    @pytest.mark.parametrize('body', [{}, dict(keys='x'), dict(keys=[1]), dict(keys=None)])
    def test_malformed_list(self, body):
        class Client(object):
            def request(self, *args, **kwargs):
                return body
        with pytest.raises(errors.MalformedResponseError) as exc:
            apikeys.list_keys(Client(), 'r1')
        assert "without a 'keys' list" in exc.value.message

    def test_lists_normalized(self, fake_api):
        fake_api.add_key('r1', 'a')
        assert [k['name'] for k in apikeys.list_keys(fake_api, 'r1')] == ['a']
        assert fake_api.calls == [('GET', '/repo/r1/apikey', None)]


class TestListRepos:
    def test_lists_ids_and_names(self, fake_api):
        assert apikeys.list_repos(fake_api)[:2] == [dict(id='r1', name='backups'), dict(id='r2', name='media')]

    @pytest.mark.parametrize('repo_id', [i for i in UNUSABLE_IDS if i])
    def test_unusable_repository_id_is_refused(self, repo_id):
        with pytest.raises(errors.MalformedResponseError) as exc:
            apikeys.list_repos(Answering(dict(repos=[dict(id='r1', name='a'), dict(id=repo_id, name='b')])))
        assert exc.value.message.startswith('the Flashback API returned a repository with an unusable id (it ')

    def test_404_suggests_checking_api_url(self):
        class NotThere(object):
            def request(self, method, path, payload=None, context=None):
                raise errors.NotFoundError('%s not found or not visible to this token' % context, 404)
        with pytest.raises(errors.NotFoundError) as exc:
            apikeys.list_repos(NotThere())
        assert exc.value.message == ('the repository list not found (GET /repo answered HTTP 404): check that api_url '
                                     'points at the Flashback API (no extra path)')
        assert exc.value.fail_kwargs()['status'] == 404


class TestRepoName:
    def test_asks_for_the_one_repository(self, fake_api):
        assert apikeys.repo_name(fake_api, 'r2') == 'media'
        assert fake_api.calls == [('GET', '/repo?repoId=r2', None)]

    def test_the_id_is_quoted_into_the_query(self):
        client = Answering(dict(repos=[dict(id='r 1&x=y', name='odd')]))
        with pytest.raises(errors.ResourceError):
            apikeys.repo_name(client, 'r 1&x=y')  # refused before any request, like a key listing's URL
        assert client.calls == []
        client = Answering(dict(repos=[dict(id='r-1_a.b~c', name='ok')]))
        assert apikeys.repo_name(client, 'r-1_a.b~c') == 'ok'
        assert client.calls == [('GET', '/repo?repoId=r-1_a.b~c')]

    def test_a_server_that_ignores_the_filter_gets_the_matching_entry_picked(self, fake_api):
        fake_api.ignores_repo_filter = True
        assert apikeys.repo_name(fake_api, 'r5') == 'shared'
        assert apikeys.repo_name(fake_api, 'r2') == 'media'
        assert len(fake_api.calls) == 2

    @pytest.mark.parametrize('repos', [
        [],                                               # unknown or invisible: the API's empty answer
        [dict(id='r1', name='backups')],                  # a server answering with some other repository
        [dict(id='r7', name=None)],                       # no usable name
        [dict(id='r7', name='')],
        [dict(id='r7', name=['x'])],
        [dict(name='no id'), dict(id='r7')],
    ])
    def test_no_usable_match_is_none_not_an_error(self, repos):
        assert apikeys.repo_name(Answering(dict(success=True, repos=repos)), 'r7') is None

    def test_an_answer_without_a_repos_list_is_malformed(self):
        with pytest.raises(errors.MalformedResponseError):
            apikeys.repo_name(Answering(dict(success=True)), 'r1')

    def test_a_failed_request_fails_with_the_repository_as_its_context(self):
        class Denying(object):
            def request(self, method, path, payload=None, context=None):
                raise errors.PermissionDeniedError('access denied to %s: use a token scoped for it' % context, 403)
        with pytest.raises(errors.PermissionDeniedError) as exc:
            apikeys.repo_name(Denying(), 'r1')
        assert exc.value.message == 'access denied to repository r1: use a token scoped for it'


class TestResolveRepoId:
    def test_id_wins_without_a_request(self, fake_api):
        assert apikeys.resolve_repo_id(fake_api, repo_id='r9') == 'r9'
        assert fake_api.calls == []

    def test_by_name(self, fake_api):
        assert apikeys.resolve_repo_id(fake_api, repo_name='media') == 'r2'

    def test_unknown_name(self, fake_api):
        with pytest.raises(errors.ResourceError) as exc:
            apikeys.resolve_repo_id(fake_api, repo_name='nope')
        assert exc.value.message == "repository named 'nope' not found or not visible to this token"

    def test_ambiguous_name(self, fake_api):
        with pytest.raises(errors.ResourceError) as exc:
            apikeys.resolve_repo_id(fake_api, repo_name='shared')
        assert exc.value.message == "2 repositories are named 'shared' (ids: r4, r5): set repo_id instead of repo_name"


class TestSelectKey:
    KEYS = [dict(id='k1', name='a'), dict(id='k2', name='b'), dict(id='k3', name='b')]

    def test_by_name(self):
        assert apikeys.select_key(self.KEYS, 'r1', 'a')['id'] == 'k1'

    def test_missing(self):
        assert apikeys.select_key(self.KEYS, 'r1', 'zz') is None
        assert apikeys.select_key(self.KEYS, 'r1', 'a', key_id='k9') is None

    def test_key_id_picks_among_duplicates(self):
        assert apikeys.select_key(self.KEYS, 'r1', 'b', key_id='k3')['id'] == 'k3'

    def test_duplicates_refused_with_ids(self):
        with pytest.raises(errors.ResourceError) as exc:
            apikeys.select_key(self.KEYS, 'r1', 'b')
        assert "2 live API keys are named 'b' in repository r1 (ids: k2, k3)" in exc.value.message


class TestFilterKeys:
    def test_filters_combine(self):
        keys = [dict(id='k1', name='a', access='READ'), dict(id='k2', name='a', access='WRITE')]
        assert apikeys.filter_keys(keys, name='a', access='WRITE') == [keys[1]]
        assert apikeys.filter_keys(keys) == keys


class TestApiKeysWrites:
    def test_check_mode_sends_nothing(self, fake_api):
        current = apikeys.normalize_key(fake_api.add_key('r1', 'a'), 'r1')
        api = apikeys.ApiKeys(fake_api, 'r1', check_mode=True)
        assert api.create('n', 'READ') == (apikeys.planned_key('r1', 'n', 'READ'), None)
        assert api.update(current, 'b', 'ADMIN')['access'] == 'ADMIN'
        api.delete(current)
        assert fake_api.calls == []

    def test_create_returns_secret_with_one_request(self, fake_api):
        apikey, secret = apikeys.ApiKeys(fake_api, 'r1').create('n', 'WRITE')
        assert secret == 'plain-secret-k1'
        assert apikey == dict(id='k1', name='n', access='WRITE', key='FBK1', repo_id='r1', created_at=None)
        assert fake_api.calls == [('POST', '/repo/r1/apikey', dict(name='n', accessType='WRITE'))]

    def test_create_answer_without_id_is_retried_then_fails(self):
        class NoId(object):
            timeout = 1
            max_retries = 2

            def request(self, method, path, payload=None, context=None):
                return dict(success=True) if method == 'POST' else dict(keys=[])

            def sleep(self, seconds):
                pass

            def remember_secret(self, secret):
                pass
        with pytest.raises(errors.ResourceError) as exc:
            apikeys.ApiKeys(NoId(), 'r1').create('n', 'READ')
        assert exc.value.message.startswith("creating API key 'n' in repository r1 failed 3 times, each time with "
                                            "nothing left behind; last error: the Flashback API returned the created")

    def test_created_key_with_an_unusable_id_is_not_used(self, fake_api):
        answers = [dict(success=True, id='../k1', key='FBK', secret='s')]

        class BadIdOnce(object):
            timeout = 1
            max_retries = 1

            def request(self, method, path, payload=None, context=None):
                if method == 'POST' and answers:
                    return answers.pop()
                return fake_api.request(method, path, payload, context)

            def sleep(self, seconds):
                pass

            def remember_secret(self, secret):
                pass
        apikey, secret = apikeys.ApiKeys(BadIdOnce(), 'r1').create('n', 'READ')
        assert (apikey['id'], secret) == ('k1', 'plain-secret-k1')
        assert [c[0] for c in fake_api.calls] == ['GET', 'POST']

    def test_deleting_a_key_that_is_already_gone_is_done(self):
        class Gone(object):
            def request(self, method, path, payload=None, context=None):
                raise errors.NotFoundError('API key k1 in repository r1 not found or not visible to this token', 404)
        apikeys.ApiKeys(Gone(), 'r1').delete(dict(id='k1'))

    def test_update_and_delete_send_one_request_each(self, fake_api):
        current = apikeys.normalize_key(fake_api.add_key('r1', 'a'), 'r1')
        api = apikeys.ApiKeys(fake_api, 'r1')
        api.update(current, 'b', 'ADMIN')
        api.delete(current)
        assert fake_api.calls == [('PUT', '/repo/r1/apikey/k1', dict(name='b', accessType='ADMIN')),
                                  ('DELETE', '/repo/r1/apikey/k1', None)]


class FaultyApi(object):
    """FakeApi whose next calls fail as scripted: 'before' fails without acting, 'after' acts then fails,
    'nosecret' acts and answers without the secret. Records the pauses it is asked for instead of sleeping."""

    def __init__(self, api, *faults, **settings):
        self.api = api
        self.faults = list(faults)
        self.timeout = 2
        self.max_retries = settings.get('max_retries', client_module.DEFAULT_MAX_RETRIES)
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)

    def remember_secret(self, secret):
        self.api.remember_secret(secret)

    def hold_back(self, delay):
        self.api.hold_back(delay)

    def request(self, method, path, payload=None, context=None):
        if self.faults and self.faults[0][0] == method:
            kind, error = self.faults.pop(0)[1:]
            if kind == 'before':
                self.api.calls.append((method, path, payload))
                raise error
            answer = self.api.request(method, path, payload, context)
            if kind == 'after':
                raise error
            answer.pop('secret')
            return answer
        return self.api.request(method, path, payload, context)


DROPPED = errors.ConnectionFailedError('cannot reach the Flashback API: dropped')
TIMEOUT = errors.RequestTimeoutError('the Flashback API did not answer in time')
BOOM = errors.ServerError('the Flashback API failed with HTTP 500', 500)


def fake_clock():
    """A clock and a sleep that advances it, so polling runs instantly."""
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds
    return (lambda: now[0]), sleep


class TestAmbiguousCreate:
    def live(self, fake_api):
        return [(key['id'], key['name']) for key in fake_api.keys['r1']]

    def test_failure_before_acting_creates_once_more(self, fake_api):
        faulty = FaultyApi(fake_api, ('POST', 'before', DROPPED))
        apikey, secret = apikeys.ApiKeys(faulty, 'r1').create('n', 'READ')
        assert (apikey['id'], secret) == ('k1', 'plain-secret-k1')
        assert self.live(fake_api) == [('k1', 'n')]
        assert [c[0] for c in fake_api.calls] == ['POST', 'GET', 'POST']

    @pytest.mark.parametrize('error', [DROPPED, BOOM])
    def test_orphan_of_an_acted_create_is_deleted(self, fake_api, error):
        faulty = FaultyApi(fake_api, ('POST', 'after', error))
        apikey, secret = apikeys.ApiKeys(faulty, 'r1').create('n', 'READ')
        assert (apikey['id'], secret) == ('k2', 'plain-secret-k2')
        assert self.live(fake_api) == [('k2', 'n')]
        assert [c[:2] for c in fake_api.calls] == [
            ('POST', '/repo/r1/apikey'), ('GET', '/repo/r1/apikey'), ('DELETE', '/repo/r1/apikey/k1'), ('POST', '/repo/r1/apikey')]

    def test_answer_without_secret_is_an_orphan(self, fake_api):
        faulty = FaultyApi(fake_api, ('POST', 'nosecret', None))
        apikey, secret = apikeys.ApiKeys(faulty, 'r1').create('n', 'READ')
        assert secret == 'plain-secret-k2' and self.live(fake_api) == [('k2', 'n')]

    def test_known_keys_with_the_name_are_not_orphans(self, fake_api):
        fake_api.add_key('r1', 'n')
        faulty = FaultyApi(fake_api, ('POST', 'before', BOOM))
        apikeys.ApiKeys(faulty, 'r1').create('n', 'READ', known_ids=['k1'])
        assert self.live(fake_api) == [('k1', 'n'), ('k2', 'n')]
        assert fake_api.writes[-1][0] == 'POST'

    def test_timeout_waits_for_a_late_create(self, fake_api):
        clock, advance = fake_clock()

        landed = []

        def sleep(seconds):
            advance(seconds)
            if clock() >= 1.0 and not landed:
                landed.append(fake_api.add_key('r1', 'n'))   # the slow request lands on the server, once
        faulty = FaultyApi(fake_api, ('POST', 'before', TIMEOUT))
        apikey, secret = apikeys.ApiKeys(faulty, 'r1', clock=clock, sleep=sleep).create('n', 'READ')
        assert self.live(fake_api) == [('k2', 'n')]
        assert ('DELETE', '/repo/r1/apikey/k1', None) in fake_api.calls
        assert secret == 'plain-secret-k2'

    def test_timeout_gives_up_waiting_after_one_timeout(self, fake_api):
        clock, sleep = fake_clock()
        faulty = FaultyApi(fake_api, ('POST', 'before', TIMEOUT))
        apikeys.ApiKeys(faulty, 'r1', clock=clock, sleep=sleep).create('n', 'READ')
        listings = [c for c in fake_api.calls if c[0] == 'GET']
        assert len(listings) == 1 + faulty.timeout / apikeys.ORPHAN_POLL_INTERVAL
        assert self.live(fake_api) == [('k1', 'n')]

    @pytest.mark.parametrize('max_retries', [1, 2, 3, 5])
    def test_max_retries_bounds_the_attempts_with_backoff(self, fake_api, max_retries):
        faulty = FaultyApi(fake_api, *[('POST', 'after', BOOM)] * (max_retries + 2), max_retries=max_retries)
        with pytest.raises(errors.ResourceError) as exc:
            apikeys.ApiKeys(faulty, 'r1').create('n', 'READ')
        assert 'failed %d times, each time with nothing left behind' % (max_retries + 1) in exc.value.message
        assert [c[0] for c in fake_api.calls].count('POST') == max_retries + 1
        assert self.live(fake_api) == []
        # A pause between attempts, none after the last; jittered and capped as the client's own retries.
        assert len(faulty.sleeps) == max_retries
        assert all(0 <= delay <= min(client_module.BACKOFF_CAP, client_module.BACKOFF_BASE * 2 ** attempt)
                   for attempt, delay in enumerate(faulty.sleeps))

    def test_no_retries_still_removes_the_orphan_once(self, fake_api):
        faulty = FaultyApi(fake_api, ('POST', 'after', BOOM), max_retries=0)
        with pytest.raises(errors.ResourceError) as exc:
            apikeys.ApiKeys(faulty, 'r1').create('n', 'READ')
        assert exc.value.message == ("creating API key 'n' in repository r1 failed once, with nothing left behind; "
                                     "last error: %s" % BOOM.message)
        assert [c[:2] for c in fake_api.calls] == [
            ('POST', '/repo/r1/apikey'), ('GET', '/repo/r1/apikey'), ('DELETE', '/repo/r1/apikey/k1')]
        assert self.live(fake_api) == [] and faulty.sleeps == []

    def test_pauses_use_the_clients_sleep_unless_given_one(self, fake_api):
        given = []
        faulty = FaultyApi(fake_api, ('POST', 'before', BOOM))
        apikeys.ApiKeys(faulty, 'r1').create('n', 'READ')
        faulty_given = FaultyApi(fake_api, ('POST', 'before', BOOM))
        apikeys.ApiKeys(faulty_given, 'r1', sleep=given.append).create('m', 'READ')
        assert len(faulty.sleeps) == 1 and faulty_given.sleeps == [] and len(given) == 1

    def test_undeletable_orphan_is_named(self, fake_api):
        faulty = FaultyApi(fake_api, ('POST', 'after', BOOM), ('DELETE', 'before', BOOM))
        with pytest.raises(errors.ResourceError) as exc:
            apikeys.ApiKeys(faulty, 'r1').create('n', 'READ')
        assert exc.value.message.startswith("API key k1 ('n') in repository r1 was created but its secret was lost, "
                                            "and deleting it failed")
        assert 'state=absent, key_id=k1' in exc.value.message

    def test_failed_check_listing_is_explained(self, fake_api):
        faulty = FaultyApi(fake_api, ('POST', 'after', BOOM), ('GET', 'before', DROPPED))
        with pytest.raises(errors.ResourceError) as exc:
            apikeys.ApiKeys(faulty, 'r1').create('n', 'READ')
        assert 'had an unknown outcome' in exc.value.message
        assert "delete any key named 'n' whose secret you do not hold" in exc.value.message

    @pytest.mark.parametrize('error', [errors.BadRequestError('rejected', 400),
                                       errors.AuthenticationError('authentication failed', 401),
                                       errors.PermissionDeniedError('access denied', 403)])
    def test_refused_create_is_not_reconciled(self, fake_api, error):
        faulty = FaultyApi(fake_api, ('POST', 'before', error))
        with pytest.raises(type(error)):
            apikeys.ApiKeys(faulty, 'r1').create('n', 'READ')
        assert [c[0] for c in fake_api.calls] == ['POST']
        assert faulty.sleeps == []


THROTTLED = errors.RateLimitedError('the Flashback API throttled POST /repo/r1/apikey (HTTP 429)', 429, retry_after=4)
GONE = errors.NotFoundError('repository r1 not found or not visible to this token', 404)
REDIRECTED = errors.RedirectError('the Flashback API answered POST /repo/r1/apikey with a redirect (HTTP 307)', 307)


class TestEveryAmbiguousCreateIsReconciled:
    """After any failure but 400/401/403 the orphan check runs; the end is one live key with its secret, or none."""

    def live(self, fake_api):
        return [(key['id'], key['name']) for key in fake_api.keys['r1']]

    def test_429_after_acting_leaves_one_key_whose_secret_is_returned(self, fake_api):
        faulty = FaultyApi(fake_api, ('POST', 'after', THROTTLED))
        apikey, secret = apikeys.ApiKeys(faulty, 'r1').create('n', 'READ')
        assert (apikey['id'], secret) == ('k2', 'plain-secret-k2')
        assert self.live(fake_api) == [('k2', 'n')]
        assert [c[:2] for c in fake_api.calls] == [
            ('POST', '/repo/r1/apikey'), ('GET', '/repo/r1/apikey'), ('DELETE', '/repo/r1/apikey/k1'),
            ('POST', '/repo/r1/apikey')]
        # Retry-After is honoured, and the 429 holds back the client's other threads.
        assert faulty.sleeps == [4] and fake_api.holds == [4]

    def test_429_before_acting_is_checked_then_retried(self, fake_api):
        faulty = FaultyApi(fake_api, ('POST', 'before', THROTTLED))
        apikeys.ApiKeys(faulty, 'r1').create('n', 'READ')
        assert self.live(fake_api) == [('k1', 'n')]
        assert [c[0] for c in fake_api.calls] == ['POST', 'GET', 'POST']

    @pytest.mark.parametrize('error', [GONE, REDIRECTED])
    def test_404_or_307_after_acting_deletes_the_orphan_and_stops(self, fake_api, error):
        faulty = FaultyApi(fake_api, ('POST', 'after', error))
        with pytest.raises(errors.ResourceError) as exc:
            apikeys.ApiKeys(faulty, 'r1').create('n', 'READ')
        assert self.live(fake_api) == []
        assert [c[0] for c in fake_api.calls] == ['POST', 'GET', 'DELETE']  # not retried: it would answer the same
        assert exc.value.message == (
            "creating API key 'n' in repository r1: the API made key k1, then answered with an error, so its secret "
            "never arrived; that key was deleted and nothing is left behind; the error: " + error.message)
        assert faulty.sleeps == []

    @pytest.mark.parametrize('error', [GONE, REDIRECTED])
    def test_404_or_307_before_acting_is_checked_and_raised_as_it_is(self, fake_api, error):
        faulty = FaultyApi(fake_api, ('POST', 'before', error))
        with pytest.raises(type(error)) as exc:
            apikeys.ApiKeys(faulty, 'r1').create('n', 'READ')
        assert exc.value is error
        assert [c[0] for c in fake_api.calls] == ['POST', 'GET'] and self.live(fake_api) == []

    def test_a_2xx_naming_a_key_listed_before_is_refused_and_its_key_removed(self, fake_api):
        other = fake_api.add_key('r1', 'other')

        class ForeignId(FaultyApi):
            def request(self, method, path, payload=None, context=None):
                answer = self.api.request(method, path, payload, context)
                if method == 'POST':
                    answer = dict(answer, id=other['id'], secret='forged-secret-000')
                return answer
        api = ForeignId(fake_api)
        with pytest.raises(errors.ResourceError) as exc:
            apikeys.ApiKeys(api, 'r1').create('n', 'READ', known_ids=[other['id']])
        assert 'the API answered with the id k1, which belongs to a key that existed before' in exc.value.message
        assert self.live(fake_api) == [('k1', 'other')]  # the key it made is gone, the other key untouched

    def test_verify_created_drops_an_id_the_listing_does_not_show(self, fake_api):
        made = apikeys.normalize_key(fake_api.add_key('r1', 'n'), 'r1')
        good = apikeys.normalize_key(fake_api.add_key('r1', 'g'), 'r1')
        forged = dict(made, id='k999')
        bad = apikeys.ApiKeys(fake_api, 'r1').verify_created([forged, good], known_ids=['k999', good['id']])
        assert bad == {'k999'}
        assert self.live(fake_api) == [('k2', 'g')]  # the key really made under the name is an orphan: deleted
