# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Flashback platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Typed errors of the Flashback client.

Every message is one line that says what went wrong and what to do. Messages are
built only from the HTTP method, the request path, the status code and the
server's own short error text (made one printable line by :mod:`sanitize`): never from
request headers (the token) or request/response bodies (which may hold a secret).

Two class attributes say what an error means for the caller, so that no caller keeps its own list:
``transient`` (a later attempt may succeed: the client retries reads, updates and deletes after it) and
``ambiguous_create`` (a create that ended with it may have made a key: the orphan check must run). Only a
400, 401 or 403 answer, a TLS failure or a local refusal proves that a create made nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class FlashbackError(Exception):
    """Base class: anything the collection turns into a clean ``fail_json``."""

    transient = False
    ambiguous_create = False

    def __init__(self, message, **details):
        super(FlashbackError, self).__init__(message)
        self.message = message
        # Extra, secret-free fields returned beside ``msg`` (e.g. ``status``).
        self.details = details

    def fail_kwargs(self):
        """Keyword arguments for ``AnsibleModule.fail_json``."""
        kwargs = dict(msg=self.message)
        kwargs.update(self.details)
        return kwargs


class ConfigurationError(FlashbackError):
    """The module options cannot work (missing token, bad URL...)."""


class ResourceError(FlashbackError):
    """The requested state cannot be reached as asked (ambiguous names, unknown key id)."""


class TransportError(FlashbackError):
    """No usable HTTP answer arrived: connection failure, TLS failure or timeout."""


class ConnectionFailedError(TransportError):
    # The request may have been sent before the connection broke.
    transient = True
    ambiguous_create = True


class TLSError(TransportError):
    """Nothing was sent: the handshake (or loading the CA bundle) failed first."""


class RequestTimeoutError(TransportError):
    """No whole answer within the total deadline (``timeout``): the server may still be acting."""
    transient = True
    ambiguous_create = True


class MalformedResponseError(FlashbackError):
    """The server answered, but not with the JSON shape the published API documents."""
    transient = True
    ambiguous_create = True


class ResponseTooLargeError(MalformedResponseError):
    """The answer was longer than ``max_response_size``; reading stopped there."""


class ApiError(FlashbackError):
    """The API answered with an error status. Any status but 400, 401 and 403 may follow a write that happened
    (a gateway's 404 or 307, a 429 sent after acting), so it leaves a create ambiguous."""

    ambiguous_create = True

    def __init__(self, message, status):
        super(ApiError, self).__init__(message, status=status)
        self.status = status


class BadRequestError(ApiError):
    ambiguous_create = False


class AuthenticationError(ApiError):
    ambiguous_create = False


class PermissionDeniedError(ApiError):
    ambiguous_create = False


class NotFoundError(ApiError):
    pass


class RedirectError(ApiError):
    """A 3xx answer. Redirects are never followed (a followed POST could create twice, and the token would go
    wherever the Location points). The client did not repeat the request, but a server (or a gateway in front of
    it) may have acted before redirecting, so a create that gets one is checked for an orphan like any other."""


class RateLimitedError(ApiError):
    transient = True

    def __init__(self, message, status, retry_after=None):
        super(RateLimitedError, self).__init__(message, status)
        self.retry_after = retry_after


class ServerError(ApiError):
    transient = True
