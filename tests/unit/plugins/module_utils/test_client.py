# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import ssl
import sys
import threading
import time

import pytest
import requests
import urllib3

from ansible_collections.flashback.platform.plugins.module_utils import _client as client_module
from ansible_collections.flashback.platform.plugins.module_utils import _errors as errors
from ansible_collections.flashback.platform.plugins.module_utils._client import FlashbackClient

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
    resp._content_consumed = True  # the client reads with stream=True: iter_content serves _content
    resp.headers.update(headers or {})
    return resp


class FakeSession(object):
    """Stands in for requests.Session.request: returns or raises the scripted outcomes in order."""

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.calls = []

    def __call__(self, method, url, json=None, timeout=None, verify=None, allow_redirects=True, stream=False):
        assert allow_redirects is False, 'the client must never follow redirects'
        assert stream is True, 'the client must read the answer itself, to cap its size'
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


def prepared_headers(client, url='https://api.example.test/repo'):
    """The headers requests would send: session defaults, session auth and (without auth) netrc applied."""
    return client.session.prepare_request(requests.Request('GET', url)).headers


class TestSessionSetup:
    def test_headers_carry_bearer_token_and_user_agent(self):
        client, dummy = make_client()
        headers = prepared_headers(client)
        assert headers['Authorization'] == 'Bearer ' + TOKEN
        assert headers['User-Agent'].startswith('flashback.platform/')
        assert client.api_url == 'https://api.example.test'

    def test_netrc_never_replaces_the_bearer_token(self, tmp_path, monkeypatch):
        netrc = tmp_path / 'netrc'
        netrc.write_text('machine api.example.test login someone password netrc-password\n')
        monkeypatch.setenv('NETRC', str(netrc))
        # The file is one requests would use: a bare session sends its credentials as Basic auth.
        assert requests.Session().prepare_request(
            requests.Request('GET', 'https://api.example.test/repo')).headers['Authorization'].startswith('Basic ')
        client, dummy = make_client()
        assert prepared_headers(client)['Authorization'] == 'Bearer ' + TOKEN

    def test_auth_object_does_not_show_the_token(self):
        client, dummy = make_client()
        assert TOKEN not in repr(client.session.auth)

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
        assert err.value.message == ('TLS verification failed for https://api.example.test: set ca_path to the CA '
                                     'bundle that signed the server certificate (or validate_certs: false, which is '
                                     'insecure); the check said: certificate verify failed')
        assert sleeps == []

    def test_missing_ca_path_is_a_message_not_a_traceback(self):
        # requests raises a bare OSError (not one of its own exceptions) for a CA path it cannot find.
        client, dummy = make_client(OSError('Could not find a suitable TLS CA certificate bundle, invalid path: /x'),
                                    ca_path='/x')
        with pytest.raises(errors.TLSError) as err:
            client.request('GET', '/repo')
        assert err.value.message == 'cannot load ca_path /x (not found): give the path of a readable PEM file'

    def test_missing_default_ca_bundle(self):
        client, dummy = make_client(OSError('Could not find a suitable TLS CA certificate bundle, invalid path: /c'))
        with pytest.raises(errors.TLSError) as err:
            client.request('GET', '/repo')
        assert err.value.message == 'cannot load the default CA bundle (not found): set ca_path to a PEM CA bundle'


def wrapped_ssl_error(inner):
    """An ssl error wrapped the way requests and urllib3 wrap it."""
    return requests.exceptions.SSLError(urllib3.exceptions.MaxRetryError(
        None, '/repo', urllib3.exceptions.SSLError(inner)))


def ssl_error(cls, library, reason, text, verify_code=None, verify_message=None):
    error = cls(1, text)
    error.library, error.reason = library, reason
    if verify_code is not None:
        error.verify_code, error.verify_message = verify_code, verify_message
    return error


