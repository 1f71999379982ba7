"""Write tests/ecosystem/data/interface-0.1.0.yml: every plugin, role, option and return value 0.1.0 shipped.

0.1.0 is the only release before 1.0.0 (0.2.0 was never released), so anything not in this file was added
after it and needs ``version_added`` (tests/ecosystem/test_version_added.py). Run once per release from the
clone, with the venv's ansible-doc on PATH:

    .venv/bin/python tests/ecosystem/interface_baseline.py 0.1.0 0fab171

It extracts the release's commit (``git archive``) into a temporary ``ansible_collections/`` tree and reads
every plugin's documentation with ``ansible-doc --json``, as antsibull-changelog does, doc fragments resolved.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COLLECTION = 'flashback.platform'
# What ansible-doc documents per content type: the option tree, and (modules) the return value tree.
TYPES = ('module', 'filter', 'test', 'lookup', 'inventory', 'callback', 'connection', 'role')


def ansible_doc(collections, plugin_type, *args):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_NOCOLOR='1')
    out = subprocess.run(['ansible-doc', '-t', plugin_type, '--json'] + list(args), env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def paths(tree, sub, prefix=''):
    """Dotted paths of every entry of an option or return tree (``sub``: suboptions or contains)."""
    found = []
    for name, spec in sorted((tree or {}).items()):
        found.append(prefix + name)
        found += paths((spec or {}).get(sub), sub, prefix + name + '.')
    return found


def interface(collections):
    """{type: {name: {'options': [...], 'returns': [...]}}} of the collection installed under ``collections``."""
    result = {}
    for plugin_type in TYPES:
        names = sorted(ansible_doc(collections, plugin_type, '--list', COLLECTION))
        for fqcn in names:
            data = ansible_doc(collections, plugin_type, fqcn)[fqcn]
            name = fqcn[len(COLLECTION) + 1:]
            if plugin_type == 'role':
                entry = {point: {'options': paths(spec.get('options'), 'options')}
                         for point, spec in sorted(data['entry_points'].items())}
            else:
                entry = {'options': paths(data['doc'].get('options'), 'suboptions'),
                         'returns': paths(data.get('return'), 'contains')}
            result.setdefault(plugin_type, {})[name] = entry
    return result


class _IndentedDumper(yaml.SafeDumper):
    """Indents list items under their key, as yamllint (hence ansible-lint) wants."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def main(version, commit):
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / 'ansible_collections' / 'flashback' / 'platform'
        tree.mkdir(parents=True)
        archive = subprocess.run(['git', '-C', str(ROOT), 'archive', commit], check=True, capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tree)  # our own history
        shipped = interface(tmp)
    out = ROOT / 'tests' / 'ecosystem' / 'data' / ('interface-%s.yml' % version)
    header = '# What %s shipped (git commit %s), written by tests/ecosystem/interface_baseline.py.\n' % (version, commit)
    body = yaml.dump({'version': version, 'commit': commit, 'content': shipped},
                     Dumper=_IndentedDumper, sort_keys=False, default_flow_style=False)
    out.write_text(header + '---\n' + body)
    print('wrote %s' % out.relative_to(ROOT))


if __name__ == '__main__':
    main(*sys.argv[1:3])
