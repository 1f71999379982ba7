# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Flashback platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Connection options shared by every module (the argument spec lives in
    # plugins/module_utils/_arguments.py; keep both in step).
    DOCUMENTATION = r'''
options:
  api_url:
    description:
      - Base URL of the Flashback API.
      - If not set, the value of the E(FLASHBACK_API_URL) environment variable is used.
      - An empty E(FLASHBACK_API_URL), E(FLASHBACK_API_TOKEN), E(FLASHBACK_VALIDATE_CERTS) or E(FLASHBACK_CA_PATH)
        counts as unset (an AWX credential renders a field left empty as an empty string).
    type: str
    default: https://backend.flashback.tech
  api_token:
    description:
      - Access token sent as a bearer token in the C(Authorization) header of every call (a JWT from the Auth
        API or a platform token).
      - If not set, the value of the E(FLASHBACK_API_TOKEN) environment variable is used, else the content of the
        file that E(FLASHBACK_API_TOKEN_FILE) names (one trailing line break dropped; the AWX credential type injects
        the token this way, so that the environment, and a gathered C(ansible_env), holds only a path). One of them is
        required.
      - A token from the environment is only sent to the E(FLASHBACK_API_URL) beside it. When the environment sets
        that variable and O(api_url) names another server, the module fails before any request (a variable must not
        redirect a credential whoever sets it cannot read). Give O(api_token) with O(api_url) to talk to another
        server.
      - Never logged. At high verbosity ansible-core prints C(environment:) values of a task, so when running
        with C(-vvv) pass the token as this option (or through C(module_defaults)), not through the task's
        C(environment).
    type: str
    aliases: [access_token]
  validate_certs:
    description:
      - Verify the server's TLS certificate.
      - Set to V(false) only for testing; the module warns, because the token could be intercepted.
      - If not set, the value of the E(FLASHBACK_VALIDATE_CERTS) environment variable is used, read as an Ansible
        boolean (V(true)/V(false), V(yes)/V(no), V(on)/V(off), V(1)/V(0)); any other value fails the module.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the CA bundle used to verify the server certificate, for private CAs or self-signed
        certificates.
      - If not set, the value of the E(FLASHBACK_CA_PATH) environment variable is used (the AWX credential type's
        CA bundle field sets it).
      - When set, it replaces the bundle that C(requests) uses otherwise (its own, or E(REQUESTS_CA_BUNDLE) /
        E(CURL_CA_BUNDLE) when the environment sets them).
      - When not set and E(REQUESTS_CA_BUNDLE) or E(CURL_CA_BUNDLE) is set, that bundle is used (as any C(requests)
        program would), and the module warns naming the variable and the file, so that a changed trust store is
        never silent. Set O(ca_path) to choose the bundle explicitly.
    type: path
  timeout:
    description:
      - Seconds each HTTP request may take in total, from connecting to reading the last byte of the answer (not
        per socket read), so a server that drips its answer slowly is given up on too.
      - A request that runs out of time is retried as O(max_retries) says, so one module call against a server
        that never answers takes about O(timeout) times (O(max_retries) + 1), plus the backoff between attempts.
    type: int
    default: 30
  max_response_size:
    description:
      - The largest answer, in bytes, the module reads from the API. A longer answer fails the request (it is not
        retried) and reading stops there, so a broken or hostile server cannot exhaust the memory of the host.
      - The default (16 MiB) holds a listing of tens of thousands of keys.
    type: int
    default: 16777216
    version_added: 1.0.0
  max_retries:
    version_added: 1.0.0
    description:
      - How many times a request is retried after a 429 (honouring C(Retry-After), capped at 30 seconds), a 502,
        503 or 504, a dropped connection or a timeout, with jittered exponential backoff (capped at 10 seconds).
      - Only reads, updates and deletes are retried on all of these. A create is retried by the client only after a
        429, which means the server refused it; after any other failure the module lists the keys, deletes a key the
        failed create may have made (its secret was lost) and creates again, up to O(max_retries) more times with
        the same jittered backoff.
      - V(0) disables retries.
    type: int
    default: 3
requirements:
  - requests (in the Python that runs the module; usually the controller's, or the execution environment's)
notes:
  - The modules run where the task runs, usually C(localhost). Set C(ansible_python_interpreter) for that host
    to a Python that has C(requests) installed (for example the virtualenv Ansible runs from,
    V({{ ansible_playbook_python }})).
  - All modules of this collection belong to the action group C(flashback.platform.flashback), so connection
    options can be set once with C(module_defaults).
  - A proxy set by E(HTTPS_PROXY), E(HTTP_PROXY) or E(ALL_PROXY) (E(NO_PROXY) honoured) is used, and the module
    warns naming it (without any credentials it holds), because the bearer token passes through it. Errors about
    an answer that may be the proxy's own name the proxy too. Set E(NO_PROXY) to the API host to connect directly.
  - The server is not trusted with the output. Text it sends (error messages, key and repository names) is cut
    to one printable line before it is put into a message, and names with control characters are returned with
    those characters written as escapes (C(\x1b)). The token and every secret minted in the run are masked
    in messages and warnings, even when the server echoes them; no warning carries server text.
'''

    REPOSITORY = r'''
options:
  repo_id:
    description:
      - ID of the repository.
      - Exactly one of O(repo_id) and O(repo_name) is required.
    type: str
  repo_name:
    description:
      - Name of the repository, resolved to its ID with one C(GET /repo).
      - Fails if no repository or more than one repository visible to the token has this name.
      - Exactly one of O(repo_id) and O(repo_name) is required.
    type: str
'''
