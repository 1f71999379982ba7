# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Flashback platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one HTTP client every module uses: auth, JSON, TLS, timeout, retries, errors."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import ssl
import threading
import time
import traceback

from ansible.module_utils.api import generate_jittered_backoff
from ansible.module_utils.six.moves.urllib.parse import urlsplit

from ansible_collections.flashback.platform.plugins.module_utils._errors import (
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConnectionFailedError,
    FlashbackError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RedirectError,
    RequestTimeoutError,
    ResponseTooLargeError,
    ServerError,
    TLSError,
    ApiError,
)
from ansible_collections.flashback.platform.plugins.module_utils._sanitize import Scrubber, one_line, server_text

try:
    import requests
    import requests.auth
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
    _AuthBase = requests.auth.AuthBase
except ImportError:  # pragma: no cover - exercised only where requests is missing
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
    _AuthBase = object

# Kept equal to galaxy.yml's version (a unit test checks it).
COLLECTION_VERSION = '1.0.0'
USER_AGENT = 'flashback.platform/%s (Ansible collection)' % COLLECTION_VERSION

DEFAULT_API_URL = 'https://backend.flashback.tech'
DEFAULT_TIMEOUT = 30
DEFAULT_MAX_RETRIES = 3
# The largest answer read (bytes): a listing of 2000 keys with their encrypted secrets is about 1 MiB.
DEFAULT_MAX_RESPONSE_SIZE = 16 * 1024 * 1024
READ_CHUNK = 64 * 1024
# Caps keep a throttled run from sleeping for minutes on one request.
MAX_RETRY_AFTER = 30
BACKOFF_BASE = 1
BACKOFF_CAP = 10

# Statuses that mean "the server (or a gateway) did not get the job done, try again later".
RETRYABLE_STATUSES = frozenset([429, 502, 503, 504])
# Answers whose body we read; PUT and DELETE answers carry nothing the modules use, so a
# 2xx with a mangled body (a proxy's HTML, say) still means the write happened.
BODY_METHODS = frozenset(['GET', 'POST'])
# POST is not idempotent: a retry after an ambiguous failure could mint a second key whose secret nobody
# receives; not even a 429 proves that the server did not act. The client never repeats a POST: the create
# (apikeys.ApiKeys.create) checks for an orphan first, then retries through pause_before_retry.
IDEMPOTENT_METHODS = frozenset(['GET', 'PUT', 'DELETE'])

MAX_SERVER_MESSAGE = 200
# Connections kept per host: enough for converge's largest thread pool.
POOL_SIZE = 16

# A header value is sent as latin-1 and ends at a line break; a bearer token is printable ASCII without spaces.
_HEADER_SAFE_TOKEN = re.compile(r'^[\x21-\x7e]+\Z')
# OpenSSL's reasons when an https:// client gets a plain-HTTP answer (the last ones from OpenSSL 3.2 on).
_NOT_TLS_REASONS = frozenset(['WRONG_VERSION_NUMBER', 'UNKNOWN_PROTOCOL', 'PACKET_LENGTH_TOO_LONG',
                              'RECORD_LAYER_FAILURE', 'HTTP_REQUEST'])
# X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH
_NAME_MISMATCH_CODES = frozenset([62, 64])
_SAFE_HOST = re.compile(r'^[A-Za-z0-9.:_\[\]-]{1,253}\Z')


def check_token(token):
    """Refuse a token that an ``Authorization`` header cannot carry, without echoing it."""
    if not isinstance(token, str) or not _HEADER_SAFE_TOKEN.match(token):
        raise ConfigurationError(
            'api_token contains a newline, space or other character an HTTP header cannot carry: set the token '
            'exactly as issued (a trailing newline from a file or a command is the usual cause)')


def shown_url(url):
    """``url`` as messages may show it: scheme, host, port and path; never user:password@, a query or a fragment."""
    parts = urlsplit(url)
    return '%s://%s%s' % (parts.scheme, parts.netloc.rpartition('@')[2], parts.path)


