#!/usr/bin/env python
"""Copy the collection's source files into DEST, replacing whatever DEST held.

usage: make_tree.py SRC DEST    (DEST ends in ansible_collections/flashback/platform)

ansible-test only runs inside .../ansible_collections/NAMESPACE/NAME/, and its sanity tests scan
every file there, ignored or not. So the copy holds exactly what git would commit (tracked files
plus untracked, non-ignored ones): no venvs, build output or stale tests/output from earlier runs.
Outside a git checkout, it copies everything except the usual generated directories.

DEST gets an empty git repository of its own: ansible-test lists files with git when it finds a .git
directory, walking up; without one it would find the enclosing checkout, where DEST is ignored, and
see no files at all. With it, the copied .gitignore also hides ansible-test's own output.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

# Used only outside a git checkout, where .gitignore cannot be asked.
SKIP_ANYWHERE = {'.git', '__pycache__', '.pytest_cache', '.hypothesis'}
SKIP_AT_ROOT = {'venv', 'build', 'dist', '.ansible', 'tests/output', 'tests/integration/inventory',
                'tests/integration/integration_config.yml'}


def git_files(src):
    try:
        out = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
                             cwd=src, check=True, capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return [name for name in out.decode('utf-8').split('\0') if name]


def skipped(rel):
    name = os.path.basename(rel)
    return name in SKIP_ANYWHERE or name.endswith('.pyc') or rel in SKIP_AT_ROOT or rel.startswith('.venv')


def walked_files(src):
    for top, dirs, files in os.walk(src):
        rel_top = os.path.relpath(top, src)
        dirs[:] = [d for d in dirs if not skipped(os.path.normpath(os.path.join(rel_top, d)))]
        for name in files:
            rel = os.path.normpath(os.path.join(rel_top, name))
            if not skipped(rel):
                yield rel


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    src, dest = (os.path.abspath(arg) for arg in sys.argv[1:])
    if os.path.commonpath([src, dest]) == dest:
        raise SystemExit('make_tree: DEST must not contain SRC')
    files = git_files(src)
    if files is None:
        files = list(walked_files(src))
    shutil.rmtree(dest, ignore_errors=True)
    for rel in files:
        source = os.path.join(src, rel)
        if not os.path.lexists(source):  # tracked but deleted in the work tree
            continue
        target = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)  # keep symlinks: sanity checks them
    try:
        subprocess.run(['git', 'init', '--quiet', dest], check=True)
    except OSError:
        pass  # no git at all: then no enclosing checkout can be listed with it either
    print('make_tree: %d files in %s' % (len(files), dest))


if __name__ == '__main__':
    main()
