"""Benchmark the repo_apikeys role against per-key loops, side by side against one emulator.

usage: python benchmarks/role_converge.py [--keys 200] [--repos 10] [--repeat 1] [--markdown FILE]

Run it with the Python of the venv `make venv collection` builds (.venv/bin/python): that Python
runs the modules (it has `requests`), its ansible-playbook runs the playbooks, and build/collections
holds the installed collection. Three playbooks do the same no-change reconcile of the seeded keys:
the role, a loop of ansible.builtin.uri (one key listing per key, then a compare), and a loop of
flashback_repo_apikey. The emulator's request log counts the HTTP requests of each run. A fourth run
gives the role real changes and checks it costs the plan's reads plus a re-check and a write per change.
Exits 1 when a target of issue 3 is missed or a run did not converge.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'emulator'))
from flashback_emulator import Emulator  # noqa: E402  pylint: disable=wrong-import-position

TOKEN = 'fb-bench-token'
ACCESS = ('READ', 'WRITE', 'ADMIN')
MAX_RATIO = 0.2
# The role takes seconds, so extra runs of it are cheap and steady its median.
ROLE_MIN_RUNS = 3

LIST_REPOS, LIST_KEYS = 'GET /repo', 'GET /repo/{id}/apikey'
CREATE, UPDATE, DELETE = 'POST /repo/{id}/apikey', 'PUT /repo/{id}/apikey/{key}', 'DELETE /repo/{id}/apikey/{key}'
REQUEST_ORDER = [LIST_REPOS, LIST_KEYS, CREATE, UPDATE, DELETE]
LABELS = {'role': 'role repo_apikeys', 'uri': 'uri loop', 'module': 'flashback_repo_apikey loop',
          'changes': 'role, with changes'}

PLAYBOOKS = {
    'role': '''
- name: Converge the declared keys with the role
  hosts: localhost
  gather_facts: false
  roles:
    - role: flashback.platform.repo_apikeys
''',
    # What a user without the role writes: one GET of the key list per declared key, then a compare.
    # The repository list is read once, for the entries that name their repository.
    'uri': '''
- name: Reconcile the declared keys with a uri loop
  hosts: localhost
  gather_facts: false
  tasks:
    - name: List the repositories
      ansible.builtin.uri:
        url: "{{ flashback_api_url }}/repo"
        headers:
          Authorization: "Bearer {{ flashback_api_token }}"
      register: bench_repos

    - name: List the keys of each declared key's repository
      ansible.builtin.uri:
        url: "{{ flashback_api_url }}/repo/{{ item.repo_id if 'repo_id' in item else bench_repo_ids[item.repo_name] }}/apikey"
        headers:
          Authorization: "Bearer {{ flashback_api_token }}"
      loop: "{{ flashback_repo_apikeys }}"
      loop_control:
        label: "{{ item.name }}"
      register: bench_listings
      vars:
        bench_repo_ids: "{{ bench_repos.json.repos | items2dict(key_name='name', value_name='id') }}"

    - name: Check that each key exists with its access level
      ansible.builtin.assert:
        that: item.json['keys'] | selectattr('name', 'equalto', item.item.name)
          | selectattr('accessType', 'equalto', item.item.access) | list | length == 1
        quiet: true
      loop: "{{ bench_listings.results }}"
      loop_control:
        label: "{{ item.item.name }}"
''',
    'module': '''
- name: Reconcile the declared keys with a module loop
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/flashback.platform.flashback:
      api_url: "{{ flashback_api_url }}"
      api_token: "{{ flashback_api_token }}"
  tasks:
    - name: Ensure each declared key
      flashback.platform.flashback_repo_apikey:
        repo_id: "{{ item.repo_id | default(omit) }}"
        repo_name: "{{ item.repo_name | default(omit) }}"
        name: "{{ item.name }}"
        access: "{{ item.access }}"
        state: "{{ item.state | default('present') }}"
      loop: "{{ flashback_repo_apikeys }}"
      loop_control:
        label: "{{ item.name }}"
''',
}


def make_seed(n_keys, n_repos):
    """Repositories b01..bNN with keys spread evenly and access levels mixed, and the matching declaration."""
    repos = [dict(id='b%02d' % (index + 1), name='bench-%02d' % (index + 1)) for index in range(n_repos)]
    keys, declared = [], []
    for index in range(n_keys):
        repo = repos[index % n_repos]
        name, access = 'key-%03d' % index, ACCESS[index % len(ACCESS)]
        keys.append(dict(repo_id=repo['id'], name=name, accessType=access))
        # The last repository is declared by name, so the plan pays its one GET /repo.
        ref = dict(repo_name=repo['name']) if repo is repos[-1] else dict(repo_id=repo['id'])
        declared.append(dict(ref, name=name, access=access))
    return dict(tokens={TOKEN: '*'}, repos=repos, keys=keys), declared


def with_changes(declared, n_repos):
    """The declaration with access changes, deletions and new keys, and the writes they need."""
    n_update, n_absent, n_create = min(20, len(declared) // 4), min(5, len(declared) // 8), min(10, n_repos)
    changed = [dict(entry) for entry in declared]
    for entry in changed[:n_update]:
        entry['access'] = ACCESS[(ACCESS.index(entry['access']) + 1) % len(ACCESS)]
    for entry in changed[n_update:n_update + n_absent]:
        entry['state'] = 'absent'
    changed += [dict(repo_id='b%02d' % (index % n_repos + 1), name='new-%03d' % index, access='WRITE') for index in range(n_create)]
    writes = collections.Counter({UPDATE: n_update, DELETE: n_absent, CREATE: n_create})
    return changed, writes


def request_kind(method, path):
    path = re.sub(r'^/repo/[^/]+/apikey/[^/]+/?$', '/repo/{id}/apikey/{key}', path)
    path = re.sub(r'^/repo/[^/]+/apikey/?$', '/repo/{id}/apikey', path)
    return '%s %s' % (method, path)


def count_requests(emulator):
    return collections.Counter(request_kind(entry['method'], entry['path']) for entry in emulator.requests)


def converged(emulator, declared):
    """Whether the live keys are exactly the declared present ones (name and access), per repository."""
    repo_ids = dict((repo['name'], repo['id']) for repo in emulator.state()['repos'])
    want = set((entry.get('repo_id') or repo_ids[entry['repo_name']], entry['name'], entry['access'])
               for entry in declared if entry.get('state', 'present') == 'present')
    live = set((key['repo_id'], key['name'], key['accessType']) for key in emulator.state()['keys'] if not key['deleted'])
    return live == want


class Runner:
    """Runs one playbook with its own inventory, config and vars in a temp dir; the token is a var, never env."""

    def __init__(self, workdir, args, url):
        self.workdir = workdir
        self.playbook_cmd = args.ansible_playbook
        self.url = url
        with open(os.path.join(workdir, 'inventory.ini'), 'w', encoding='utf-8') as handle:
            handle.write('localhost ansible_connection=local ansible_python_interpreter=%s\n' % args.python)
        with open(os.path.join(workdir, 'ansible.cfg'), 'w', encoding='utf-8') as handle:
            handle.write('# Defaults only: no ansible.cfg of the caller (cwd, home, /etc) changes what is measured.\n')
        for name, text in PLAYBOOKS.items():
            with open(os.path.join(workdir, '%s.yml' % name), 'w', encoding='utf-8') as handle:
                handle.write('---' + text)
        self.env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(workdir, 'ansible.cfg'),
                        ANSIBLE_COLLECTIONS_PATH=args.collections, ANSIBLE_NOCOLOR='1', ANSIBLE_RETRY_FILES_ENABLED='0')
        for name in ('FLASHBACK_API_URL', 'FLASHBACK_API_TOKEN', 'ANSIBLE_COLLECTIONS_PATHS'):
            self.env.pop(name, None)

    def run(self, playbook, declared, log_name):
        """Wall time in seconds and the PLAY RECAP counters; raises when the playbook fails."""
        vars_file = os.path.join(self.workdir, 'vars.json')
        with open(vars_file, 'w', encoding='utf-8') as handle:
            json.dump(dict(flashback_api_url=self.url, flashback_api_token=TOKEN, flashback_repo_apikeys=declared), handle)
        log_path = os.path.join(self.workdir, log_name)
        with open(log_path, 'w', encoding='utf-8') as log:
            start = time.monotonic()
            code = subprocess.call([self.playbook_cmd, '-i', 'inventory.ini', '-e', '@vars.json', '%s.yml' % playbook],
                                   cwd=self.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT)
            elapsed = time.monotonic() - start
        with open(log_path, encoding='utf-8') as log:
            output = log.read()
        recap = re.search(r'^localhost\s+:\s+(.*)$', output, re.MULTILINE)
        if code != 0 or recap is None:
            raise SystemExit('%s playbook failed (exit %d); its output:\n%s' % (playbook, code, output[-4000:]))
        return elapsed, dict((key, int(value)) for key, value in re.findall(r'(\w+)=(\d+)', recap.group(1)))


def ansible_core_version(ansible_playbook):
    out = subprocess.run([ansible_playbook, '--version'], check=True, capture_output=True, text=True).stdout
    found = re.search(r'core ([\w.]+)', out)
    return found.group(1) if found else 'unknown'


def format_counts(counts):
    kinds = [kind for kind in REQUEST_ORDER if counts[kind]] + sorted(set(counts) - set(REQUEST_ORDER))
    return ', '.join('%s: %d' % (kind, counts[kind]) for kind in kinds) or 'none'


def format_runs(runs):
    """The request counts of a variant's runs; they should be the same in every run."""
    distinct = []
    for counts in runs:
        if counts not in distinct:
            distinct.append(counts)
    return ' / '.join(format_counts(counts) for counts in distinct) + (' (differs between runs)' if len(distinct) > 1 else '')