class BearerAuth(_AuthBase):
    """Sets ``Authorization: Bearer <token>`` on every request.

    Set as the session's auth rather than as a default header: requests looks up ~/.netrc (or $NETRC) for
    any request without auth and its credentials would replace the header.
    """

    def __init__(self, token):
        self._header = 'Bearer %s' % token

    def __call__(self, request):
        request.headers['Authorization'] = self._header
        return request

    def __repr__(self):
        return 'BearerAuth(<hidden>)'


def server_message(body):
    """The short error text a Flashback error body carries, made one printable line with anything that could be
    a secret masked (sanitize.server_text)."""
    if not isinstance(body, dict):
        return ''
    for field in ('message', 'error_message', 'error'):
        value = body.get(field)
        if isinstance(value, str):
            text = server_text(value, MAX_SERVER_MESSAGE)
            if text:
                return text
    return ''


def transport_reason(exc):
    """A short, header-free reason for a requests transport exception."""
    text = str(exc)
    errno = re.search(r'\[Errno -?\d+\] ([^\'")\]]+)', text)
    if errno:
        return errno.group(1).strip()
    if 'RemoteDisconnected' in text or 'Connection aborted' in text:
        return 'the server closed the connection without answering'
    return type(exc).__name__


def _proxy_variable(scheme):
    """The environment variable that sets the proxy requests uses for ``scheme``, as requests reads them."""
    for name in ('%s_proxy' % scheme, 'all_proxy'):
        for variant in (name, name.upper()):
            if os.environ.get(variant):
                return variant
    return 'the environment'


def environment_proxy(url):
    """The proxy requests would send ``url`` through (from HTTPS_PROXY, HTTP_PROXY or ALL_PROXY, NO_PROXY
    honoured), shown without credentials, and the variable that set it; ``(None, None)`` when none applies."""
    proxy = requests.utils.select_proxy(url, requests.utils.get_environ_proxies(url))
    if not proxy:
        return None, None
    if '://' not in proxy:
        proxy = 'http://' + proxy
    return shown_url(proxy).rstrip('/'), _proxy_variable(urlsplit(url).scheme)


def environment_ca_bundle():
    """``(variable, path)`` of the CA bundle requests takes from the environment instead of its own, or None."""
    for name in ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'):
        if os.environ.get(name):
            return name, os.environ[name]
    return None


def _ssl_cause(exc):
    """The ``ssl.SSLError`` behind a requests exception (wrapped in urllib3's errors), or None."""
    pending, seen = [exc], set()
    while pending:
        current = pending.pop()
        if isinstance(current, ssl.SSLError):
            return current
        if id(current) in seen:
            continue
        seen.add(id(current))
        linked = [getattr(current, 'reason', None), current.__cause__, current.__context__] + list(current.args)
        pending.extend(item for item in linked if isinstance(item, BaseException))
    return None


def redirect_target(location):
    """Where a redirect points, for a message: the host only (the URL may carry credentials or a token)."""
    if not location:
        return 'without a Location'
    try:
        parts = urlsplit(location)
        host = parts.hostname
    except ValueError:
        return 'to an unreadable location'
    if not parts.netloc:
        return 'to another path on the same server'
    if host is None or not _SAFE_HOST.match(host):
        return 'to an unreadable location'
    return 'to %s' % host


