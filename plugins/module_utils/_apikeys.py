# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Flashback platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The repository and API key endpoints, and the one place their JSON shapes are known.

API objects become the collection's return shape here
(``{id, name, access, key, repo_id, created_at}``); the encrypted ``secret`` object
that list answers carry is dropped on the way. Writes go through
:class:`ApiKeys`, which never sends one in check mode.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible.module_utils.api import generate_jittered_backoff
from ansible.module_utils.six.moves.urllib.parse import quote

from ansible_collections.flashback.platform.plugins.module_utils._client import BACKOFF_BASE, BACKOFF_CAP

from ansible_collections.flashback.platform.plugins.module_utils._errors import (
    FlashbackError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
    RequestTimeoutError,
    ResourceError,
)
from ansible_collections.flashback.platform.plugins.module_utils._reconcile import id_problem
from ansible_collections.flashback.platform.plugins.module_utils._sanitize import visible

# Whether a failed POST may have created the key is the error's own attribute (errors.FlashbackError
# .ambiguous_create): every failure but a 400, 401 or 403 answer, a TLS failure or a local refusal.
ORPHAN_POLL_INTERVAL = 0.5
# time.monotonic is missing on Python 2.7, which ansible-core 2.16 still supports on targets.
MONOTONIC = getattr(time, 'monotonic', time.time)


def _segment(value):
    # Ids go into the path: quote everything so an id cannot change the path.
    return quote(str(value), safe='')


def _refuse_unusable_ids(*ids):
    # Ids are checked where they come in (options, API answers); this is the last line before a URL.
    for what, value in ids:
        problem = value is not None and id_problem(value)
        if problem:
            raise ResourceError('refusing to put the %s id into a URL because %s: nothing was sent; check repo_id '
                                'and key_id' % (what, problem))


def keys_path(repo_id, key_id=None):
    _refuse_unusable_ids(('repository', repo_id), ('API key', key_id))
    path = '/repo/%s/apikey' % _segment(repo_id)
    if key_id is not None:
        path += '/%s' % _segment(key_id)
    return path


def _text_field(obj, field, what, required=True):
    """A text field of an API object; control characters are written as escapes (sanitize.visible), so no
    server text reaches any output raw."""
    value = obj.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise MalformedResponseError('the Flashback API returned %s without a valid %r field' % (what, field))
    return visible(value)


def _list_field(body, field, what):
    items = body.get(field)
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise MalformedResponseError('the Flashback API answered %s without a %r list' % (what, field))
    return items


def _id_field(obj, what):
    value = _text_field(obj, 'id', what)
    problem = id_problem(value)
    if problem:
        # Not echoed: the value came from the server and may hold anything, line breaks included.
        raise MalformedResponseError('the Flashback API returned %s with an unusable id (%s): such an id is never '
                                     'put into a URL; check api_url, or report it to Flashback' % (what, problem))
    return value


def normalize_key(raw, repo_id):
    """The module's view of one API key; never carries a secret."""
    return dict(
        id=_id_field(raw, 'an API key'),
        name=_text_field(raw, 'name', 'an API key'),
        access=_text_field(raw, 'accessType', 'an API key'),
        key=_text_field(raw, 'key', 'an API key', required=False),
        repo_id=repo_id,
        created_at=_text_field(raw, 'createdAt', 'an API key', required=False),
    )


def planned_key(repo_id, name, access):
    """What check mode reports for a key that would be created."""
    return dict(id=None, name=name, access=access, key=None, repo_id=repo_id, created_at=None)


def list_repos(client):
    try:
        body = client.request('GET', '/repo', context='the repository list')
    except NotFoundError as exc:
        # The API always has the list: a 404 means api_url points elsewhere (often an extra path prefix).
        raise NotFoundError('the repository list not found (GET /repo answered HTTP 404): check that api_url '
                            'points at the Flashback API (no extra path)', exc.status)
    repos = _list_field(body, 'repos', 'GET /repo')
    return [dict(id=_id_field(repo, 'a repository'), name=visible(repo.get('name'))) for repo in repos]


def repo_name(client, repo_id):
    """The name of repository ``repo_id`` from one ``GET /repo?repoId=``; None when the answer does not give it.

    Older servers ignore the filter and list every repository: the entry whose id matches is the one. No
    matching entry (or one without a usable name) is not an error: the caller only wants the name for display.
    """
    _refuse_unusable_ids(('repository', repo_id))
    body = client.request('GET', '/repo?repoId=%s' % _segment(repo_id), context=repo_context(repo_id))
    for repo in _list_field(body, 'repos', 'GET /repo'):
        if repo.get('id') == repo_id:
            name = repo.get('name')
            return name if isinstance(name, str) and name else None
    return None


