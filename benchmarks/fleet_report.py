"""Benchmark the fleet report against a single-repository info run, side by side against one emulator.

usage: python benchmarks/fleet_report.py [--repos 100] [--keys-per-repo 20] [--rounds 5] [--latency 0]
                                         [--quick] [--no-loop] [--collections DIR] [--markdown FILE]

Run it with the Python of the venv `make venv collection` builds (.venv/bin/python): that Python runs
the modules (it has `requests`), its ansible-playbook runs the playbooks, and build/collections (or
--collections) holds the installed collection. One emulator, started here, holds --repos repositories
with --keys-per-repo keys each (ages spread over 0-199 days, one retiring key in every tenth
repository). Each playbook is a separate ansible-playbook run on localhost; its wall time is the whole
run, start-up included:
  - single: flashback_repo_apikey_info on one repository by repo_id (one listing, one GET /repo?repoId= for
    its name), the baseline;
  - fleet: flashback_repo_apikey_info without a repository, max_age_days 90 (one GET /repo, one listing
    per repository, 4 at a time: the module's default concurrency);
  - fleet, concurrency 1: the same, one repository at a time (what the thread pool saves);
  - report role: flashback.platform.apikey_report, which runs the fleet report, sorts it and writes the
    Markdown and CSV files; and the role without file paths (the fleet report, sorted, no files), which
    splits the role's time into the report and the two file writes;
  - info loop: flashback_repo_apikey_info looped over the repository IDs, what a fleet report cost
    before (one module run per repository; --no-loop skips it);
  - empty: an empty play (ansible-playbook start-up).
With --latency S, every API request waits S seconds in the emulator before it is answered (its `slow`
fault), a stand-in for the round trip to a remote API. Each module playbook asserts that it got every key it
should; after each report role run the script
checks the CSV: one row per key, in urgency order. The emulator's request log counts each run's
requests by kind and, timestamped by this script, gives the window from the first to the last request.
Exits 1 when the target of issue 12 (the fleet report within 2 x the single-repository run) is missed, a run
made other requests than it should, or returned the wrong keys (--quick: a smoke test on 20 repositories,
where the time target is shown but not judged). The role's time is shown beside it, not judged: beyond the
fleet report it pays Ansible's cost of writing two files (a stat and a copy module run each).
"""

from __future__ import annotations

import argparse
import collections
import csv
import datetime
import functools
import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'emulator'))
from flashback_emulator import Backend, Emulator  # noqa: E402  pylint: disable=wrong-import-position
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _bench import ansible_core_version, cpu_model, git_commit, median  # noqa: E402  pylint: disable=wrong-import-position
import _bench  # noqa: E402  pylint: disable=wrong-import-position

# reconcile.py needs only the standard library: load it from the source tree for the retiring-name format.
_SPEC = importlib.util.spec_from_file_location('reconcile', os.path.join(ROOT, 'plugins', 'module_utils', '_reconcile.py'))
reconcile = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(reconcile)

TOKEN = 'fb-bench-token'
ACCESS = ('READ', 'WRITE', 'ADMIN')
MAX_AGE_DAYS = 90
# Target of issue 12: the fleet report within 2 x a single-repository info run (whole ansible-playbook wall time).
MAX_FLEET_FACTOR = 2.0
QUICK = dict(repos=20, keys_per_repo=10, rounds=3)

LIST_REPOS, LIST_KEYS = 'GET /repo', 'GET /repo/{id}/apikey'
REPO_BY_ID = 'GET /repo?repoId='  # one repository's name, for a run by repo_id
REQUEST_ORDER = [LIST_REPOS, REPO_BY_ID, LIST_KEYS]

# The shared helpers, with this benchmark's request kinds (and precision).
format_counts = functools.partial(_bench.format_counts, order=REQUEST_ORDER)
format_runs = functools.partial(_bench.format_runs, order=REQUEST_ORDER)


def seconds(value, digits=2):
    return _bench.seconds(value, digits)


