#!/usr/bin/env python
"""Run ansible-test sanity, units and integration on several ansible-core versions.

usage: matrix.py [--versions 2.16,2.17,...] [--stages ...] [--only STAGE=VERSIONS ...] [--jobs N]
                 [--integration-targets T1,T2,...]

Each ansible-core version gets its own virtualenv and HOME under .venv-matrix/ (kept between runs: the
venv is reinstalled only when tests/requirements-matrix.txt or the version changes). Each (version,
stage) is a job with its own copy of the sources under build/matrix/<version>/<stage>/ (ansible-test
writes tests/output there), its own emulator for integration and its own log,
build/matrix/<version>/<stage>.log. Jobs run --jobs at a time (default 2: one per core), the longest
first; a version's setup runs once, before its first job. Prints a line per finished job and a table
at the end; exits non-zero if any job failed.

ansible-core 2.20 and later need Python >= 3.12: the interpreter for each version is looked up as
pythonX.Y on PATH (if it runs) and then in pyenv's versions directory.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENVS = os.path.join(ROOT, '.venv-matrix')
BUILD = os.path.join(ROOT, 'build', 'matrix')
REQUIREMENTS = os.path.join(ROOT, 'tests', 'requirements-matrix.txt')

# ansible-core version -> the Python its tests run on (the controller Pythons it supports).
PYTHON_FOR = {
    '2.16': '3.11',
    '2.17': '3.11',
    '2.18': '3.11',
    '2.19': '3.11',
    '2.20': '3.12',
    '2.21': '3.13',
}
STAGES = ('sanity', 'units', 'integration')
# Rough seconds per stage (measured on 2 cores, cold), to start the longest jobs first.
STAGE_COST = {'sanity': 140, 'units': 30, 'integration': 230}
PRINT_LOCK = threading.Lock()
# --integration-targets: the integration stage runs only these (all when empty).
INTEGRATION_TARGETS = []


def say(message):
    with PRINT_LOCK:
        print(message, flush=True)


def find_python(version):
    """An interpreter for Python `version` that actually starts (pyenv shims may not)."""
    name = 'python' + version
    candidates = [shutil.which(name)]
    pyenv_root = os.environ.get('PYENV_ROOT', os.path.expanduser('~/.pyenv'))
    candidates += sorted(glob.glob(os.path.join(pyenv_root, 'versions', version + '.*', 'bin', name)), reverse=True)
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, '-c', 'import sys, venv; print("%d.%d" % sys.version_info[:2])'],
                               capture_output=True, text=True, check=False)
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    raise RuntimeError('no working %s on PATH or under %s/versions' % (name, pyenv_root))


class Version:
    """One ansible-core version: its venv and HOME (set up once, kept between runs) and its stages."""

    def __init__(self, core, stages):
        self.core = core
        self.python = PYTHON_FOR[core]
        self.stages = stages
        self.venv = os.path.join(VENVS, 'ansible-core-' + core)
        self.bin = os.path.join(self.venv, 'bin')
        self.dir = os.path.join(BUILD, core)
        self.timings = {}  # stage -> (seconds, ok)
        self.setup_lock = threading.Lock()
        self.setup_result = None  # None: not tried yet; else the StageFailed/RuntimeError or True
        # ansible-test keeps its sanity venvs, SSH key and pip bootstrap script under ~/.ansible/test, the
        # venvs named by Python version and requirements: two cores with the same Python running at once
        # would rebuild each other's venvs mid-test. So each version gets a HOME of its own (kept, like the
        # venv), prepared in setup() before any of its stages runs (scripts/ansible_test_home.py).
        self.home = os.path.join(VENVS, 'home-' + core)
        # Modules in integration tests run with pythonX.Y from PATH: the venv's, which has requests.
        self.env = dict(os.environ, PATH=self.bin + os.pathsep + os.environ['PATH'], HOME=self.home,
                        PIP_CACHE_DIR=os.environ.get('PIP_CACHE_DIR', os.path.expanduser('~/.cache/pip')))
        pyenv_root = os.environ.get('PYENV_ROOT', os.path.expanduser('~/.pyenv'))
        if os.path.isdir(pyenv_root):  # pyenv's shims on PATH find their root through HOME otherwise
            self.env['PYENV_ROOT'] = pyenv_root
        for name in ('ANSIBLE_COLLECTIONS_PATH', 'ANSIBLE_COLLECTIONS_PATHS', 'VIRTUAL_ENV', 'PYTHONPATH'):
            self.env.pop(name, None)

    def tree(self, stage):
        # Each stage its own copy: ansible-test writes tests/output into it, and stages run in parallel.
        return os.path.join(self.dir, stage, 'ansible_collections', 'flashback', 'platform')

    def run(self, stage, argv, cwd=ROOT):
        log = os.path.join(self.dir, stage + '.log')
        with open(log, 'a', encoding='utf-8') as out:
            out.write('$ %s\n' % ' '.join(argv))
            out.flush()
            code = subprocess.call(argv, cwd=cwd, env=self.env, stdin=subprocess.DEVNULL,
                                   stdout=out, stderr=subprocess.STDOUT)
        if code:
            raise StageFailed('%s exited %d (log: %s)' % (argv[0], code, os.path.relpath(log, ROOT)))

    def stamp(self):
        with open(REQUIREMENTS, 'rb') as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        return 'ansible-core==%s.* python%s %s\n' % (self.core, self.python, digest)

    def setup(self):
        """The venv (unless its stamp says it is current) and the offline pip bootstrap script."""
        stamp_file = os.path.join(self.venv, '.matrix-stamp')
        current = False
        if os.path.exists(stamp_file):
            with open(stamp_file, encoding='utf-8') as f:
                current = f.read() == self.stamp()
        if not current:
            shutil.rmtree(self.venv, ignore_errors=True)
            self.run('setup', [find_python(self.python), '-m', 'venv', self.venv])
            self.run('setup', [os.path.join(self.bin, 'python'), '-m', 'pip', 'install', '--quiet', '--progress-bar',
                               'off', 'ansible-core==%s.*' % self.core, '-r', REQUIREMENTS])
            with open(stamp_file, 'w', encoding='utf-8') as f:
                f.write(self.stamp())
        # The HOME's SSH key and offline pip bootstrap script, before this version's stages start at once.
        self.run('setup', [sys.executable, os.path.join(ROOT, 'scripts', 'ansible_test_home.py'), self.home,
                           '--python', os.path.join(self.bin, 'python')])

    def ensure_setup(self):
        """Set up once, whichever stage comes first; later stages wait for it and share its outcome."""
        with self.setup_lock:
            if self.setup_result is None:
                try:
                    self.timed('setup', self.setup)
                    self.setup_result = True
                except (StageFailed, RuntimeError) as exc:
                    self.setup_result = exc
        if self.setup_result is not True:
            raise StageFailed('setup failed: %s' % self.setup_result)

    def copy_tree(self, stage):
        self.run(stage, [sys.executable, os.path.join(ROOT, 'scripts', 'make_tree.py'), ROOT, self.tree(stage)])
        return self.tree(stage)

    def sanity(self):
        tree = self.copy_tree('sanity')
        self.run('sanity', ['ansible-test', 'sanity', '--python', self.python, '--local', '--color', 'no'], cwd=tree)
        self.check_skips('sanity')

    def units(self):
        tree = self.copy_tree('units')
        self.run('units', ['ansible-test', 'units', '--python', self.python, '--local', '--color', 'no'], cwd=tree)
        self.run('units', [sys.executable, os.path.join(ROOT, 'scripts', 'check_junit.py'),
                           os.path.join(tree, 'tests', 'output', 'junit')])
        self.check_skips('units')

    def integration(self):
        tree = self.copy_tree('integration')
        listed = subprocess.run(['ansible-test', 'integration', '--list-targets'], cwd=tree, env=self.env,
                                capture_output=True, text=True, check=False)
        if listed.returncode or not listed.stdout.strip():  # a stage that tests nothing must fail
            raise StageFailed('no integration targets found')
        unknown = sorted(set(INTEGRATION_TARGETS) - set(listed.stdout.split()))
        if unknown:
            raise StageFailed('--integration-targets names targets that do not exist: %s' % ', '.join(unknown))
        self.run('integration', [
            sys.executable, os.path.join(ROOT, 'scripts', 'with_emulator.py'),
            '--vars-file', 'tests/integration/integration_config.yml',
            '--log', os.path.join(self.dir, 'emulator.log'), '--',
            'ansible-test', 'integration', '--python', self.python, '--local', '--color', 'no'] + INTEGRATION_TARGETS,
            cwd=tree)
        self.check_skips('integration')

    def check_skips(self, stage):
        # ansible-test passes a stage whose tool is missing, with a warning; we want every test run.
        self.run(stage, [sys.executable, os.path.join(ROOT, 'scripts', 'check_skips.py'), stage,
                         os.path.join(self.dir, '%s.log' % stage)])

    def timed(self, stage, func):
        start = time.monotonic()
        ok = False
        try:
            func()
            ok = True
        finally:
            seconds = time.monotonic() - start
            self.timings[stage] = (seconds, ok)
            say('matrix: ansible-core %s %-11s %5.0f s  %s' % (self.core, stage, seconds, 'ok' if ok else 'FAILED'))

    def run_stage(self, stage):
        try:
            self.ensure_setup()
            self.timed(stage, getattr(self, stage))
        except StageFailed as exc:
            say('matrix: ansible-core %s %s: %s' % (self.core, stage, exc))
            return False
        return True


class StageFailed(Exception):
    pass


def version_list(text):
    versions = [v.strip() for v in text.split(',') if v.strip()]
    unknown = [v for v in versions if v not in PYTHON_FOR]
    if unknown:
        raise argparse.ArgumentTypeError('unknown ansible-core version(s) %s; known: %s'
                                         % (', '.join(unknown), ', '.join(PYTHON_FOR)))
    return versions


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--versions', type=version_list, default=list(PYTHON_FOR),
                        help='ansible-core versions (default: all of %(default)s)')
    parser.add_argument('--only', action='append', default=[], metavar='STAGE=VERSIONS',
                        help='run STAGE only on these versions, e.g. sanity=2.16,2.21 (repeatable)')
    parser.add_argument('--stages', type=lambda s: [x for x in s.split(',') if x], default=list(STAGES),
                        help='stages to run, in order (default: %s)' % ','.join(STAGES))
    parser.add_argument('--jobs', type=int, default=2, help='versions run at once (default: 2)')
    parser.add_argument('--integration-targets', type=lambda s: [x for x in s.split(',') if x], default=[],
                        help='integration targets to run (default: all)')
    args = parser.parse_args()
    INTEGRATION_TARGETS[:] = args.integration_targets
    bad = [s for s in args.stages if s not in STAGES]
    if bad:
        parser.error('unknown stage(s): %s' % ', '.join(bad))
    only = {}
    for spec in args.only:
        stage, dummy, versions = spec.partition('=')
        if stage not in STAGES:
            parser.error('--only %s: unknown stage %r' % (spec, stage))
        try:
            only[stage] = version_list(versions)
        except argparse.ArgumentTypeError as exc:
            parser.error('--only %s: %s' % (spec, exc))

    runs = []
    for core in args.versions:
        runs.append(Version(core, [s for s in args.stages if core in only.get(s, [core])]))
    for run in runs:
        # Only what this run redoes: make test runs a version's stages in separate calls (matrix-ci-*).
        for stage in ['setup'] + run.stages:
            shutil.rmtree(os.path.join(run.dir, stage), ignore_errors=True)
            if os.path.exists(os.path.join(run.dir, stage + '.log')):
                os.remove(os.path.join(run.dir, stage + '.log'))
        os.makedirs(run.dir, exist_ok=True)
        os.makedirs(run.home, exist_ok=True)
    # Every (version, stage) is a job of its own, longest first, so that the two cores stay busy.
    jobs = sorted(((run, stage) for run in runs for stage in run.stages), key=lambda job: -STAGE_COST[job[1]])
    start = time.monotonic()
    planned = ', '.join('%s (%s)' % (r.core, '+'.join(r.stages)) for r in runs)
    say('matrix: %s with %d job(s) at once' % (planned, args.jobs))
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(lambda job: job[0].run_stage(job[1]), jobs))
    total = time.monotonic() - start

    print('\n== matrix: ansible-core x stage, seconds (logs: build/matrix/<version>/<stage>.log)')
    print('%-8s %-7s %s' % ('core', 'python', '  '.join('%-14s' % s for s in ('setup',) + STAGES)))
    for run in runs:
        cells = {stage: '%5.0f %s' % (sec, 'ok' if ok else 'FAILED') for stage, (sec, ok) in run.timings.items()}
        print('%-8s %-7s %s' % (run.core, run.python,
                                '  '.join('%-14s' % cells.get(s, '    -') for s in ('setup',) + STAGES)))
    print('matrix: %d of %d jobs passed in %.0f s' % (sum(results), len(results), total))
    return 0 if all(results) else 1


if __name__ == '__main__':
    sys.exit(main())