class TestTLSMessages:
    """Each TLS failure gets its own message; the ssl error is found behind requests' and urllib3's wrappers,
    or (older urllib3) recognised from its text. The real failures are in TestAgainstRealServers."""

    @pytest.mark.parametrize('exc, ca_path, expected', [
        (wrapped_ssl_error(ssl_error(ssl.SSLError, 'X509', 'NO_CERTIFICATE_OR_CRL_FOUND', 'no certificate')),
         '/etc/ca.pem', 'ca_path /etc/ca.pem holds no PEM certificate: give the PEM file of the CA that signed the '
                        'server certificate'),
        (wrapped_ssl_error(ssl_error(ssl.SSLError, 'SSL', 'WRONG_VERSION_NUMBER', 'wrong version number')), None,
         'api_url uses https:// but the server at api.example.test does not speak TLS (is it http://?)'),
        (requests.exceptions.SSLError('[SSL] record layer failure (_ssl.c:1000)'), None,
         'api_url uses https:// but the server at api.example.test does not speak TLS (is it http://?)'),
        (wrapped_ssl_error(ssl_error(ssl.SSLCertVerificationError, 'SSL', 'CERTIFICATE_VERIFY_FAILED', 'failed', 62,
                                     'Hostname mismatch')), None,
         'the server certificate does not match api.example.test: use the host name the certificate was issued '
         'for in api_url'),
        (requests.exceptions.SSLError("hostname 'api.example.test' doesn't match 'other.example'"), None,
         'the server certificate does not match api.example.test: use the host name the certificate was issued '
         'for in api_url'),
        (wrapped_ssl_error(ssl_error(ssl.SSLCertVerificationError, 'SSL', 'CERTIFICATE_VERIFY_FAILED', 'failed', 10,
                                     'certificate has expired')), '/etc/ca.pem',
         'TLS verification failed for https://api.example.test: the server certificate is not signed by the CA in '
         'ca_path /etc/ca.pem (certificate has expired); set ca_path to the CA bundle that signed it'),
        (wrapped_ssl_error(ssl_error(ssl.SSLError, 'SSL', 'SSLV3_ALERT_HANDSHAKE_FAILURE', 'handshake failure')),
         None, 'the TLS handshake with api.example.test failed (SSLV3_ALERT_HANDSHAKE_FAILURE): check api_url, '
               'ca_path and any proxy in between'),
    ])
    def test_message_per_failure(self, exc, ca_path, expected):
        client, sleeps = make_client(exc, ca_path=ca_path)
        with pytest.raises(errors.TLSError) as err:
            client.request('GET', '/repo')
        assert err.value.message == expected
        assert sleeps == []

    def test_ca_path_unused_without_validation_is_not_blamed(self):
        exc = wrapped_ssl_error(ssl_error(ssl.SSLError, 'X509', 'NO_CERTIFICATE_OR_CRL_FOUND', 'no certificate'))
        client, dummy = make_client(exc, ca_path='/etc/ca.pem', validate_certs=False)
        with pytest.raises(errors.TLSError) as err:
            client.request('GET', '/repo')
        assert err.value.message.startswith('the TLS handshake with api.example.test failed (NO_CERTIFICATE_OR_CRL')


class TestRedirects:
    @pytest.mark.parametrize('status', [301, 302, 303, 307, 308])
    def test_redirect_is_an_error_naming_the_host_only(self, status):
        location = 'https://user:pass@other.example:8443/v2/repo/r1/apikey?token=abc'
        client, sleeps = make_client(response(status, headers={'Location': location}), response(200, {'id': 'k'}))
        with pytest.raises(errors.RedirectError) as err:
            client.request('POST', '/repo/r1/apikey', payload={'name': 'n'})
        assert err.value.message == ('the Flashback API answered POST /repo/r1/apikey with a redirect (HTTP %d to '
                                     'other.example): redirects are not followed; point api_url at the API itself'
                                     % status)
        assert err.value.fail_kwargs()['status'] == status
        assert len(client.session.request.calls) == 1 and sleeps == []

    @pytest.mark.parametrize('location, target', [
        (None, 'without a Location'),
        ('/elsewhere/repo', 'to another path on the same server'),
        ('https://[broken/', 'to an unreadable location'),
        ('https://bad\x01host/', 'to an unreadable location'),
    ])
    def test_location_shapes(self, location, target):
        client, dummy = make_client(response(302, headers={'Location': location} if location else {}))
        with pytest.raises(errors.RedirectError) as err:
            client.request('GET', '/repo')
        assert '(HTTP 302 %s)' % target in err.value.message

    def test_a_get_is_not_retried_after_a_redirect(self):
        client, sleeps = make_client(response(307, headers={'Location': 'https://x.example/'}), response(200, {}))
        with pytest.raises(errors.RedirectError):
            client.request('GET', '/repo')
        assert len(client.session.request.calls) == 1 and sleeps == []


