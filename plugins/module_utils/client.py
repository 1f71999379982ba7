# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Flashback platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one HTTP client every module uses: auth, JSON, TLS, timeout, retries, errors."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import threading
import time
import traceback

from ansible.module_utils.api import generate_jittered_backoff

from ansible_collections.flashback.platform.plugins.module_utils.errors import (
    AuthenticationError,
    BadRequestError,
    ConnectionFailedError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    TLSError,
    ApiError,
)

try:
    import requests
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised only where requests is missing
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

# Kept equal to galaxy.yml's version (a unit test checks it).
COLLECTION_VERSION = '0.2.0'
USER_AGENT = 'flashback.platform/%s (Ansible collection)' % COLLECTION_VERSION

DEFAULT_API_URL = 'https://backend.flashback.tech'
DEFAULT_TIMEOUT = 30
DEFAULT_MAX_RETRIES = 3
# Caps keep a throttled run from sleeping for minutes on one request.
MAX_RETRY_AFTER = 30
BACKOFF_BASE = 1
BACKOFF_CAP = 10

# Statuses that mean "the server (or a gateway) did not get the job done, try again later".
RETRYABLE_STATUSES = frozenset([429, 502, 503, 504])
# Answers whose body we read; PUT and DELETE answers carry nothing the modules use, so a
# 2xx with a mangled body (a proxy's HTML, say) still means the write happened.
BODY_METHODS = frozenset(['GET', 'POST'])
# POST is not idempotent: a retry after an ambiguous failure could mint a second key
# whose secret nobody receives. Only a 429 (the server refused before acting) is safe.
IDEMPOTENT_METHODS = frozenset(['GET', 'PUT', 'DELETE'])

MAX_SERVER_MESSAGE = 200
# Connections kept per host: enough for converge's largest thread pool.
POOL_SIZE = 16


def server_message(body):
    """The short error text a Flashback error body carries, made safe for one line."""
    if not isinstance(body, dict):
        return ''
    for field in ('message', 'error_message', 'error'):
        value = body.get(field)
        if isinstance(value, str) and value.strip():
            text = ' '.join(value.split())
            if len(text) > MAX_SERVER_MESSAGE:
                text = text[:MAX_SERVER_MESSAGE] + '...'
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
    :class:`~ansible_collections.flashback.platform.plugins.module_utils.errors.FlashbackError`.
    """

    def __init__(self, api_url, api_token, validate_certs=True, ca_path=None,
                 timeout=DEFAULT_TIMEOUT, max_retries=DEFAULT_MAX_RETRIES, sleep=time.sleep):
        self.api_url = api_url.rstrip('/')
        self.timeout = timeout
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
        self.session.headers.update({
            'Authorization': 'Bearer %s' % api_token,
            'Accept': 'application/json',
            'User-Agent': USER_AGENT,
        })
        # Passed with each request: requests ignores Session.verify when REQUESTS_CA_BUNDLE or
        # CURL_CA_BUNDLE is set in the environment, which would silently drop ca_path.
        self.verify = ca_path if (validate_certs and ca_path) else bool(validate_certs)

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
            except (RateLimitedError, ServerError, ConnectionFailedError, RequestTimeoutError) as exc:
                if not self._retryable(method, exc):
                    raise
                delay = next(delays, None)
                if delay is None:
                    raise
                retry_after = getattr(exc, 'retry_after', None)
                delay = retry_after if retry_after is not None else delay
                if isinstance(exc, RateLimitedError):
                    self._hold_back(delay)
                self._sleep(delay)

    def _hold_back(self, delay):
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
        if isinstance(exc, RateLimitedError):
            return True
        if method not in IDEMPOTENT_METHODS:
            return False
        if isinstance(exc, ServerError):
            return exc.status in RETRYABLE_STATUSES
        return True

    def _send_once(self, method, path, payload, context):
        url = self.api_url + path
        what = '%s %s' % (method, path)
        try:
            response = self.session.request(method, url, json=payload, timeout=self.timeout, verify=self.verify)
        except requests.exceptions.SSLError:
            raise TLSError(
                'TLS verification failed for %s: set ca_path to the CA bundle that signed the server '
                'certificate (or validate_certs: false, which is insecure)' % self.api_url)
        except requests.exceptions.Timeout:
            raise RequestTimeoutError(
                'the Flashback API did not answer %s within %ss: raise timeout or retry later' % (what, self.timeout))
        except requests.exceptions.RequestException as exc:
            raise ConnectionFailedError(
                'cannot reach the Flashback API at %s (%s): %s; check api_url and the network'
                % (self.api_url, what, transport_reason(exc)))
        return self._decode(response, what, context or path, method in BODY_METHODS)

    def _decode(self, response, what, context, need_body):
        status = response.status_code
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