def resolve_repo_id(client, repo_id=None, repo_name=None):
    """The id of the repository a module addresses; by name costs one ``GET /repo``."""
    if repo_id:
        return repo_id
    matches = [repo['id'] for repo in list_repos(client) if repo['name'] == repo_name]
    if not matches:
        raise ResourceError('repository named %r not found or not visible to this token' % repo_name)
    if len(matches) > 1:
        raise ResourceError('%d repositories are named %r (ids: %s): set repo_id instead of repo_name'
                            % (len(matches), repo_name, ', '.join(sorted(matches))))
    return matches[0]


def repo_context(repo_id):
    return 'repository %s' % repo_id


def list_keys(client, repo_id):
    body = client.request('GET', keys_path(repo_id), context=repo_context(repo_id))
    return [normalize_key(raw, repo_id) for raw in _list_field(body, 'keys', 'GET %s' % keys_path(repo_id))]


def filter_keys(keys, name=None, key_id=None, access=None):
    return [
        key for key in keys
        if (name is None or key['name'] == name)
        and (key_id is None or key['id'] == key_id)
        and (access is None or key['access'] == access)
    ]


def select_key(keys, repo_id, name, key_id=None):
    """The one live key a module acts on, or None; refuses to guess between same-named keys."""
    if key_id is not None:
        found = filter_keys(keys, key_id=key_id)
        return found[0] if found else None
    found = filter_keys(keys, name=name)
    if len(found) > 1:
        raise ResourceError(
            '%d live API keys are named %r in repository %s (ids: %s): set key_id to pick one, '
            'or delete the extra keys' % (len(found), name, repo_id, ', '.join(key['id'] for key in found)))
    return found[0] if found else None