def git_commit():
    try:
        return subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return 'unknown'


def cpu_model():
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as cpuinfo:
            found = re.search(r'^model name\s*:\s*(.+)$', cpuinfo.read(), re.MULTILINE)
    except OSError:
        found = None
    return found.group(1).strip() if found else platform.machine()


def report(args, timings, counts, checks, load_before):
    """The results as Markdown: machine, timings with ratios and requests, then the targets."""
    role_time = statistics.median(timings['role'])
    lines = [
        # Other work on the machine slows every variant; the load average shows how busy it was.
        '_%s, commit %s; ansible-core %s, Python %s, %d CPU cores (%s), 1-min load average %.1f before and %.1f after; '
        '%d keys in %d repositories._' % (
            datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z'), git_commit(), ansible_core_version(args.ansible_playbook),
            platform.python_version(), os.cpu_count(), cpu_model(), load_before, os.getloadavg()[0], args.keys, args.repos),
        '',
        '| variant | runs | median wall time | role / variant | HTTP requests |',
        '|---|---|---|---|---|',
    ]
    for variant, label in LABELS.items():
        median = statistics.median(timings[variant])
        ratio = '%.3f' % (role_time / median) if variant in ('uri', 'module') else '–'
        lines.append('| %s | %d | %.1f s | %s | %s |' % (label, len(timings[variant]), median, ratio, format_runs(counts[variant])))
    lines += ['', '| target | result | measured |', '|---|---|---|']
    lines += ['| %s | %s | %s |' % (target, 'PASS' if ok else 'FAIL', measured) for target, ok, measured in checks]
    return '\n'.join(lines) + '\n'