PLAYBOOKS = {
    'single': '''
- name: List the keys of one repository
  hosts: localhost
  gather_facts: false
  tasks:
    - name: List one repository
      flashback.platform.flashback_repo_apikey_info:
        api_url: "{{ flashback_api_url }}"
        api_token: "{{ flashback_api_token }}"
        repo_id: "{{ bench_repo_ids[0] }}"
        max_age_days: %(max_age)d
      register: bench_info

    - name: Check that every key came back
      ansible.builtin.assert:
        that: bench_info.apikeys | length == bench_keys_per_repo
        quiet: true
''' % dict(max_age=MAX_AGE_DAYS),
    'fleet': '''
- name: Report every key of every repository
  hosts: localhost
  gather_facts: false
  tasks:
    - name: List every repository
      flashback.platform.flashback_repo_apikey_info:
        api_url: "{{ flashback_api_url }}"
        api_token: "{{ flashback_api_token }}"
        max_age_days: %(max_age)d
        concurrency: "{{ bench_concurrency }}"
      register: bench_info

    - name: Check that every key came back
      ansible.builtin.assert:
        that: bench_info.apikeys | length == bench_repo_ids | length * bench_keys_per_repo
        quiet: true
''' % dict(max_age=MAX_AGE_DAYS),
    'role': '''
- name: Write the fleet report with the role
  hosts: localhost
  gather_facts: false
  roles:
    - role: flashback.platform.apikey_report
      vars:
        flashback_apikey_report_markdown: "{{ bench_report_dir }}/keys.md"
        flashback_apikey_report_csv: "{{ bench_report_dir }}/keys.csv"
        flashback_apikey_report_max_age_days: %(max_age)d
''' % dict(max_age=MAX_AGE_DAYS),
    'role_nofiles': '''
- name: Sort the fleet report with the role, no files
  hosts: localhost
  gather_facts: false
  roles:
    - role: flashback.platform.apikey_report
      vars:
        flashback_apikey_report_max_age_days: %(max_age)d
  tasks:
    - name: Check that every key came back
      ansible.builtin.assert:
        that: flashback_apikey_report | length == bench_repo_ids | length * bench_keys_per_repo
        quiet: true
''' % dict(max_age=MAX_AGE_DAYS),
    # What a fleet report cost before: one module run per repository.
    'loop': '''
- name: List every repository with an info loop
  hosts: localhost
  gather_facts: false
  tasks:
    - name: List each repository
      flashback.platform.flashback_repo_apikey_info:
        api_url: "{{ flashback_api_url }}"
        api_token: "{{ flashback_api_token }}"
        repo_id: "{{ item }}"
        max_age_days: %(max_age)d
      loop: "{{ bench_repo_ids }}"
      register: bench_info

    - name: Check that every key came back
      ansible.builtin.assert:
        that: bench_info.results | map(attribute='apikeys') | map('length') | sum
          == bench_repo_ids | length * bench_keys_per_repo
        quiet: true
''' % dict(max_age=MAX_AGE_DAYS),
    'empty': '''
- name: Nothing (ansible-playbook start-up)
  hosts: localhost
  gather_facts: false
  tasks: []
''',
}


class Scenario(collections.namedtuple('Scenario', 'label playbook extra expected')):
    """A playbook run: its variables beyond the common ones, and the requests it must make."""


class TimedBackend(Backend):
    """The emulator's backend, with a monotonic timestamp on each logged request (the benchmark's own clock)."""

    def record_request(self, entry):
        super().record_request(dict(entry, t=time.monotonic()))


def iso(moment):
    return moment.strftime('%Y-%m-%dT%H:%M:%S.000Z')


def make_seed(n_repos, keys_per_repo, now):
    """Repositories f001..fNNN with keys of ages 0-199 days (each N days and 12 hours old, so whole days hold
    for the length of the benchmark); the first key of every tenth repository retiring. Also returns
    (repo_id, name, age, retiring) per key."""
    repos = [dict(id='f%03d' % (index + 1), name='fleet-%03d' % (index + 1)) for index in range(n_repos)]
    keys, facts = [], []
    for repo_index, repo in enumerate(repos):
        for key_index in range(keys_per_repo):
            age = (repo_index * keys_per_repo + key_index * 7) % 200
            name = 'key-%02d' % key_index
            retiring = repo_index % 10 == 0 and key_index == 0
            if retiring:
                name = reconcile.retiring_name(name, (now + datetime.timedelta(days=repo_index % 7 + 1)).strftime('%Y-%m-%d'))
            created = now - datetime.timedelta(days=age, hours=12)
            keys.append(dict(repo_id=repo['id'], name=name, accessType=ACCESS[key_index % len(ACCESS)], createdAt=iso(created)))
            facts.append((repo['id'], name, age, retiring))
    return dict(tokens={TOKEN: '*'}, repos=repos, keys=keys), facts


def expected_report(facts):
    """The CSV rows' (repository ID, key name) in the urgency order the role documents."""
    ordered = sorted(facts, key=lambda fact: (fact[0], fact[1]))
    known = sorted((fact for fact in ordered if not fact[3]), key=lambda fact: -fact[2])
    due = [fact for fact in known if fact[2] >= MAX_AGE_DAYS]
    rest = [fact for fact in known if fact[2] < MAX_AGE_DAYS]
    retiring = sorted((fact for fact in ordered if fact[3]), key=lambda fact: reconcile.parse_retiring(fact[1])[1])
    return [(fact[0], fact[1]) for fact in due + retiring + rest]