class ApiKeys(object):
    """Writes to one repository's keys; in check mode it predicts and sends nothing."""

    def __init__(self, client, repo_id, check_mode=False, clock=MONOTONIC, sleep=None):
        self.client = client
        self.repo_id = repo_id
        self.check_mode = check_mode
        self.clock = clock
        self._sleep = sleep

    def sleep(self, seconds):
        # The client's own sleep unless given one: tests that give the client a sleep that does not wait
        # get fast create retries too.
        (self._sleep or self.client.sleep)(seconds)

    def list(self):
        return list_keys(self.client, self.repo_id)

    def create(self, name, access, known_ids=()):
        """Create a key; returns ``(apikey, secret)``. The secret exists only in this answer.

        ``known_ids`` are the ids of the keys listed before (and made since). After a create that fails
        ambiguously (any failure whose error has ``ambiguous_create``: 5xx, 429, 404, a redirect, a dropped
        connection, a timeout, an unreadable or oversized answer) the key may exist with a secret nobody
        received: such an orphan (a key with this name and an unknown id) is deleted, and then, when the failure
        was transient (5xx, 429, transport, unreadable answer), the create is tried again, up to the client's
        ``max_retries`` times, with the client's backoff (Retry-After and the shared 429 hold honoured). The
        client itself never repeats a POST. A 2xx answer whose id is one of ``known_ids`` names another key:
        the key it made is removed the same way and the create fails. So either one key is made and its secret
        returned, or none is left.
        """
        if self.check_mode:
            return planned_key(self.repo_id, name, access), None
        known_ids = set(known_ids)
        failures = []
        delays = []
        while True:
            try:
                created, secret = self._post(name, access)
            except FlashbackError as exc:
                if not exc.ambiguous_create:
                    raise
                failures.append(exc.message)
                removed = self._remove_orphans(name, known_ids, exc)
                if exc.transient and self._pause(exc, delays):
                    continue
                if not exc.transient:  # a 404, a redirect: trying again would be answered the same
                    self._raise_refused(name, exc, removed)
                break
            if created['id'] in known_ids:
                self._reject_foreign_id(name, created['id'], known_ids)
            return created, secret
        attempts = 'once,' if len(failures) == 1 else '%d times, each time' % len(failures)
        raise ResourceError('creating API key %r in repository %s failed %s with nothing left behind; last error: %s'
                            % (name, self.repo_id, attempts, failures[-1]))

    def _raise_refused(self, name, exc, removed):
        """The failure of a create that is not tried again: as it is when it made nothing, else saying what the key
        it made became."""
        if not removed:
            raise exc
        raise ResourceError('creating API key %r in repository %s: the API made key %s, then answered with an error, '
                            'so its secret never arrived; that key was deleted and nothing is left behind; the error: '
                            '%s' % (name, self.repo_id, ', '.join(key['id'] for key in removed), exc.message))

    def _pause(self, exc, delays):
        """Sleep before the next create attempt (Retry-After wins; a 429 holds back the client's other threads);
        False when the retries ran out."""
        if not delays:  # the same budget and backoff as the client's retries of one request
            delays.append(generate_jittered_backoff(retries=self.client.max_retries, delay_base=BACKOFF_BASE,
                                                    delay_threshold=BACKOFF_CAP))
        delay = next(delays[0], None)
        if delay is None:
            return False
        retry_after = getattr(exc, 'retry_after', None)
        delay = retry_after if retry_after is not None else delay
        if isinstance(exc, RateLimitedError):
            self.client.hold_back(delay)
        self.sleep(delay)
        return True

    def _reject_foreign_id(self, name, key_id, known_ids):
        """A create answered with the id of a key that existed before it: the answer cannot be trusted (nor
        its secret), so the key it made, if any, is an orphan."""
        cause = MalformedResponseError('the Flashback API answered the create with the id %s of another key' % key_id)
        self._remove_orphans(name, known_ids, cause)
        raise ResourceError('creating API key %r in repository %s: the API answered with the id %s, which belongs to '
                            'a key that existed before; the key it made (if any) was deleted and nothing was kept: '
                            'rerun, and report it to Flashback if it happens again' % (name, self.repo_id, key_id))

    def verify_created(self, created, known_ids):
        """Check against a fresh listing that each of ``created`` (keys a 2xx create answer described) is live
        under the name it was made with; returns the ids that are not. For those names, the keys with an id that
        is neither known before nor a verified create are deleted: their secrets never reached anyone."""
        if self.check_mode or not created:
            return set()
        live = self.list()
        by_id = dict((key['id'], key) for key in live)
        bad = set(key['id'] for key in created
                  if key['id'] not in by_id or by_id[key['id']]['name'] != key['name'])
        keep = set(known_ids) | set(key['id'] for key in created if key['id'] not in bad)
        for key in created:
            if key['id'] in bad:
                for orphan in filter_keys(live, name=key['name']):
                    if orphan['id'] not in keep:
                        self._delete_orphan(orphan, key['name'])
        return bad

    def _post(self, name, access):
        body = self.client.request('POST', keys_path(self.repo_id), payload=dict(name=name, accessType=access),
                                   context=repo_context(self.repo_id))
        key_id = _id_field(body, 'the created API key')
        secret = body.get('secret')
        if not isinstance(secret, str) or not secret:
            raise MalformedResponseError('the Flashback API created key %s without returning its secret' % key_id)
        # From here on no message or warning of this run may show it (runner.run_module scrubs them).
        self.client.remember_secret(secret)
        # The create answer carries no createdAt; re-reading the list just for it would cost
        # a request per create, so created_at stays null in the creating run.
        created = dict(id=key_id, name=name, access=access, key=_text_field(body, 'key', 'the created API key', False),
                       repo_id=self.repo_id, created_at=_text_field(body, 'createdAt', 'the created API key', False))
        return created, secret

    def _remove_orphans(self, name, known_ids, cause):
        """Delete the keys an ambiguous create may have made; their secrets are lost."""
        try:
            orphans = self._find_orphans(name, known_ids, wait=isinstance(cause, RequestTimeoutError))
        except FlashbackError as exc:
            raise ResourceError(
                'creating API key %r in repository %s had an unknown outcome (%s) and listing the keys to check '
                'failed (%s): delete any key named %r whose secret you do not hold, then rerun'
                % (name, self.repo_id, cause.message, exc.message, name))
        for orphan in orphans:
            self._delete_orphan(orphan, name)
        return orphans

    def _delete_orphan(self, orphan, name):
        try:
            self.delete(orphan)
        except FlashbackError as exc:
            raise ResourceError(
                'API key %s (%r) in repository %s was created but its secret was lost, and deleting it failed '
                '(%s): delete it (state=absent, key_id=%s), then rerun'
                % (orphan['id'], name, self.repo_id, exc.message, orphan['id']))

    def _find_orphans(self, name, known_ids, wait):
        # After a timeout the server may still be working on the request: keep looking for up to
        # one more timeout before concluding that it did not act.
        deadline = self.clock() + (self.client.timeout if wait else 0)
        while True:
            orphans = [key for key in filter_keys(self.list(), name=name) if key['id'] not in known_ids]
            if orphans or self.clock() >= deadline:
                return orphans
            self.sleep(ORPHAN_POLL_INTERVAL)

    def update(self, current, name, access):
        """Rename or change access in place (same key, same secret); returns the new view."""
        updated = dict(current, name=name, access=access)
        if not self.check_mode:
            self.client.request('PUT', keys_path(self.repo_id, current['id']),
                                payload=dict(name=name, accessType=access),
                                context='API key %s in repository %s' % (current['id'], self.repo_id))
        return updated

    def delete(self, current):
        if self.check_mode:
            return
        try:
            self.client.request('DELETE', keys_path(self.repo_id, current['id']),
                                context='API key %s in repository %s' % (current['id'], self.repo_id))
        except NotFoundError:
            # Gone already: deleted by a retried attempt of this request, or by a concurrent run.
            # The repository itself was just listed, so the 404 is about the key.
            pass
