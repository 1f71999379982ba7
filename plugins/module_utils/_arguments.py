# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Flashback platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Argument specs shared by every module, and the checks they cannot express.

Documented once in ``plugins/doc_fragments/connection.py``; keep both in step.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.module_utils.common.parameters import AnsibleFallbackNotFound
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.module_utils.six.moves.urllib.parse import urlparse

from ansible_collections.flashback.platform.plugins.module_utils import _client as client_module
from ansible_collections.flashback.platform.plugins.module_utils._converge import DEFAULT_CONCURRENCY
from ansible_collections.flashback.platform.plugins.module_utils._errors import ConfigurationError
from ansible_collections.flashback.platform.plugins.module_utils._reconcile import ALL, ENTRY_SPEC, PHASES

VALIDATE_CERTS_ENV = 'FLASHBACK_VALIDATE_CERTS'
URL_ENV = 'FLASHBACK_API_URL'
TOKEN_ENV = 'FLASHBACK_API_TOKEN'
# A file holding the token: the environment (and so a gathered ansible_env, and AWX's fact cache) then holds
# only a path. The AWX credential type injects the token this way.
TOKEN_FILE_ENV = 'FLASHBACK_API_TOKEN_FILE'
# Names of boolean environment variables whose value was no boolean, for validated_connection to report.
# The fallback below runs only when the task leaves the option unset, so it alone knows that the variable
# matters; it cannot fail the module itself (ansible-core would show a traceback), so it leaves the option at
# its safe default and the name here. One module run is one process: this never outlives the run.
_MALFORMED_ENV = set()
# (variable, token) when api_token fell back to the environment (one entry at most; compared with the token in use,
# so that a value left by an earlier resolution in the same process is never taken for this one's).
_TOKEN_SOURCE = []


def _env_fallback(*names):
    """ansible-core's env_fallback, except that an empty variable counts as unset: an AWX credential renders a
    field left empty as '' (FLASHBACK_API_URL when only the token was given, FLASHBACK_CA_PATH without a CA)."""
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    raise AnsibleFallbackNotFound


def _token_fallback(name, file_name):
    """The token from ``name``, else from the file ``file_name`` names (one trailing line break dropped: files
    usually end with one). Records which variable it came from in _TOKEN_SOURCE; an unreadable file is recorded in
    _MALFORMED_ENV for validated_connection to report."""
    del _TOKEN_SOURCE[:]
    _MALFORMED_ENV.discard(file_name)
    if os.environ.get(name):
        _TOKEN_SOURCE.append((name, os.environ[name]))
        return os.environ[name]
    path = os.environ.get(file_name)
    if not path:
        raise AnsibleFallbackNotFound
    try:
        with open(path) as handle:
            token = handle.read()
    except (IOError, OSError, UnicodeError):
        _MALFORMED_ENV.add(file_name)
        raise AnsibleFallbackNotFound
    token = token[:-2] if token.endswith('\r\n') else token[:-1] if token.endswith('\n') else token
    _TOKEN_SOURCE.append((file_name, token))
    return token


def _env_boolean_fallback(name):
    """A boolean from ``name`` (Ansible's booleans: true/false, yes/no, on/off, 1/0); a malformed value is recorded
    in _MALFORMED_ENV and leaves the option at its default."""
    _MALFORMED_ENV.discard(name)
    value = _env_fallback(name)
    try:
        return boolean(value, strict=True)
    except TypeError:
        _MALFORMED_ENV.add(name)
        raise AnsibleFallbackNotFound


CONNECTION_ARGUMENT_SPEC = dict(
    api_url=dict(type='str', default=client_module.DEFAULT_API_URL,
                 fallback=(_env_fallback, [URL_ENV])),
    # Not required=True: the check below names both ways to give it.
    api_token=dict(type='str', no_log=True, aliases=['access_token'],
                   fallback=(_token_fallback, [TOKEN_ENV, TOKEN_FILE_ENV])),
    validate_certs=dict(type='bool', default=True, fallback=(_env_boolean_fallback, [VALIDATE_CERTS_ENV])),
    ca_path=dict(type='path', fallback=(_env_fallback, ['FLASHBACK_CA_PATH'])),
    timeout=dict(type='int', default=client_module.DEFAULT_TIMEOUT),
    max_retries=dict(type='int', default=client_module.DEFAULT_MAX_RETRIES),
    max_response_size=dict(type='int', default=client_module.DEFAULT_MAX_RESPONSE_SIZE),
)

REPO_ARGUMENT_SPEC = dict(
    repo_id=dict(type='str'),
    repo_name=dict(type='str'),
)
REPO_MUTUALLY_EXCLUSIVE = [('repo_id', 'repo_name')]
REPO_REQUIRED_ONE_OF = [('repo_id', 'repo_name')]

# The declared set (doc fragment flashback.platform.apikeys): flashback_repo_apikeys and flashback_repo_apikey_plan.
APIKEY_SET_SPEC = dict(
    apikeys=dict(type='list', elements='dict', required=True, no_log=False, options=ENTRY_SPEC),
    exclusive=dict(type='bool', default=False),
    protected=dict(type='list', elements='str', default=[]),
    max_age_days=dict(type='int'),
    retire_after_days=dict(type='int'),
    warn_before_days=dict(type='int'),
    concurrency=dict(type='int', default=DEFAULT_CONCURRENCY),
)

