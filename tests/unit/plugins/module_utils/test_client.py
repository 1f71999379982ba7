# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import threading

import pytest
import requests

from ansible_collections.flashback.platform.plugins.module_utils import client as client_module
from ansible_collections.flashback.platform.plugins.module_utils import errors
from ansible_collections.flashback.platform.plugins.module_utils.client import FlashbackClient

TOKEN = 'tok-SECRET-123'


def response(status, body=None, raw=None, headers=None):
    """A real requests.Response, as the session would return it."""
    resp = requests.Response()
    resp.status_code = status
    if raw is not None:
        resp._content = raw.encode()
    elif body is not None:
        resp._content = json.dumps(body).encode()
    else:
        resp._content = b''
    resp.headers.update(headers or {})
    return resp


class FakeSession(object):
    """Stands in for requests.Session.request: returns or raises the scripted outcomes in order."""

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.calls = []

    def __call__(self, method, url, json=None, timeout=None, verify=None):
        self.calls.append(dict(method=method, url=url, json=json, timeout=timeout, verify=verify))
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def make_client(*outcomes, **kwargs):
    sleeps = []
    client = FlashbackClient('https://api.example.test/', TOKEN, sleep=sleeps.append, **kwargs)
    client.session.request = FakeSession(*outcomes)
    return client, sleeps


class TestSessionSetup:
    def test_headers_carry_bearer_token_and_user_agent(self):
        client, dummy = make_client()
        assert client.session.headers['Authorization'] == 'Bearer ' + TOKEN
        assert client.session.headers['User-Agent'].startswith('flashback.platform/')
        assert client.api_url == 'https://api.example.test'

    @pytest.mark.parametrize('validate_certs, ca_path, expected', [
        (True, None, True),
        (True, '/etc/ca.pem', '/etc/ca.pem'),
        (False, '/etc/ca.pem', False),
        (False, None, False),
    ])
    def test_verify(self, validate_certs, ca_path, expected):
        client, dummy = make_client(response(200, {}), validate_certs=validate_certs, ca_path=ca_path)
        client.request('GET', '/repo')
        assert client.session.request.calls[0]['verify'] == expected

    def test_version_matches_galaxy_yml(self):
        galaxy = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'galaxy.yml')
        with open(galaxy) as handle:
            version = re.search(r'^version:\s*(\S+)', handle.read(), re.M).group(1)
        assert client_module.COLLECTION_VERSION == version


class TestRequestSuccess:
    def test_returns_json_object_and_sends_json_timeout(self):
        client, dummy = make_client(response(200, {'success': True, 'repos': []}), timeout=7)
        assert client.request('POST', '/repo', payload={'a': 1}) == {'success': True, 'repos': []}
        call = client.session.request.calls[0]
        assert call == dict(method='POST', url='https://api.example.test/repo', json={'a': 1}, timeout=7, verify=True)

    @pytest.mark.parametrize('status', [200, 201, 204])
    def test_any_2xx_with_empty_body_is_success(self, status):
        client, dummy = make_client(response(status))
        assert client.request('DELETE', '/repo/r1/apikey/k1') == {}


class TestMalformedAnswers:
    @pytest.mark.parametrize('resp', [
        response(200, raw='<html>gateway</html>'),
        response(200, raw='[1, 2]'),
        response(200, raw='"text"'),
        response(201, raw='{"truncated": '),
    ])
    def test_non_object_bodies(self, resp):
        client, dummy = make_client(resp)
        with pytest.raises(errors.MalformedResponseError) as exc:
            client.request('GET', '/repo')
        assert 'not a JSON object' in exc.value.message
        assert 'GET /repo' in exc.value.message

    @pytest.mark.parametrize('method', ['PUT', 'DELETE'])
    def test_writes_without_a_needed_body_accept_a_mangled_2xx(self, method):
        client, dummy = make_client(response(200, raw='<html>ok</html>'))
        assert client.request(method, '/repo/r1/apikey/k1') == {}

    def test_success_false_on_2xx(self):
        client, dummy = make_client(response(200, {'success': False, 'message': 'nope'}))
        with pytest.raises(errors.MalformedResponseError) as exc:
            client.request('GET', '/repo')
        assert 'success=false (nope)' in exc.value.message