def request_kind(method, path, query=''):
    if path.rstrip('/') == '/repo' and query.startswith('repoId='):
        return REPO_BY_ID
    return '%s %s' % (method, re.sub(r'^/repo/[^/]+/apikey/?$', '/repo/{id}/apikey', path))


class Run(collections.namedtuple('Run', 'elapsed counts ok http')):
    """One playbook run: wall time, requests by kind, whether it returned what it should, the first-to-last
    request window (None without requests)."""


class Runner:
    """Runs one playbook with its own inventory, config and vars in a temp dir; the token is a var, never env."""

    def __init__(self, workdir, args, emulator, seed_vars, expected_rows):
        self.workdir = workdir
        self.playbook_cmd = args.ansible_playbook
        self.emulator = emulator
        self.seed_vars = seed_vars
        self.expected_rows = expected_rows
        self.report_dir = os.path.join(workdir, 'reports')
        self.latency = args.latency
        with open(os.path.join(workdir, 'inventory.ini'), 'w', encoding='utf-8') as handle:
            handle.write('localhost ansible_connection=local ansible_python_interpreter=%s\n' % args.python)
        with open(os.path.join(workdir, 'ansible.cfg'), 'w', encoding='utf-8') as handle:
            handle.write('# Defaults only: no ansible.cfg of the caller (cwd, home, /etc) changes what is measured.\n')
        for name, text in PLAYBOOKS.items():
            with open(os.path.join(workdir, '%s.yml' % name), 'w', encoding='utf-8') as handle:
                handle.write('---' + text)
        self.env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(workdir, 'ansible.cfg'),
                        ANSIBLE_COLLECTIONS_PATH=args.collections, ANSIBLE_NOCOLOR='1', ANSIBLE_RETRY_FILES_ENABLED='0')
        for name in ('FLASHBACK_API_URL', 'FLASHBACK_API_TOKEN', 'ANSIBLE_COLLECTIONS_PATHS', 'ANSIBLE_CALLBACKS_ENABLED'):
            self.env.pop(name, None)

    def report_ok(self):
        """The role's CSV: a header, then one row per key in urgency order."""
        with open(os.path.join(self.report_dir, 'keys.csv'), encoding='utf-8', newline='') as handle:
            rows = list(csv.reader(handle))
        names = dict((repo['id'], repo['name']) for repo in self.emulator.state()['repos'])
        expected = [['%s (%s)' % (names[repo_id], repo_id), name] for repo_id, name in self.expected_rows]
        return rows[0] == ['repository', 'key', 'access', 'age', 'due', 'retiring'] and [row[:2] for row in rows[1:]] == expected

    def run(self, scenario, log_name):
        self.emulator.backend.clear_requests()
        self.emulator.backend.clear_faults()
        if self.latency:
            self.emulator.backend.add_fault(dict(action='slow', delay=self.latency, times=10 ** 9))
        # Each role run writes both files afresh (the dearer case: a rerun on the same day leaves them as they are),
        # into a directory that exists, as a scheduled report's does.
        shutil.rmtree(self.report_dir, ignore_errors=True)
        os.mkdir(self.report_dir)
        with open(os.path.join(self.workdir, 'vars.json'), 'w', encoding='utf-8') as handle:
            json.dump(dict(self.seed_vars, bench_report_dir=self.report_dir, **scenario.extra), handle)
        log_path = os.path.join(self.workdir, log_name)
        with open(log_path, 'w', encoding='utf-8') as log:
            start = time.monotonic()
            code = subprocess.call([self.playbook_cmd, '-i', 'inventory.ini', '-e', '@vars.json', '%s.yml' % scenario.playbook],
                                   cwd=self.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT)
            end = time.monotonic()
        with open(log_path, encoding='utf-8') as log:
            output = log.read()
        # A failed assert (keys missing) fails the playbook: that is a wrong run, not a crash of the benchmark.
        recap = re.search(r'^localhost\s+:\s+ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=0', output, re.MULTILINE)
        if code != 0 and not recap and 'Assertion failed' not in output:
            raise SystemExit('%s playbook failed (exit %d); its output:\n%s' % (scenario.playbook, code, output[-4000:]))
        ok = code == 0 and (recap is not None or scenario.playbook == 'empty')
        if ok and scenario.playbook == 'role':
            ok = self.report_ok()
        requests = self.emulator.requests
        counts = collections.Counter(request_kind(entry['method'], entry['path'], entry.get('query', '')) for entry in requests)
        http = max(entry['t'] for entry in requests) - min(entry['t'] for entry in requests) if requests else None
        return Run(end - start, counts, ok, http)