class TestCredentialsNeverShown:
    def test_userinfo_of_api_url_is_not_in_messages(self):
        exc = requests.exceptions.ConnectionError('[Errno 111] Connection refused')
        client = FlashbackClient('https://alice:hunter2@api.example.test/base/', TOKEN, max_retries=0)
        client.session.request = FakeSession(exc, requests.exceptions.SSLError('certificate verify failed'))
        messages = []
        for dummy in range(2):
            with pytest.raises(errors.FlashbackError) as err:
                client.request('GET', '/repo')
            messages.append(err.value.message)
        assert messages[0] == ('cannot reach the Flashback API at https://api.example.test/base (GET /repo): '
                               'Connection refused; check api_url and the network')
        assert messages[1].startswith('TLS verification failed for https://api.example.test/base:')
        assert 'hunter2' not in ''.join(messages) and 'alice' not in ''.join(messages)

    @pytest.mark.parametrize('url, shown', [
        ('https://u:p@h.example:8443/x', 'https://h.example:8443/x'),
        ('http://[::1]:80', 'http://[::1]:80'),
        ('https://h.example/p?token=t#f', 'https://h.example/p'),
    ])
    def test_shown_url(self, url, shown):
        assert client_module.shown_url(url) == shown


class TestTokenCharacters:
    @pytest.mark.parametrize('token', [TOKEN + '\n', TOKEN + '\r\n', ' ' + TOKEN, 'tok en', 'tok\ten', 'tok\x00',
                                       'tok\x7f', u'tok\u00e9n', u'tok\u2603', ''])
    def test_refused_before_any_request_without_echoing(self, token):
        with pytest.raises(errors.ConfigurationError) as err:
            FlashbackClient('https://api.example.test', token)
        assert err.value.message.startswith('api_token contains a newline, space or other character an HTTP header '
                                            'cannot carry: ')
        assert TOKEN not in err.value.message

    @pytest.mark.parametrize('token', [TOKEN, 'eyJhbGciOiJIUzI1NiJ9.e30.abc-_~+/=', '!#$%&*^`|'])
    def test_printable_ascii_is_accepted(self, token):
        client = FlashbackClient('https://api.example.test', token)
        assert prepared_headers(client)['Authorization'] == 'Bearer ' + token

    def test_timeout(self):
        client, dummy = make_client(requests.exceptions.ReadTimeout('read timed out'), timeout=5, max_retries=0)
        with pytest.raises(errors.RequestTimeoutError) as err:
            client.request('GET', '/repo')
        assert err.value.message == ('the Flashback API did not answer GET /repo completely within timeout (5s, '
                                     'connecting and reading the whole answer): raise timeout or retry later')


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

    @pytest.mark.parametrize('outcome', [
        response(429, headers={'Retry-After': '1'}),  # a 429 may come after acting: the create checks, then retries
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


# The emulator (emulator/flashback_emulator.py) is not shipped, but it is in every tree the unit tests run from
# (scripts/make_tree.py copies what git tracks).
EMULATOR_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', 'emulator')
ADMIN_TOKEN = 'fb-test-admin-token'  # the emulator's default seed


def emulator_module():
    sys.path.insert(0, EMULATOR_DIR)
    try:
        import flashback_emulator  # pylint: disable=import-error,import-outside-toplevel
    except ImportError as exc:
        pytest.fail('cannot import the emulator from %s (%s): run the unit tests from a checkout' % (EMULATOR_DIR, exc))
    finally:
        sys.path.remove(EMULATOR_DIR)
    return flashback_emulator


@pytest.fixture
def serve():
    """serve(host='127.0.0.1', tls=False): a running emulator with the default seed, stopped after the test."""
    started = []

    def start(host='127.0.0.1', tls=False):
        emu = emulator_module().Emulator()
        emu.start(host=host, tls=tls)
        started.append(emu)
        return emu
    yield start
    for emu in started:
        emu.stop()


def failure(emu_url, exc_class=errors.FlashbackError, **kwargs):
    client = FlashbackClient(emu_url, ADMIN_TOKEN, max_retries=0, timeout=5, **kwargs)
    with pytest.raises(exc_class) as err:
        client.request('GET', '/repo')
    return err.value.message


class TestAgainstRealServers:
    """The TLS, redirect and netrc behaviour against real sockets: the emulator, with --tls's self-signed CA."""

    def test_ca_path_verifies_the_server(self, serve):
        emu = serve(tls=True)
        client = FlashbackClient(emu.url, ADMIN_TOKEN, ca_path=emu.ca_path, timeout=5)
        assert [repo['id'] for repo in client.request('GET', '/repo')['repos']][:2] == ['r1', 'r2']

    def test_self_signed_without_ca_path(self, serve):
        emu = serve(tls=True)
        assert failure(emu.url, errors.TLSError) == (
            'TLS verification failed for %s: set ca_path to the CA bundle that signed the server certificate '
            '(or validate_certs: false, which is insecure); the check said: self-signed certificate' % emu.url)

    def test_ca_path_of_another_ca(self, serve, tmp_path):
        emu = serve(tls=True)
        other_ca = emulator_module().write_self_signed_cert(str(tmp_path))[0]
        assert failure(emu.url, errors.TLSError, ca_path=other_ca) == (
            'TLS verification failed for %s: the server certificate is not signed by the CA in ca_path %s '
            '(self-signed certificate); set ca_path to the CA bundle that signed it' % (emu.url, other_ca))

    @pytest.mark.parametrize('content', ['empty', 'text', 'der', 'broken_pem', 'private_key'])
    def test_ca_path_without_a_pem_certificate(self, serve, tmp_path, content):
        emu = serve(tls=True)
        with open(emu.ca_path, 'rb') as handle:
            pem = handle.read()
        with open(os.path.join(os.path.dirname(emu.ca_path), 'emulator-key.pem'), 'rb') as handle:
            key = handle.read()
        body = {
            'empty': b'',
            'text': b'not a certificate\n',
            'der': ssl.PEM_cert_to_DER_cert(pem.decode('ascii')),
            'broken_pem': b'-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n',
            'private_key': key,
        }[content]
        ca_path = tmp_path / 'ca.pem'
        ca_path.write_bytes(body)
        assert failure(emu.url, errors.TLSError, ca_path=str(ca_path)) == (
            'ca_path %s holds no PEM certificate: give the PEM file of the CA that signed the server certificate'
            % ca_path)

    def test_missing_ca_path(self, serve, tmp_path):
        emu = serve(tls=True)
        missing = str(tmp_path / 'nowhere.pem')
        assert failure(emu.url, errors.TLSError, ca_path=missing) == (
            'cannot load ca_path %s (not found): give the path of a readable PEM file' % missing)

    def test_https_to_a_plain_http_server(self, serve):
        emu = serve()
        server = emu.url.split('://')[1]
        assert failure('https://' + server, errors.TLSError) == (
            'api_url uses https:// but the server at %s does not speak TLS (is it http://?)' % server)

    def test_certificate_for_another_host(self, serve):
        # The emulator's certificate names 127.0.0.1 and localhost; 127.0.0.2 is loopback too (Linux).
        emu = serve(host='127.0.0.2', tls=True)
        assert failure(emu.url, errors.TLSError, ca_path=emu.ca_path) == (
            'the server certificate does not match 127.0.0.2: use the host name the certificate was issued for in '
            'api_url')

    def test_a_307_to_a_create_is_not_followed(self, serve):
        emu = serve()
        emu.backend.add_fault(dict(method='POST', path='/apikey$', action='raw', status=307, body='',
                                   location=emu.url + '/repo/r1/apikey'))
        client = FlashbackClient(emu.url, ADMIN_TOKEN, timeout=5)
        with pytest.raises(errors.RedirectError) as err:
            client.request('POST', '/repo/r1/apikey', payload=dict(name='n', accessType='READ'))
        assert err.value.message == ('the Flashback API answered POST /repo/r1/apikey with a redirect (HTTP 307 to '
                                     '127.0.0.1): redirects are not followed; point api_url at the API itself')
        assert [(r['method'], r['status']) for r in emu.requests] == [('POST', 307)]
        assert emu.state()['keys'] == []

    def test_netrc_for_the_host_does_not_replace_the_token(self, serve, tmp_path, monkeypatch):
        emu = serve()
        netrc = tmp_path / 'netrc'
        netrc.write_text('machine 127.0.0.1 login someone password netrc-password\n')
        monkeypatch.setenv('NETRC', str(netrc))
        # Sent as Basic auth, these credentials would get a 401 from the emulator.
        assert requests.get(emu.url + '/repo', timeout=5).status_code == 401
        client = FlashbackClient(emu.url, ADMIN_TOKEN, timeout=5)
        assert client.request('GET', '/repo')['success'] is True

    def test_a_token_with_a_trailing_newline_sends_nothing(self, serve):
        emu = serve()
        with pytest.raises(errors.ConfigurationError):
            FlashbackClient(emu.url, ADMIN_TOKEN + '\n').request('GET', '/repo')
        assert emu.requests == []


class HostileServer(object):
    """A socket server that answers every request with ``answer(sock)``: drips, floods, hangs."""

    def __init__(self, answer):
        import socket  # pylint: disable=import-outside-toplevel
        self.listener = socket.socket()
        self.listener.bind(('127.0.0.1', 0))
        self.listener.listen(8)
        self.url = 'http://127.0.0.1:%d' % self.listener.getsockname()[1]
        self.answer = answer
        self.sent = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.serve)
        self.thread.daemon = True
        self.thread.start()

    def serve(self):
        while not self.stopped.is_set():
            try:
                sock, dummy = self.listener.accept()
            except OSError:
                return
            handler = threading.Thread(target=self.handle, args=(sock,))
            handler.daemon = True
            handler.start()

    def handle(self, sock):
        try:
            sock.recv(65536)
            self.answer(self, sock)
        except OSError:
            pass
        finally:
            sock.close()

    def stop(self):
        self.stopped.set()
        self.listener.close()


@pytest.fixture
def hostile():
    servers = []

    def start(answer):
        server = HostileServer(answer)
        servers.append(server)
        return server
    yield start
    for server in servers:
        server.stop()


def drip(server, sock):
    body = b'{"success": true, "repos": []}' + b' ' * 100
    sock.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n' % len(body))
    for byte in body:
        if server.stopped.is_set():
            return
        sock.sendall(bytes([byte]))
        server.sent.append(byte)
        time.sleep(0.1)


def drip_headers(server, sock):
    for byte in b'HTTP/1.1 200 OK\r\nX-Slow: ' + b'a' * 200:
        if server.stopped.is_set():
            return
        sock.sendall(bytes([byte]))
        time.sleep(0.1)


def flood(server, sock, content_length=True):
    head = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n'
    head += b'Content-Length: %d\r\n\r\n' % (100 * 1024 * 1024) if content_length else b'Connection: close\r\n\r\n'
    sock.sendall(head + b'{"success": true, "repos": ["')
    for dummy in range(100 * 16):  # 100 MiB in 64 KiB writes
        if server.stopped.is_set():
            return
        sock.sendall(b'x' * 65536)
        server.sent.append(65536)


class TestTotalDeadline:
    """timeout bounds the whole request, not each socket read: a dripped answer is given up on in time."""

    @pytest.mark.parametrize('answer', [drip, drip_headers])
    def test_a_dripped_answer_ends_within_the_timeout(self, hostile, answer):
        server = hostile(answer)
        client = FlashbackClient(server.url, TOKEN, timeout=1, max_retries=0)
        started = time.monotonic()
        with pytest.raises(errors.RequestTimeoutError) as err:
            client.request('GET', '/repo')
        elapsed = time.monotonic() - started
        assert elapsed < 1.5, 'the request took %.1f s with timeout 1' % elapsed
        assert 'within timeout (1s, connecting and reading the whole answer)' in err.value.message

    def test_retries_each_get_the_deadline(self, hostile):
        server = hostile(drip)
        sleeps = []
        client = FlashbackClient(server.url, TOKEN, timeout=1, max_retries=2, sleep=sleeps.append)
        started = time.monotonic()
        with pytest.raises(errors.RequestTimeoutError):
            client.request('GET', '/repo')
        elapsed = time.monotonic() - started
        assert len(sleeps) == 2 and 2.9 < elapsed < 3.6, elapsed  # timeout x attempts (the sleeps do not wait)


class TestSizeCap:
    @pytest.mark.parametrize('content_length', [True, False])
    def test_a_huge_answer_stops_at_the_cap(self, hostile, content_length):
        server = hostile(lambda server, sock: flood(server, sock, content_length))
        client = FlashbackClient(server.url, TOKEN, timeout=10, max_retries=0, max_response_size=1024 * 1024)
        with pytest.raises(errors.ResponseTooLargeError) as err:
            client.request('GET', '/repo')
        assert err.value.message == (
            'the answer to GET /repo was larger than max_response_size (1048576 bytes): nothing more was read; raise '
            'max_response_size if the API really sends that much, or check api_url')
        assert sum(server.sent) < 8 * 1024 * 1024  # stopped reading: far from the 100 MiB offered

    def test_an_answer_at_the_cap_is_read(self):
        body = {'success': True, 'pad': 'x' * 2000}
        size = len(json.dumps(body))
        client, dummy = make_client(response(200, body), max_response_size=size)
        assert client.request('GET', '/repo') == body
        client, dummy = make_client(response(200, body), max_response_size=size - 1)
        with pytest.raises(errors.ResponseTooLargeError):
            client.request('GET', '/repo')

    def test_too_large_is_ambiguous_for_a_create_and_never_retried(self):
        client, sleeps = make_client(response(200, {'x': 'y' * 5000}), response(200, {}), max_response_size=1024)
        with pytest.raises(errors.ResponseTooLargeError) as err:
            client.request('GET', '/repo')
        assert err.value.ambiguous_create and sleeps == []


class TestHostileText:
    def test_server_message_is_one_printable_line(self):
        client, dummy = make_client(response(500, {'message': 'boom\x1b[2J\r\nfatal: [h]: FAILED!\u202e\x9b'}),
                                    max_retries=0)
        with pytest.raises(errors.ServerError) as err:
            client.request('GET', '/repo')
        assert err.value.message == ('the Flashback API failed on GET /repo with HTTP 500 (server said: '
                                     'boom[2J fatal: [h]: FAILED!): retry later')

    def test_minted_secrets_and_the_token_are_masked_by_the_scrubber(self):
        client, dummy = make_client()
        client.remember_secret('minted-secret-xyz')
        assert client.scrubber.text('echo %s minted-secret-xyz' % TOKEN) == 'echo ******** ********'


class TestErrorTypes:
    """Whether a create may have acted is the error's class, not a caller's list."""

    @pytest.mark.parametrize('status, ambiguous', [(400, False), (401, False), (403, False), (404, True),
                                                   (409, True), (429, True), (500, True), (502, True)])
    def test_status(self, status, ambiguous):
        client, dummy = make_client(response(status), max_retries=0)
        with pytest.raises(errors.ApiError) as err:
            client.request('POST', '/repo/r1/apikey')
        assert err.value.ambiguous_create is ambiguous

    def test_a_redirect_is_ambiguous(self):
        client, dummy = make_client(response(307, headers={'Location': 'https://elsewhere.test/'}))
        with pytest.raises(errors.RedirectError) as err:
            client.request('POST', '/repo/r1/apikey')
        assert err.value.ambiguous_create and not err.value.transient

    def test_tls_failure_is_not_ambiguous(self):
        assert not errors.TLSError('x').ambiguous_create
        assert errors.ConnectionFailedError('x').ambiguous_create and errors.RequestTimeoutError('x').transient


class TestEnvironment:
    @pytest.fixture(autouse=True)
    def no_ca_bundle(self, monkeypatch):
        monkeypatch.delenv('REQUESTS_CA_BUNDLE', raising=False)
        monkeypatch.delenv('CURL_CA_BUNDLE', raising=False)

    def test_a_proxy_is_named_without_its_credentials(self, monkeypatch):
        monkeypatch.setenv('HTTPS_PROXY', 'http://user:pw@proxy.example.test:3128')
        monkeypatch.delenv('NO_PROXY', raising=False)
        monkeypatch.delenv('no_proxy', raising=False)
        client, dummy = make_client(response(502, raw='<html>bad gateway</html>'), max_retries=0)
        assert client.environment_warnings() == [
            'requests to https://api.example.test go through the proxy http://proxy.example.test:3128 (set by '
            'HTTPS_PROXY), which relays the TLS connection; set NO_PROXY to the API host to connect directly']
        with pytest.raises(errors.ServerError) as err:
            client.request('GET', '/repo')
        assert 'GET /repo through the proxy http://proxy.example.test:3128 with HTTP 502' in err.value.message
        assert 'pw' not in err.value.message

    def test_a_proxy_for_loopback_http_is_named_too(self, monkeypatch):
        monkeypatch.setenv('HTTP_PROXY', 'proxy.example.test:8080')
        for name in ('NO_PROXY', 'no_proxy', 'http_proxy'):
            monkeypatch.delenv(name, raising=False)
        client = FlashbackClient('http://127.0.0.1:9/', TOKEN)
        assert client.environment_warnings() == [
            'requests to http://127.0.0.1:9 go through the proxy http://proxy.example.test:8080 (set by HTTP_PROXY), '
            'which sees the token in clear text (api_url is http://); set NO_PROXY to the API host to connect '
            'directly']

    def test_no_proxy_means_no_warning(self, monkeypatch):
        monkeypatch.setenv('HTTPS_PROXY', 'http://proxy.example.test:3128')
        monkeypatch.setenv('NO_PROXY', 'api.example.test')
        assert FlashbackClient('https://api.example.test', TOKEN).environment_warnings() == []

    def test_an_environment_ca_bundle_is_named(self, monkeypatch):
        monkeypatch.setenv('REQUESTS_CA_BUNDLE', '/etc/corp/ca.pem')
        assert FlashbackClient('http://127.0.0.1:9', TOKEN).environment_warnings() == []  # no TLS, no bundle
        for name in ('HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy'):
            monkeypatch.delenv(name, raising=False)
        assert FlashbackClient('https://api.example.test', TOKEN).environment_warnings() == [
            'REQUESTS_CA_BUNDLE=/etc/corp/ca.pem replaces the default CA bundle for https://api.example.test: set '
            'ca_path (or FLASHBACK_CA_PATH) to choose the CA bundle explicitly']
        # ca_path wins (it is passed with each request), and without verification no bundle is used at all.
        assert FlashbackClient('https://api.example.test', TOKEN, ca_path='/x.pem').environment_warnings() == []
        assert FlashbackClient('https://api.example.test', TOKEN, validate_certs=False).environment_warnings() == []
