# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Flashback platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""How every module runs: options become a client, errors become one clean ``fail_json``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.six.moves.urllib.parse import urlparse

from ansible_collections.flashback.platform.plugins.module_utils import _client as client_module
from ansible_collections.flashback.platform.plugins.module_utils._arguments import (
    connection_warnings,
    validated_connection,
)
from ansible_collections.flashback.platform.plugins.module_utils._errors import ConfigurationError, FlashbackError


def client_from_module(module):
    """Build the client from a module's options, failing the module cleanly on bad settings."""
    if not client_module.HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib('requests'), exception=client_module.REQUESTS_IMPORT_ERROR)
    params = module.params
    # Credentials in api_url are refused below, but ansible-core echoes module_args (at -vvv, and in a failed
    # result's invocation): censor the password there too.
    password = urlparse(params.get('api_url') or '').password
    if password:
        module.no_log_values.add(password)
    try:
        validated_connection(params)
    except ConfigurationError as exc:
        module.fail_json(**exc.fail_kwargs())
    for warning in connection_warnings(params):
        module.warn(warning)
    client = client_module.FlashbackClient(
        api_url=params['api_url'],
        api_token=params['api_token'],
        validate_certs=params['validate_certs'],
        ca_path=params['ca_path'],
        timeout=params['timeout'],
        max_retries=params['max_retries'],
        max_response_size=params.get('max_response_size', client_module.DEFAULT_MAX_RESPONSE_SIZE),
    )
    for warning in client.environment_warnings():
        module.warn(warning)
    return client


NO_LOG_WARNING = ('this task returned a one-time secret without no_log: Ansible shows results at -v and AWX stores '
                  'them in its job events; set no_log: true on the task')


def _carries_secret(result):
    return bool(result.get('secret') or result.get('new_secrets'))


def _scrub_warnings(module, scrubber):
    """Route the module's warnings through ``scrubber``: a warning built from anything a run met (a failure's
    message) must not show the token or a secret minted in the run. ansible-core 2.19 prints warnings even under
    no_log, and keeps them outside the result that no_log censors."""
    warn = module.warn

    def scrubbed(warning):
        warn(scrubber.text(warning))
    module.warn = scrubbed


def run_module(module, run):
    """Call ``run(module, client)`` and exit with its result, or fail with the error's one-line message.

    A failure that carries a one-time secret (a rotation that created the new key but could not retire the
    old one; writes of flashback_repo_apikeys that failed beside successful creates) fails only in a task
    with ``no_log``. Without it the result is reported ``ok`` (``changed``) with a warning that says so, and
    the failure in ``msg``: Ansible prints failed results at every verbosity and AWX stores them, so failing
    would print the secret, while the secret must still reach its owner. The next run finishes what is left.

    Everything the module says leaves through the client's scrubber: the token and every secret minted in the
    run are masked in messages, warnings and every other returned string except the ``secret`` values
    themselves (a hostile server can echo them in an error body).
    """
    client = client_from_module(module)
    _scrub_warnings(module, client.scrubber)
    try:
        result = run(module, client)
    except FlashbackError as exc:
        kwargs = client.scrubber.result(exc.fail_kwargs())
        if not (_carries_secret(kwargs) and not module.no_log):
            module.fail_json(**kwargs)
        # The warning holds no server text (ansible-core 2.19 prints warnings whatever no_log says): the
        # failure itself is in msg, which no_log hides.
        module.warn('not finished, rerun to finish (reported as ok so that the new secret is not printed): '
                    'see msg in this result')
        result = dict(kwargs, changed=True)
    result = client.scrubber.result(result)
    if _carries_secret(result) and not module.no_log:
        module.warn(NO_LOG_WARNING)
    module.exit_json(**result)