def scenarios_for(n_repos):
    listings = collections.Counter({LIST_REPOS: 1, LIST_KEYS: n_repos})
    return {
        'single': Scenario('single repository (repo_id)', 'single', {}, collections.Counter({LIST_KEYS: 1, REPO_BY_ID: 1})),
        'fleet': Scenario('fleet report, concurrency 4 (default)', 'fleet', dict(bench_concurrency=4), listings),
        'fleet_c1': Scenario('fleet report, concurrency 1', 'fleet', dict(bench_concurrency=1), listings),
        'role': Scenario('apikey_report role (fleet report + Markdown + CSV)', 'role', {}, listings),
        'role_nofiles': Scenario('apikey_report role without file paths', 'role_nofiles', {}, listings),
        'loop': Scenario('info module looped over the repositories', 'loop', {}, collections.Counter({LIST_KEYS: n_repos, REPO_BY_ID: n_repos})),
        'empty': Scenario('empty playbook (ansible-playbook start-up)', 'empty', {}, collections.Counter()),
    }


FIGURE_ORDER = ('single', 'fleet', 'fleet_c1', 'role', 'role_nofiles', 'loop', 'empty')


def report(args, scenarios, results, checks, load_before, elapsed_total, commit):
    """The results as Markdown: machine, timings with ratios and requests, the targets."""
    single = median(results['single'])
    startup = median(results['empty'])
    lines = [
        '_%s, checkout at commit %s when the benchmark started; ansible-core %s, Python %s, %d CPU cores (%s), '
        '1-min load average %.1f before and %.1f after; %d repositories × %d keys = %d keys; %s; whole benchmark %.0f s._' % (
            datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z'), commit, ansible_core_version(args.ansible_playbook),
            platform.python_version(), os.cpu_count(), cpu_model(), load_before, os.getloadavg()[0], args.repos,
            args.keys_per_repo, args.repos * args.keys_per_repo,
            'each request delayed %g s (--latency)' % args.latency if args.latency else 'no added latency', elapsed_total),
        '',
        '| run | runs | median wall time | × single repository | less start-up | HTTP (first → last request) | HTTP requests |',
        '|---|---|---|---|---|---|---|',
    ]
    for name in FIGURE_ORDER:
        runs = results.get(name)
        if not runs:
            lines.append('| %s | 0 | not run (--no-loop) | | | | |' % scenarios[name].label)
            continue
        wall = median(runs)
        lines.append('| %s | %d | %s | %s | %s | %s | %s |' % (
            scenarios[name].label, len(runs), seconds(wall), '%.2f' % (wall / single),
            seconds(wall - startup) if name != 'empty' else '–', seconds(median(runs, 'http'), digits=3), format_runs(runs)))
    lines += ['', '| target | result | measured |', '|---|---|---|']
    lines += ['| %s | %s | %s |' % (target, 'PASS' if ok else 'FAIL' if ok is False else 'not judged (--quick)', measured)
              for target, ok, measured in checks]
    role, bare, fleet = median(results['role']), median(results['role_nofiles']), median(results['fleet'])
    lines += ['', 'Not judged: the role takes %s, %.2f × the single-repository run: the fleet report (%s), sorting and '
              'publishing it (role without file paths − fleet report: %s), and writing the two files (role − role '
              'without file paths: %s).' % (seconds(role), role / single, seconds(fleet), seconds(bare - fleet),
                                            seconds(role - bare))]
    return '\n'.join(lines) + '\n'


