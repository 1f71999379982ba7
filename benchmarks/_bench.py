"""What the benchmarks share: medians, formatting of times and request counts, the machine's description.

Imported by role_converge.py and fleet_report.py (run from this directory's parent or anywhere: each script
puts benchmarks/ on sys.path first).
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def median(runs, field='elapsed'):
    values = [getattr(run, field) for run in runs if getattr(run, field) is not None]
    return statistics.median(values) if values else None


def seconds(value, digits=1):
    return '–' if value is None else '%.*f s' % (digits, value)


def format_counts(counts, order):
    """Request counts by kind, the kinds in ``order`` first."""
    kinds = [kind for kind in order if counts[kind]] + sorted(kind for kind in set(counts) - set(order) if counts[kind])
    return ', '.join('%s: %d' % (kind, counts[kind]) for kind in kinds) or 'none'


def format_runs(runs, order):
    """The request counts of a scenario's runs; they should be the same in every run."""
    distinct = []
    for run in runs:
        if run.counts not in distinct:
            distinct.append(run.counts)
    return ' / '.join(format_counts(counts, order) for counts in distinct) + (
        ' (differs between runs)' if len(distinct) > 1 else '')


def git_commit():
    try:
        commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=ROOT, check=True, capture_output=True,
                                text=True).stdout.strip()
        dirty = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'], cwd=ROOT, check=True,
                               capture_output=True, text=True).stdout.strip()
        return commit + (' + uncommitted changes' if dirty else '')
    except (OSError, subprocess.CalledProcessError):
        return 'unknown'


def cpu_model():
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as cpuinfo:
            found = re.search(r'^model name\s*:\s*(.+)$', cpuinfo.read(), re.MULTILINE)
    except OSError:
        found = None
    return found.group(1).strip() if found else platform.machine()


def ansible_core_version(ansible_playbook):
    out = subprocess.run([ansible_playbook, '--version'], check=True, capture_output=True, text=True).stdout
    found = re.search(r'core ([\w.]+)', out)
    return found.group(1) if found else 'unknown'