def parse_args():
    venv_bin = os.path.dirname(sys.executable)
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--keys', type=int, default=200, help='declared keys, spread over the repositories (default 200)')
    parser.add_argument('--repos', type=int, default=10, help='repositories (default 10)')
    parser.add_argument('--repeat', type=int, default=1,
                        help='runs of each loop playbook; the median counts (default 1: one loop takes a minute or more)')
    parser.add_argument('--markdown', metavar='FILE', help='also write the results as Markdown to FILE')
    parser.add_argument('--collections', default=os.environ.get('ANSIBLE_COLLECTIONS_PATH', os.path.join(ROOT, 'build', 'collections')),
                        help='directory holding ansible_collections/flashback/platform (default: build/collections)')
    parser.add_argument('--python', default=sys.executable, help='ansible_python_interpreter (default: this Python)')
    parser.add_argument('--ansible-playbook', default=shutil.which('ansible-playbook', path=venv_bin) or shutil.which('ansible-playbook'),
                        help="ansible-playbook to run (default: the one beside this Python's, else from PATH)")
    args = parser.parse_args()
    if not args.ansible_playbook:
        parser.error('ansible-playbook not found; run this with the Python of `make venv` (.venv/bin/python)')
    if not os.path.isdir(os.path.join(args.collections, 'ansible_collections', 'flashback', 'platform')):
        parser.error('%s holds no flashback.platform; run `make collection` or pass --collections' % args.collections)
    if args.keys < 2 * args.repos or args.repeat < 1:
        parser.error('need at least two keys per repository and --repeat >= 1')
    return args


