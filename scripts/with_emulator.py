#!/usr/bin/env python
"""Run a command against a freshly started Flashback emulator, then always stop the emulator.

usage: with_emulator.py [--vars-file FILE] [--log FILE] -- COMMAND [ARG...]

The emulator listens on a free port (port 0) and writes its URL to a file; we wait for that file
rather than parse stdout so a chatty emulator cannot confuse us. With --vars-file, the URL and the
emulator's fixed test tokens are written as Ansible variables (the shape ansible-test reads from
tests/integration/integration_config.yml, also usable as `-e @FILE`). The URL is also exported to
COMMAND as FLASHBACK_EMULATOR_URL; deliberately not as FLASHBACK_API_URL/FLASHBACK_API_TOKEN, which
the modules read and which would leak into tests of their env-var fallbacks.
Exits with COMMAND's exit code.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EMULATOR = os.path.join(ROOT, 'emulator', 'flashback_emulator.py')
START_TIMEOUT = 20  # seconds; the emulator starts in well under one
STOP_TIMEOUT = 10

# Tokens seeded by the emulator: admin (all repos) and one scoped to repo r1 only.
TEST_VARS = {
    'flashback_api_token': 'fb-test-admin-token',
    'flashback_r1_token': 'fb-test-r1-token',
    # Only for tests of the FLASHBACK_API_TOKEN fallback: leak audits tolerate it on EXEC lines.
    'flashback_env_token': 'fb-test-env-token',
}


class Stop(Exception):
    """Raised by the SIGTERM/SIGHUP handler so that `finally` stops the emulator."""


def on_signal(signum, frame):  # pylint: disable=unused-argument
    raise Stop(signum)


def wait_for_url(proc, url_file, log_path):
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if os.path.exists(url_file):  # written atomically, so complete once it exists
            with open(url_file, encoding='utf-8') as f:
                url = f.read().strip()
            if url:
                return url
        if proc.poll() is not None:
            fail('emulator exited with code %s before writing its URL' % proc.returncode, log_path)
        time.sleep(0.1)
    fail('emulator wrote no URL within %d s' % START_TIMEOUT, log_path)
    return None  # not reached


def fail(message, log_path):
    with open(log_path, encoding='utf-8', errors='replace') as f:
        sys.stderr.write('--- %s ---\n%s' % (log_path, f.read()))
    raise SystemExit('with_emulator: %s (log above)' % message)


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def write_vars(path, url):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        f.write('# Written by scripts/with_emulator.py for one emulator run.\n')
        for name, value in [('flashback_api_url', url)] + sorted(TEST_VARS.items()):
            f.write('%s: %s\n' % (name, value))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--vars-file', help='write flashback_api_url and the test tokens here')
    parser.add_argument('--log', default=os.path.join(ROOT, 'build', 'emulator.log'),
                        help='emulator stdout/stderr (default: build/emulator.log)')
    parser.add_argument('command', nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ['--'] else args.command
    if not command:
        parser.error('no command given')
    if not os.path.exists(EMULATOR):
        raise SystemExit('with_emulator: %s does not exist' % EMULATOR)

    os.makedirs(os.path.dirname(args.log), exist_ok=True)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    with tempfile.TemporaryDirectory(prefix='flashback-emulator-') as tmp, \
            open(args.log, 'w', encoding='utf-8') as log:
        url_file = os.path.join(tmp, 'url')
        proc = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, EMULATOR, '--port', '0', '--url-file', url_file],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = wait_for_url(proc, url_file, args.log)
            print('with_emulator: emulator at %s (log: %s)' % (url, args.log), flush=True)
            if args.vars_file:
                write_vars(args.vars_file, url)
            env = dict(os.environ, FLASHBACK_EMULATOR_URL=url)
            return subprocess.call(command, env=env)
        except KeyboardInterrupt:
            return 128 + signal.SIGINT
        except Stop as stopped:
            return 128 + stopped.args[0]
        finally:
            stop(proc)


if __name__ == '__main__':
    sys.exit(main())
