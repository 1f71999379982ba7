#!/usr/bin/env python
"""Run the integration targets in two lanes at once, each in its own tree with its own emulator.

usage: integration_lanes.py PYTHON_VERSION

The suite is CPU-bound on ansible-playbook and the targets reset their emulator, so they cannot share
one: each lane gets a copy of the collection tree (build/ansible_collections/... and
build/lane-b/ansible_collections/...), an emulator (scripts/with_emulator.py) and a -vvvv log audited by
scripts/leak_audit.py (build/integration.log, build/integration-b.log). Lane B runs LANE_B; lane A runs
every other target, so a new target always runs. Then scripts/check_skips.py checks both logs.
Exits non-zero when a lane fails, after both have finished.
"""

from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, 'build')
TREES = {'a': os.path.join(BUILD, 'ansible_collections', 'flashback', 'platform'),
         'b': os.path.join(BUILD, 'lane-b', 'ansible_collections', 'flashback', 'platform')}
LOGS = {'a': os.path.join(BUILD, 'integration.log'), 'b': os.path.join(BUILD, 'integration-b.log')}
# About half of the suite's time. Measured on 2 cores (s): role_repo_apikeys ~180 and its interruptions ~140,
# flashback_fault_matrix 122, flashback_repo_apikey 116, flashback_hostile_server 113, flashback_repo_apikey_info
# 57, flashback_concurrency 29, flashback_no_leaks 20, flashback_tls 15.
LANE_B = ('role_repo_apikeys_interruptions', 'flashback_fault_matrix', 'flashback_repo_apikey', 'flashback_concurrency')


def script(name):
    return os.path.join(ROOT, 'scripts', name)


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    python_version = sys.argv[1]
    # Both lanes' ansible-test would generate this key at once on a fresh HOME, and the second one fails.
    if not os.path.isfile(os.path.expanduser('~/.ansible/test/id_rsa')):
        raise SystemExit('integration: %s has no ansible-test SSH key yet: run scripts/ansible_test_home.py HOME '
                         'first (make integration does)' % os.path.expanduser('~'))
    for tree in TREES.values():
        subprocess.run([sys.executable, script('make_tree.py'), ROOT, tree], check=True, stdout=subprocess.DEVNULL)
    listed = subprocess.run(['ansible-test', 'integration', '--list-targets'], cwd=TREES['a'], check=True,
                            capture_output=True, text=True).stdout.split()
    unknown = sorted(set(LANE_B) - set(listed))
    if unknown or not listed:
        raise SystemExit('integration: no targets, or LANE_B names targets that do not exist: %s' % unknown)
    lanes = {'a': [target for target in listed if target not in LANE_B], 'b': list(LANE_B)}

    running = {}
    for lane, targets in lanes.items():
        print('integration lane %s: %s' % (lane, ' '.join(targets)), flush=True)
        running[lane] = subprocess.Popen([
            sys.executable, script('with_emulator.py'), '--vars-file', 'tests/integration/integration_config.yml',
            '--log', os.path.join(BUILD, 'emulator-%s.log' % lane), '--',
            sys.executable, script('leak_audit.py'), '--log', LOGS[lane],
            '--vars-file', 'tests/integration/integration_config.yml', '--tolerate', 'flashback_env_token', '--',
            'ansible-test', 'integration', '--python', python_version, '--local', '-vvvv'] + targets,
            cwd=TREES[lane])
    failed = [lane for lane, process in running.items() if process.wait() != 0]
    for lane in lanes:
        if subprocess.run([sys.executable, script('check_skips.py'), 'integration', LOGS[lane]], check=False).returncode:
            failed.append(lane)
    if failed:
        raise SystemExit('integration: lane(s) %s failed (logs: %s)' % (
            ', '.join(sorted(set(failed))), ', '.join(LOGS[lane] for lane in sorted(set(failed)))))
    print('integration: both lanes passed')


if __name__ == '__main__':
    main()