class TestErrorStatuses:
    @pytest.mark.parametrize('status, body, cls, fragment', [
        (400, {'success': False, 'message': 'name is required'}, errors.BadRequestError,
         'rejected POST /repo/r1/apikey as invalid (server said: name is required)'),
        (401, {'success': False, 'message': 'Unauthorized'}, errors.AuthenticationError,
         'authentication failed: check api_token or FLASHBACK_API_TOKEN'),
        (403, {'success': False, 'error_code': 'FORBIDDEN', 'error_message': 'no'}, errors.PermissionDeniedError,
         'access denied to repository r1: use a token scoped for it'),
        (404, {'success': False, 'message': 'Repository not found'}, errors.NotFoundError,
         'repository r1 not found or not visible to this token'),
        (500, {'success': False, 'message': 'boom'}, errors.ServerError,
         'failed on POST /repo/r1/apikey with HTTP 500 (server said: boom): retry later'),
        (418, None, errors.ApiError, 'unexpected HTTP 418'),
    ])
    def test_status_maps_to_typed_error(self, status, body, cls, fragment):
        client, dummy = make_client(response(status, body))
        with pytest.raises(cls) as exc:
            client.request('POST', '/repo/r1/apikey', payload={'name': 'x'}, context='repository r1')
        assert fragment in exc.value.message
        assert exc.value.fail_kwargs() == dict(msg=exc.value.message, status=status)
        assert '\n' not in exc.value.message

    def test_non_json_error_body_still_maps_by_status(self):
        client, dummy = make_client(response(502, raw='<html>Bad Gateway</html>'))
        with pytest.raises(errors.ServerError) as exc:
            client.request('POST', '/repo/r1/apikey')
        assert 'HTTP 502' in exc.value.message
        assert 'html' not in exc.value.message

    def test_context_defaults_to_path(self):
        client, dummy = make_client(response(404, {'success': False}))
        with pytest.raises(errors.NotFoundError) as exc:
            client.request('GET', '/repo/x/apikey')
        assert exc.value.message.startswith('/repo/x/apikey not found')

    def test_long_multiline_server_message_is_one_short_line(self):
        client, dummy = make_client(response(400, {'success': False, 'message': 'a\nb ' + 'x' * 500}))
        with pytest.raises(errors.BadRequestError) as exc:
            client.request('POST', '/repo')
        assert '\n' not in exc.value.message
        assert len(exc.value.message) < 400


class TestTransportErrors:
    def test_connection_refused(self):
        exc = requests.exceptions.ConnectionError(
            "HTTPSConnectionPool(host='h', port=1): Max retries exceeded (Caused by NewConnectionError("
            "'<urllib3.connection.HTTPSConnection object>: Failed to establish a new connection: "
            "[Errno 111] Connection refused'))")
        client, sleeps = make_client(exc, exc, exc, exc)
        with pytest.raises(errors.ConnectionFailedError) as err:
            client.request('GET', '/repo')
        assert err.value.message == ('cannot reach the Flashback API at https://api.example.test (GET /repo): '
                                     'Connection refused; check api_url and the network')
        assert len(sleeps) == 3

    def test_remote_disconnected(self):
        exc = requests.exceptions.ConnectionError("('Connection aborted.', RemoteDisconnected('closed'))")
        client, dummy = make_client(exc)
        with pytest.raises(errors.ConnectionFailedError) as err:
            client.request('POST', '/repo/r1/apikey')
        assert 'closed the connection without answering' in err.value.message

    def test_tls_failure_is_not_retried(self):
        client, sleeps = make_client(requests.exceptions.SSLError('certificate verify failed'))
        with pytest.raises(errors.TLSError) as err:
            client.request('GET', '/repo')
        assert 'set ca_path' in err.value.message
        assert sleeps == []

    def test_timeout(self):
        client, dummy = make_client(requests.exceptions.ReadTimeout('read timed out'), timeout=5, max_retries=0)
        with pytest.raises(errors.RequestTimeoutError) as err:
            client.request('GET', '/repo')
        assert err.value.message == 'the Flashback API did not answer GET /repo within 5s: raise timeout or retry later'


class TestRetries:
    def test_get_retried_on_503_then_succeeds(self):
        client, sleeps = make_client(response(503), response(502), response(200, {'success': True}))
        assert client.request('GET', '/repo') == {'success': True}
        assert len(sleeps) == 2
        assert all(0 <= delay <= client_module.BACKOFF_CAP for delay in sleeps)

    def test_429_honours_retry_after_capped(self):
        client, sleeps = make_client(response(429, headers={'Retry-After': '2'}),
                                     response(429, headers={'Retry-After': '9999'}),
                                     response(200, {'success': True}))
        client.request('GET', '/repo')
        assert sleeps == [2.0, client_module.MAX_RETRY_AFTER]

    def test_post_retried_on_429_only(self):
        client, sleeps = make_client(response(429, headers={'Retry-After': '1'}), response(200, {'id': 'k'}))
        assert client.request('POST', '/repo/r1/apikey') == {'id': 'k'}
        assert sleeps == [1.0]

    @pytest.mark.parametrize('outcome', [
        response(503),
        requests.exceptions.ReadTimeout('timed out'),
        requests.exceptions.ConnectionError('Connection aborted'),
    ])
    def test_post_not_retried_after_ambiguous_failure(self, outcome):
        client, sleeps = make_client(outcome, response(200, {'id': 'second'}))
        with pytest.raises(errors.FlashbackError):
            client.request('POST', '/repo/r1/apikey')
        assert len(client.session.request.calls) == 1
        assert sleeps == []

    def test_500_is_not_retried(self):
        client, sleeps = make_client(response(500), response(200, {}))
        with pytest.raises(errors.ServerError):
            client.request('GET', '/repo')
        assert sleeps == []

    def test_retries_run_out(self):
        client, sleeps = make_client(*[response(503)] * 3, max_retries=2)
        with pytest.raises(errors.ServerError):
            client.request('PUT', '/repo/r1/apikey/k')
        assert len(sleeps) == 2
        assert len(client.session.request.calls) == 3

    def test_429_message_when_retries_run_out(self):
        client, dummy = make_client(response(429), max_retries=0)
        with pytest.raises(errors.RateLimitedError) as err:
            client.request('GET', '/repo')
        assert 'throttled GET /repo (HTTP 429)' in err.value.message

    def test_delete_404_is_an_error_for_the_caller_to_judge(self):
        client, dummy = make_client(response(404, {'success': False}))
        with pytest.raises(errors.NotFoundError):
            client.request('DELETE', '/repo/r1/apikey/k')