def measure(args, seed, declared, changed_declared):
    """Runs every variant against one emulator; per variant: wall times, request counts (per run), converged."""
    timings, counts, converged_ok = collections.defaultdict(list), collections.defaultdict(list), {}
    runs = []
    # Interleaved rounds, so drift in machine load spreads over all variants alike.
    for round_index in range(max(args.repeat, ROLE_MIN_RUNS)):
        runs += [(variant, declared, round_index) for variant in ('role', 'uri', 'module')
                 if variant == 'role' or round_index < args.repeat]
    runs.append(('changes', changed_declared, 0))
    emulator = Emulator(seed)
    url = emulator.start()
    try:
        with tempfile.TemporaryDirectory(prefix='flashback-bench-') as workdir:
            runner = Runner(workdir, args, url)
            for variant, wanted, round_index in runs:
                emulator.backend.reset(seed)  # also clears the request log
                print('%-28s run %d ...' % (LABELS[variant], round_index + 1), end=' ', flush=True)
                elapsed, recap = runner.run('role' if variant == 'changes' else variant, wanted, '%s-%d.log' % (variant, round_index))
                print('%.1f s' % elapsed, flush=True)
                timings[variant].append(elapsed)
                counts[variant].append(count_requests(emulator))
                # A no-change run must report no change; the run with changes must report some.
                ok = converged(emulator, wanted) and bool(recap.get('changed')) == (variant == 'changes')
                converged_ok[variant] = converged_ok.get(variant, True) and ok
    finally:
        emulator.stop()
    return timings, counts, converged_ok


def main():
    args = parse_args()
    seed, declared = make_seed(args.keys, args.repos)
    changed_declared, writes = with_changes(declared, args.repos)
    plan_reads = collections.Counter({LIST_KEYS: args.repos, LIST_REPOS: int(any('repo_name' in entry for entry in declared))})
    # The module re-reads its repository's keys before each write.
    expected_with_changes = plan_reads + writes + collections.Counter({LIST_KEYS: sum(writes.values())})

    load_before = os.getloadavg()[0]
    timings, counts, converged_ok = measure(args, seed, declared, changed_declared)

    role_time = statistics.median(timings['role'])
    checks = []
    for variant in ('uri', 'module'):
        ratio = role_time / statistics.median(timings[variant])
        checks.append(('role / %s <= %.1f' % (LABELS[variant], MAX_RATIO), ratio <= MAX_RATIO, '%.3f' % ratio))
    checks.append(('no-change requests of the role == %s' % format_counts(plan_reads),
                   all(run == plan_reads for run in counts['role']), format_runs(counts['role'])))
    checks.append(('requests with changes == plan reads + per change a re-check and a write (%s)' % format_counts(writes),
                   counts['changes'] == [expected_with_changes], format_runs(counts['changes'])))
    checks.append(('every run converged (state as declared; changed=0 unless changes)', all(converged_ok.values()),
                   ', '.join('%s: %s' % (LABELS[variant], 'yes' if ok else 'NO') for variant, ok in converged_ok.items())))

    text = report(args, timings, counts, checks, load_before)
    print('\n' + text)
    if args.markdown:
        with open(args.markdown, 'w', encoding='utf-8') as handle:
            handle.write(text)
    failed = [check[0] for check in checks if not check[1]]
    print('FAIL: %s' % '; '.join(failed) if failed else 'PASS: all targets met')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
