# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fuzzing: random and malformed API answers end in a result or one clean FlashbackError, never a crash.

The case counts (FUZZ_EXAMPLES) are recorded in docs/reliability.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import requests
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.flashback.platform.plugins.module_utils import _apikeys as apikeys, _errors as errors
from ansible_collections.flashback.platform.plugins.module_utils._client import FlashbackClient
from ansible_collections.flashback.platform.plugins.module_utils._reconcile import id_problem

FUZZ_EXAMPLES = 400
TOKEN = 'fuzz-token-SECRET'

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20)
# Bodies shaped like the API's, with fields of the wrong type or missing, plus anything at all.
key_like = st.fixed_dictionaries({}, optional={
    'id': json_values, 'name': json_values, 'accessType': json_values, 'key': json_values,
    'createdAt': json_values, 'secret': json_values})
api_like = st.fixed_dictionaries({}, optional={
    'success': json_values, 'keys': st.lists(key_like, max_size=3) | json_values,
    'repos': st.lists(key_like, max_size=3) | json_values, 'id': json_values, 'key': json_values,
    'secret': json_values, 'message': json_values, 'error_message': json_values})
raw_bodies = (api_like.map(json.dumps) | json_values.map(json.dumps) | st.text(max_size=200)
              | st.just('{"keys": [' + '{"id": "k", "name": "n", "accessType": "READ"},' * 5000 + '{}]}'))
statuses = st.sampled_from([200, 201, 204, 301, 400, 401, 403, 404, 409, 418, 429, 500, 502, 503, 504]) | st.integers(100, 599)
headers = st.fixed_dictionaries({}, optional={
    'Retry-After': st.text(max_size=10),
    'Location': st.sampled_from(['https://u:p@other.example/x?token=t', '/relative', 'https://[', '']) | st.text(max_size=40)})


def fake_response(status, raw, extra_headers):
    response = requests.Response()
    response.status_code = status
    response._content = raw.encode('utf-8', 'surrogatepass')
    response._content_consumed = True  # the client reads with stream=True: iter_content serves _content
    response.headers.update(extra_headers)
    return response


def client_answering(status, raw, extra_headers):
    client = FlashbackClient('https://api.example.test', TOKEN, max_retries=1, sleep=lambda seconds: None)
    client.session.request = lambda *args, **kwargs: fake_response(status, raw, extra_headers)
    return client


def assert_clean(exc):
    kwargs = exc.fail_kwargs()
    assert isinstance(kwargs['msg'], str) and kwargs['msg']
    assert '\n' not in kwargs['msg']
    assert TOKEN not in json.dumps(kwargs)
    assert 'u:p@' not in kwargs['msg'] and 'token=t' not in kwargs['msg']


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(status=statuses, raw=raw_bodies, extra_headers=headers, method=st.sampled_from(['GET', 'POST', 'PUT', 'DELETE']))
def test_client_answers(status, raw, extra_headers, method):
    try:
        body = client_answering(status, raw, extra_headers).request(method, '/repo/r1/apikey', payload={'a': 1})
    except errors.FlashbackError as exc:
        assert_clean(exc)
    else:
        assert isinstance(body, dict)
        assert 200 <= status < 300


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(status=statuses, raw=raw_bodies, operation=st.sampled_from(['list_keys', 'list_repos', 'resolve', 'create']))
def test_resource_layer_answers(status, raw, operation):
    client = client_answering(status, raw, {})
    client.timeout = 0   # no waiting for late creates
    try:
        if operation == 'list_keys':
            keys = apikeys.list_keys(client, 'r1')
            assert all(set(key) == {'id', 'name', 'access', 'key', 'repo_id', 'created_at'} for key in keys)
            assert all(isinstance(key['id'], str) and isinstance(key['name'], str) for key in keys)
            assert all(id_problem(key['id']) is None for key in keys)
        elif operation == 'list_repos':
            assert all(id_problem(repo['id']) is None for repo in apikeys.list_repos(client))
        elif operation == 'resolve':
            assert isinstance(apikeys.resolve_repo_id(client, repo_name='backups'), str)
        else:
            apikey, secret = apikeys.ApiKeys(client, 'r1').create('n', 'READ')
            assert isinstance(secret, str) and secret and id_problem(apikey['id']) is None
    except errors.FlashbackError as exc:
        assert_clean(exc)