class TestSharedBackoff:
    """One client serves converge's threads: a 429 one thread gets holds back the others' requests."""

    def setup_shared(self, *outcomes):
        client, dummy = make_client(*outcomes)
        events = []
        now = [1000.0]
        client._clock = lambda: now[0]
        client._sleep = lambda seconds: events.append(('sleep', threading.current_thread().name, seconds))
        send = client.session.request

        def logged(method, url, **kwargs):
            events.append(('send', threading.current_thread().name, url))
            return send(method, url, **kwargs)
        client.session.request = logged
        return client, events, now

    @staticmethod
    def in_thread(name, func, *args):
        answers = []
        thread = threading.Thread(target=lambda: answers.append(func(*args)), name=name)
        thread.start()
        thread.join(10)
        assert answers, 'the request in thread %s did not return' % name
        return answers[0]

    def test_429_in_one_thread_holds_back_the_next_request_of_another(self):
        url = 'https://api.example.test/repo'
        client, events, now = self.setup_shared(response(429, headers={'Retry-After': '5'}),
                                                response(200, {'success': True, 'n': 1}),
                                                response(200, {'success': True, 'n': 2}),
                                                response(200, {'success': True, 'n': 3}))
        assert self.in_thread('first', client.request, 'GET', '/repo') == {'success': True, 'n': 1}
        now[0] = 1002.0   # 2 of the first thread's 5 seconds have passed
        assert self.in_thread('second', client.request, 'GET', '/repo') == {'success': True, 'n': 2}
        now[0] = 1005.0   # the backoff is over
        assert self.in_thread('third', client.request, 'GET', '/repo') == {'success': True, 'n': 3}
        assert events == [
            ('send', 'first', url), ('sleep', 'first', 5.0), ('send', 'first', url),
            ('sleep', 'second', 3.0), ('send', 'second', url),
            ('send', 'third', url),
        ]

    def test_other_failures_hold_back_nobody(self, monkeypatch):
        monkeypatch.setattr(client_module, 'generate_jittered_backoff', lambda **kwargs: iter([2, 2, 2]))
        client, events, now = self.setup_shared(response(503), response(200, {'success': True}),
                                                response(200, {'success': True}))
        self.in_thread('first', client.request, 'GET', '/repo')
        self.in_thread('second', client.request, 'GET', '/repo')
        assert [event[:3] for event in events if event[0] == 'sleep'] == [('sleep', 'first', 2)]
        assert [event[:2] for event in events] == [('send', 'first'), ('sleep', 'first'), ('send', 'first'),
                                                   ('send', 'second')]


class TestNoSecretsInMessages:
    @pytest.mark.parametrize('outcome', [
        response(400, {'message': 'bad'}), response(401), response(403), response(404), response(500),
        response(200, raw='nope'), requests.exceptions.ConnectionError('Bearer ' + TOKEN),
        requests.exceptions.SSLError('x'), requests.exceptions.ReadTimeout('x'),
    ])
    def test_token_never_in_message(self, outcome):
        client, dummy = make_client(outcome, max_retries=0)
        with pytest.raises(errors.FlashbackError) as err:
            client.request('GET', '/repo')
        assert TOKEN not in json.dumps(err.value.fail_kwargs())


class TestHelpers:
    @pytest.mark.parametrize('value, expected', [('3', 3.0), ('0.5', 0.5), ('-1', None), ('soon', None),
                                                 (None, None), ('100000', client_module.MAX_RETRY_AFTER)])
    def test_parse_retry_after(self, value, expected):
        assert client_module.parse_retry_after(value) == expected

    @pytest.mark.parametrize('body, expected', [
        ({'message': 'm'}, 'm'), ({'error_message': 'e'}, 'e'), ({'error': 'x'}, 'x'),
        ({'message': ' '}, ''), ({'message': 5}, ''), ([], ''), (None, ''),
    ])
    def test_server_message(self, body, expected):
        assert client_module.server_message(body) == expected

    def test_transport_reason_falls_back_to_class_name(self):
        assert client_module.transport_reason(requests.exceptions.ProxyError('x')) == 'ProxyError'