# flashback_repo_apikeys' run split around a delivery step (reconcile's phases).
PHASE_SPEC = dict(
    phase=dict(type='str', choices=list(PHASES), default=ALL),
    delivered=dict(type='list', elements='dict', default=[], no_log=False,
                   options=dict(repo_id=dict(type='str', required=True), id=dict(type='str', required=True),
                                name=dict(type='str'))),
)

# One key (flashback_repo_apikey): an entry of the set, name required, the repository options shared.
SINGLE_APIKEY_SPEC = dict((field, dict(spec)) for field, spec in ENTRY_SPEC.items()
                          if field not in REPO_ARGUMENT_SPEC)
SINGLE_APIKEY_SPEC['name']['required'] = True

LOOPBACK_HOSTS = ('localhost', '127.0.0.1', '::1')


def argument_spec(repository=True, **module_options):
    """The connection options, the repository options unless ``repository=False``, and the module's own."""
    spec = dict(CONNECTION_ARGUMENT_SPEC)
    if repository:
        spec.update(REPO_ARGUMENT_SPEC)
    spec.update(module_options)
    return spec


def connection_warnings(params):
    """Warnings about connection settings that work but put the token at risk."""
    warnings = []
    if not params['validate_certs']:
        warnings.append('validate_certs is false: the server certificate is not verified, so the token can be '
                        'intercepted; prefer ca_path')
    url = urlparse(params['api_url'])
    if url.scheme == 'http' and url.hostname not in LOOPBACK_HOSTS:
        warnings.append('api_url uses http:// on a non-loopback host: the token travels in clear text; use https://')
    return warnings


def _same_url(first, second):
    first, second = urlparse(first.rstrip('/')), urlparse(second.rstrip('/'))
    return ((first.scheme.lower(), first.netloc.lower(), first.path)
            == (second.scheme.lower(), second.netloc.lower(), second.path))


def _check_token_destination(api_url, token):
    """A token the environment supplies next to its own API URL goes only to that URL.

    The environment binds the two (an AWX credential injects both): whoever can set a variable (launch-time extra
    variables, a survey, an inventory) must not be able to send a credential they cannot read to a server of their
    choosing. A token from the environment without FLASHBACK_API_URL is bound to nothing and goes where api_url says.
    """
    source = _TOKEN_SOURCE[0][0] if _TOKEN_SOURCE and _TOKEN_SOURCE[0][1] == token else None
    env_url = os.environ.get(URL_ENV)
    if source and env_url and not _same_url(api_url, env_url):
        raise ConfigurationError(
            'api_url is not the FLASHBACK_API_URL of the environment, but the token comes from %s: a token from the '
            'environment is only sent to the API URL beside it; unset api_url (and flashback_api_url), or give '
            'api_token together with api_url' % source)


def validated_connection(params):
    """Check the connection options that argument_spec cannot express. Messages never echo the token or
    anything of api_url (it may hold credentials), nor the value of an environment variable."""
    if VALIDATE_CERTS_ENV in _MALFORMED_ENV:
        _MALFORMED_ENV.discard(VALIDATE_CERTS_ENV)
        raise ConfigurationError('FLASHBACK_VALIDATE_CERTS is not a boolean: set it to true or false (or unset it, '
                                 'which verifies certificates), or set the validate_certs option')
    if TOKEN_FILE_ENV in _MALFORMED_ENV:
        _MALFORMED_ENV.discard(TOKEN_FILE_ENV)
        raise ConfigurationError('FLASHBACK_API_TOKEN_FILE names a file that cannot be read: give the path of a '
                                 'readable file holding the token, or set api_token')
    if not params.get('api_token'):
        raise ConfigurationError('no API token: set api_token (or access_token) or the FLASHBACK_API_TOKEN '
                                 'environment variable')
    for option in ('api_url', 'ca_path'):
        # An explicit empty string (often a variable that rendered empty) would not fall back to the default.
        if params.get(option) == '':
            raise ConfigurationError('%s is an empty string: give a value or leave it out' % option)
    url = urlparse(params['api_url'] or '')
    if url.scheme not in ('http', 'https') or not url.netloc:
        raise ConfigurationError('api_url must be an http:// or https:// URL, for example %s'
                                 % client_module.DEFAULT_API_URL)
    if '@' in url.netloc:
        raise ConfigurationError('api_url must not hold credentials (user:password@): remove them; the API '
                                 'authenticates with api_token only')
    client_module.check_token(params['api_token'])
    _check_token_destination(params['api_url'], params['api_token'])
    ca_path = params.get('ca_path')
    if ca_path and params['validate_certs'] and not os.path.isfile(ca_path):
        raise ConfigurationError('ca_path %s does not exist or is not a file: give the path of the PEM file of the '
                                 'CA bundle' % ca_path)
    if params['timeout'] <= 0:
        raise ConfigurationError('timeout must be a positive number of seconds')
    if params.get('max_response_size', client_module.DEFAULT_MAX_RESPONSE_SIZE) < 1024:
        raise ConfigurationError('max_response_size must be at least 1024 bytes')
    if params['max_retries'] < 0:
        raise ConfigurationError('max_retries must be 0 or more')
