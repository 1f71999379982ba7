# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Flashback platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""How every module runs: options become a client, errors become one clean ``fail_json``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.flashback.platform.plugins.module_utils import client as client_module
from ansible_collections.flashback.platform.plugins.module_utils.arguments import (
    connection_warnings,
    validated_connection,
)
from ansible_collections.flashback.platform.plugins.module_utils.errors import ConfigurationError, FlashbackError


def client_from_module(module):
    """Build the client from a module's options, failing the module cleanly on bad settings."""
    if not client_module.HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib('requests'), exception=client_module.REQUESTS_IMPORT_ERROR)
    params = module.params
    try:
        validated_connection(params)
    except ConfigurationError as exc:
        module.fail_json(**exc.fail_kwargs())
    for warning in connection_warnings(params):
        module.warn(warning)
    return client_module.FlashbackClient(
        api_url=params['api_url'],
        api_token=params['api_token'],
        validate_certs=params['validate_certs'],
        ca_path=params['ca_path'],
        timeout=params['timeout'],
        max_retries=params['max_retries'],
    )


def run_module(module, run):
    """Call ``run(module, client)`` and exit with its result, or fail with the error's one-line message."""
    client = client_from_module(module)
    try:
        result = run(module, client)
    except FlashbackError as exc:
        module.fail_json(**exc.fail_kwargs())
    module.exit_json(**result)
