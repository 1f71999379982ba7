# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Flashback platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Typed errors of the Flashback client.

Every message is one line that says what went wrong and what to do. Messages are
built only from the HTTP method, the request path, the status code and the
server's own short error text: never from request headers (the token) or
request/response bodies (which may hold a secret).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class FlashbackError(Exception):
    """Base class: anything the collection turns into a clean ``fail_json``."""

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
    pass


class TLSError(TransportError):
    pass


class RequestTimeoutError(TransportError):
    pass


class MalformedResponseError(FlashbackError):
    """The server answered, but not with the JSON shape the published API documents."""


class ApiError(FlashbackError):
    """The API answered with an error status."""

    def __init__(self, message, status):
        super(ApiError, self).__init__(message, status=status)
        self.status = status


class BadRequestError(ApiError):
    pass


class AuthenticationError(ApiError):
    pass


class PermissionDeniedError(ApiError):
    pass


class NotFoundError(ApiError):
    pass


class RedirectError(ApiError):
    """A 3xx answer. Redirects are never followed (a followed POST could create twice, and the token would go
    wherever the Location points), so the request was not carried out: a create that gets one made nothing."""


class RateLimitedError(ApiError):
    def __init__(self, message, status, retry_after=None):
        super(RateLimitedError, self).__init__(message, status)
        self.retry_after = retry_after


class ServerError(ApiError):
    pass