def parse_args():
    venv_bin = os.path.dirname(sys.executable)
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--repos', type=int, help='repositories (default 100; --quick 20)')
    parser.add_argument('--keys-per-repo', type=int, help='keys in each repository (default 20; --quick 10)')
    parser.add_argument('--rounds', type=int, help='runs of each playbook but the loop, interleaved; the median counts '
                                                   '(default 5; --quick 3)')
    parser.add_argument('--no-loop', action='store_true', help='skip the info loop (one module run per repository)')
    parser.add_argument('--latency', type=float, default=0.0,
                        help='seconds every API request waits in the emulator before its answer (default 0)')
    parser.add_argument('--quick', action='store_true', help='smoke test: 20 repositories × 10 keys, time target not judged')
    parser.add_argument('--markdown', metavar='FILE', help='also write the results as Markdown to FILE')
    parser.add_argument('--collections', default=os.environ.get('ANSIBLE_COLLECTIONS_PATH', os.path.join(ROOT, 'build', 'collections')),
                        help='directory holding ansible_collections/flashback/platform (default: build/collections)')
    parser.add_argument('--python', default=sys.executable, help='ansible_python_interpreter (default: this Python)')
    parser.add_argument('--ansible-playbook', default=shutil.which('ansible-playbook', path=venv_bin) or shutil.which('ansible-playbook'),
                        help="ansible-playbook to run (default: the one beside this Python's, else from PATH)")
    args = parser.parse_args()
    defaults = QUICK if args.quick else dict(repos=100, keys_per_repo=20, rounds=5)
    args.repos = args.repos or defaults['repos']
    args.keys_per_repo = args.keys_per_repo or defaults['keys_per_repo']
    args.rounds = args.rounds or defaults['rounds']
    if not args.ansible_playbook:
        parser.error('ansible-playbook not found; run this with the Python of `make venv` (.venv/bin/python)')
    if not os.path.isdir(os.path.join(args.collections, 'ansible_collections', 'flashback', 'platform')):
        parser.error('%s holds no flashback.platform; run `make collection` or pass --collections' % args.collections)
    if args.repos < 1 or args.keys_per_repo < 1 or args.rounds < 1 or args.latency < 0:
        parser.error('--repos, --keys-per-repo and --rounds must be 1 or more, --latency 0 or more')
    return args


def measure(args, scenarios):
    """Interleaved rounds of every playbook (the loop only in the first), against one emulator."""
    now = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=time.time())  # naive UTC, like the module
    seed, facts = make_seed(args.repos, args.keys_per_repo, now)
    seed_vars = dict(flashback_api_url=None, flashback_api_token=TOKEN, bench_repo_ids=[repo['id'] for repo in seed['repos']],
                     bench_keys_per_repo=args.keys_per_repo)
    results = collections.defaultdict(list)
    emulator = Emulator(backend=TimedBackend(seed))
    seed_vars['flashback_api_url'] = emulator.start()
    try:
        with tempfile.TemporaryDirectory(prefix='flashback-fleet-bench-') as workdir:
            runner = Runner(workdir, args, emulator, seed_vars, expected_report(facts))
            for round_index in range(args.rounds):
                for name in FIGURE_ORDER:
                    if name == 'loop' and (args.no_loop or round_index > 0):
                        continue
                    print('%-55s run %d ...' % (scenarios[name].label, round_index + 1), end=' ', flush=True)
                    run = runner.run(scenarios[name], '%s-%d.log' % (name, round_index))
                    print('%.2f s, %s%s' % (run.elapsed, format_counts(run.counts), '' if run.ok else ' (WRONG RESULT)'), flush=True)
                    results[name].append(run)
    finally:
        emulator.stop()
    return results


def main():
    args = parse_args()
    started = time.monotonic()
    commit = git_commit()  # now: the checkout can move while the benchmark runs
    scenarios = scenarios_for(args.repos)
    load_before = os.getloadavg()[0]
    results = measure(args, scenarios)

    def judged(ok):
        # At --quick's size the fleet is small, so the time target (set for 100 × 20) is shown but not judged.
        return None if args.quick else ok

    single = median(results['single'])
    checks = []
    factor = median(results['fleet']) / single
    checks.append(('%s: wall time <= %.1f × the single-repository run' % (scenarios['fleet'].label, MAX_FLEET_FACTOR),
                   judged(factor <= MAX_FLEET_FACTOR), '%s / %s = %.2f' % (seconds(median(results['fleet'])), seconds(single), factor)))
    for name in FIGURE_ORDER:
        if results.get(name) and scenarios[name].expected is not None:
            expected = scenarios[name].expected
            checks.append(('%s: requests == %s' % (scenarios[name].label, format_counts(expected)),
                           all(run.counts == expected for run in results[name]), format_runs(results[name])))
    wrong = [scenarios[name].label for name in FIGURE_ORDER if not all(run.ok for run in results.get(name, []))]
    checks.append(('every run returned every key (the role: one CSV row per key, in urgency order)', not wrong,
                   'NOT: %s' % ', '.join(wrong) if wrong else 'yes'))

    text = report(args, scenarios, results, checks, load_before, time.monotonic() - started, commit)
    print('\n' + text)
    if args.markdown:
        with open(args.markdown, 'w', encoding='utf-8') as handle:
            handle.write(text)
    failed = [check[0] for check in checks if check[1] is False]
    print('FAIL: %s' % '; '.join(failed) if failed else
          'PASS: all targets met' + (' but the time target, which --quick does not judge' if args.quick else ''))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