def parse_retry_after(value):
    """Seconds from a Retry-After header (delta-seconds form), capped; None if unusable."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    if seconds < 0:
        return None
    return min(seconds, MAX_RETRY_AFTER)


class FlashbackClient(object):
    """A ``requests.Session`` bound to one API URL and token.

    ``request`` returns the decoded JSON object of a 2xx answer or raises a
    :class:`~ansible_collections.flashback.platform.plugins.module_utils._errors.FlashbackError`.
    """

    def __init__(self, api_url, api_token, validate_certs=True, ca_path=None,
                 timeout=DEFAULT_TIMEOUT, max_retries=DEFAULT_MAX_RETRIES, sleep=time.sleep,
                 max_response_size=DEFAULT_MAX_RESPONSE_SIZE):
        check_token(api_token)
        # Masks the token and each secret minted in this run in whatever the module says (runner.run_module).
        self.scrubber = Scrubber(api_token)
        self.api_url = api_url.rstrip('/')
        # Messages name the server without any user:password@ the URL may hold.
        self._shown_url = shown_url(self.api_url)
        parts = urlsplit(self.api_url)
        self._server = parts.netloc.rpartition('@')[2]
        self._hostname = parts.hostname or self._server
        self._ca_path = ca_path if (validate_certs and ca_path) else None
        self.timeout = timeout
        self.max_response_size = max_response_size
        self.max_retries = max_retries
        self._sleep = sleep
        self._clock = time.time
        # One backoff for every thread: a 429 answer holds back all requests, not just the one that got it.
        self._lock = threading.Lock()
        self._not_before = 0.0
        self._holder = None
        self.session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=POOL_SIZE, pool_maxsize=POOL_SIZE)
        self.session.mount('https://', adapter)
        self.session.mount('http://', adapter)
        self.session.auth = BearerAuth(api_token)
        self.session.headers.update({
            'Accept': 'application/json',
            'User-Agent': USER_AGENT,
        })
        # Passed with each request: requests ignores Session.verify when REQUESTS_CA_BUNDLE or
        # CURL_CA_BUNDLE is set in the environment, which would silently drop ca_path.
        self.verify = self._ca_path or bool(validate_certs)
        self.proxy, self.proxy_variable = environment_proxy(self.api_url + '/')
        # Named in messages about answers that may be the proxy's own (a 502 of the proxy is not the API's).
        self._via = ' through the proxy %s' % self.proxy if self.proxy else ''
        # Only https:// uses a CA bundle; ca_path, passed with each request, wins over the environment's.
        self.ca_bundle = (environment_ca_bundle() if validate_certs and not self._ca_path and parts.scheme == 'https'
                          else None)

    def remember_secret(self, secret):
        """Called with every secret the API hands out in this run: no message or warning may show it."""
        self.scrubber.add(secret)

    def environment_warnings(self):
        """What the environment changes about the connection, said once per module run (never a credential)."""
        warnings = []
        if self.proxy:
            warnings.append('requests to %s go through the proxy %s (set by %s), which %s; set NO_PROXY to the API '
                            'host to connect directly' % (
                                self._shown_url, self.proxy, self.proxy_variable,
                                'sees the token in clear text (api_url is http://)'
                                if urlsplit(self.api_url).scheme == 'http' else 'relays the TLS connection'))
        if self.ca_bundle:
            variable, path = self.ca_bundle
            warnings.append('%s=%s replaces the default CA bundle for %s: set ca_path (or FLASHBACK_CA_PATH) to '
                            'choose the CA bundle explicitly' % (variable, path, self._shown_url))
        return warnings

    def sleep(self, seconds):
        """Pause as this client does between retries (tests give the client a sleep that does not wait)."""
        self._sleep(seconds)

    def request(self, method, path, payload=None, context=None):
        """Send one API call, retrying what is safe to retry.

        ``context`` names the object the call is about ("repository r1") for 403/404 messages.
        """
        delays = generate_jittered_backoff(retries=self.max_retries, delay_base=BACKOFF_BASE,
                                           delay_threshold=BACKOFF_CAP)
        while True:
            self._wait_for_backoff()
            try:
                return self._send_once(method, path, payload, context)
            except FlashbackError as exc:
                if not self._retryable(method, exc):
                    raise
                delay = next(delays, None)
                if delay is None:
                    raise
                retry_after = getattr(exc, 'retry_after', None)
                delay = retry_after if retry_after is not None else delay
                if isinstance(exc, RateLimitedError):
                    self.hold_back(delay)
                self._sleep(delay)

    def hold_back(self, delay):
        """Hold back every thread's next request for ``delay`` seconds (after a 429), except this thread's."""
        with self._lock:
            until = self._clock() + delay
            if until > self._not_before:  # only the thread whose hold reaches furthest is exempt from waiting
                self._not_before = until
                self._holder = threading.current_thread()

    def _wait_for_backoff(self):
        """Wait out a 429 backoff another thread started (the thread that got the 429 sleeps it itself)."""
        with self._lock:
            wait = 0 if self._holder is threading.current_thread() else self._not_before - self._clock()
        if wait > 0:
            self._sleep(wait)

    @staticmethod
    def _retryable(method, exc):
        if method not in IDEMPOTENT_METHODS or not exc.transient or isinstance(exc, MalformedResponseError):
            return False
        if isinstance(exc, ServerError):
            return exc.status in RETRYABLE_STATUSES
        return True

    def _exchange(self, method, url, payload, what):
        """Send the request and read the whole answer, at most max_response_size bytes of it."""
        # Never follow a redirect: a followed POST could create a second key, and the token would be sent
        # wherever the Location points. stream: the body is read here, in chunks, so its size is capped.
        response = self.session.request(method, url, json=payload, timeout=self.timeout, verify=self.verify,
                                        allow_redirects=False, stream=True)
        try:
            too_large = ResponseTooLargeError(
                'the answer to %s%s was larger than max_response_size (%d bytes): nothing more was read; raise '
                'max_response_size if the API really sends that much, or check api_url'
                % (what, self._via, self.max_response_size))
            length = response.headers.get('Content-Length')
            if length and length.isdigit() and int(length) > self.max_response_size:
                raise too_large
            chunks, size = [], 0
            for chunk in response.iter_content(READ_CHUNK):
                size += len(chunk)
                if size > self.max_response_size:
                    raise too_large
                chunks.append(chunk)
            response._content = b''.join(chunks)  # pylint: disable=protected-access
        finally:
            response.close()
        return response

    def _within_deadline(self, func, *args):
        """``func(*args)`` on a worker thread, given up after ``timeout`` seconds in total.

        requests' own timeout bounds each socket read: a server that drips its answer one byte at a time never
        trips it. The deadline covers connecting, sending and reading the whole answer; a worker still blocked
        after it is a daemon thread, so it cannot keep the module's process alive.
        """
        outcome = {}
        done = threading.Event()

        def work():
            try:
                outcome['value'] = func(*args)
            except BaseException as exc:  # pylint: disable=broad-except  # re-raised in the caller's thread
                outcome['error'] = exc
            finally:
                done.set()

        # Named after the calling thread: what it does is that thread's request.
        worker = threading.Thread(target=work, name=threading.current_thread().name)
        worker.daemon = True
        worker.start()
        if not done.wait(self.timeout):
            raise requests.exceptions.Timeout()
        if 'error' in outcome:
            raise outcome['error']
        return outcome['value']

    def _send_once(self, method, path, payload, context):
        url = self.api_url + path
        what = '%s %s' % (method, path)
        try:
            response = self._within_deadline(self._exchange, method, url, payload, what)
        except requests.exceptions.SSLError as exc:
            raise self._tls_error(exc)
        except requests.exceptions.Timeout:
            raise RequestTimeoutError(
                'the Flashback API%s did not answer %s completely within timeout (%ss, connecting and reading the '
                'whole answer): raise timeout or retry later' % (self._via, what, self.timeout))
        except requests.exceptions.RequestException as exc:
            raise ConnectionFailedError(
                'cannot reach the Flashback API at %s%s (%s): %s; check api_url and the network'
                % (self._shown_url, self._via, what, one_line(transport_reason(exc), MAX_SERVER_MESSAGE)))
        except (IOError, OSError) as exc:
            # requests raises a bare OSError, before connecting, for a CA bundle path it cannot find.
            reason = exc.strerror or 'not found'
            if self._ca_path:
                raise TLSError('cannot load ca_path %s (%s): give the path of a readable PEM file'
                               % (self._ca_path, reason))
            raise TLSError('cannot load the default CA bundle (%s): set ca_path to a PEM CA bundle' % reason)
        return self._decode(response, what + self._via, context or path, method in BODY_METHODS)

    def _tls_error(self, exc):
        """One accurate message per kind of TLS failure, from the ssl error behind requests' wrappers."""
        cause = _ssl_cause(exc)
        text = str(cause if cause is not None else exc)
        reason = getattr(cause, 'reason', None) or ''
        # Only loading the CA bundle fails in OpenSSL's X509 library; handshake failures are in its SSL library.
        if self._ca_path and getattr(cause, 'library', None) == 'X509':
            return TLSError('ca_path %s holds no PEM certificate: give the PEM file of the CA that signed the server '
                            'certificate' % self._ca_path)
        if reason in _NOT_TLS_REASONS or 'wrong version number' in text or 'record layer failure' in text:
            return TLSError('api_url uses https:// but the server at %s does not speak TLS (is it http://?)'
                            % self._server)
        if getattr(cause, 'verify_code', None) in _NAME_MISMATCH_CODES or 'mismatch' in text or "doesn't match" in text:
            return TLSError('the server certificate does not match %s: use the host name the certificate was issued '
                            'for in api_url' % self._hostname)
        if isinstance(cause, ssl.SSLCertVerificationError) or 'certificate verify failed' in text.lower():
            detail = getattr(cause, 'verify_message', None) or 'certificate verify failed'
            if self._ca_path:
                return TLSError('TLS verification failed for %s: the server certificate is not signed by the CA in '
                                'ca_path %s (%s); set ca_path to the CA bundle that signed it'
                                % (self._shown_url, self._ca_path, detail))
            return TLSError('TLS verification failed for %s: set ca_path to the CA bundle that signed the server '
                            'certificate (or validate_certs: false, which is insecure); the check said: %s'
                            % (self._shown_url, detail))
        return TLSError('the TLS handshake with %s failed (%s): check api_url, ca_path and any proxy in between'
                        % (self._server, reason or type(cause or exc).__name__))

    def _decode(self, response, what, context, need_body):
        status = response.status_code
        if 300 <= status < 400:
            raise RedirectError('the Flashback API answered %s with a redirect (HTTP %s %s): redirects are not '
                                'followed; point api_url at the API itself'
                                % (what, status, redirect_target(response.headers.get('Location'))), status)
        body = None
        if response.content:
            try:
                body = response.json()
            except ValueError:
                body = None
        if 200 <= status < 300:
            if not response.content:
                return {}
            if not isinstance(body, dict):
                if not need_body:
                    return {}
                raise MalformedResponseError(
                    'the Flashback API answered %s with HTTP %s but not a JSON object: check that api_url '
                    'points at the Flashback API' % (what, status), status=status)
            if body.get('success') is False:
                raise MalformedResponseError(
                    'the Flashback API answered %s with HTTP %s but success=false (%s)'
                    % (what, status, server_message(body) or 'no message'), status=status)
            return body
        raise self._error_for(status, body, response.headers, what, context)

    @staticmethod
    def _error_for(status, body, headers, what, context):
        detail = server_message(body)
        suffix = ' (server said: %s)' % detail if detail else ''
        if status == 400:
            return BadRequestError('the Flashback API rejected %s as invalid%s: check the module options'
                                   % (what, suffix), status)
        if status == 401:
            return AuthenticationError('authentication failed: check api_token or FLASHBACK_API_TOKEN', status)
        if status == 403:
            return PermissionDeniedError('access denied to %s: use a token scoped for it' % context, status)
        if status == 404:
            return NotFoundError('%s not found or not visible to this token' % context, status)
        if status == 429:
            return RateLimitedError('the Flashback API throttled %s (HTTP 429) and retries ran out: '
                                    'retry later or run fewer jobs at once' % what, status,
                                    retry_after=parse_retry_after(headers.get('Retry-After')))
        if status >= 500:
            return ServerError('the Flashback API failed on %s with HTTP %s%s: retry later'
                               % (what, status, suffix), status)
        return ApiError('the Flashback API answered %s with unexpected HTTP %s%s' % (what, status, suffix), status)
