"""Every plugin, role, option and return value added after 0.1.0 says so with ``version_added``.

0.1.0 is the only release before 1.0.0 (0.2.0 was never released). What it shipped is in
data/interface-0.1.0.yml, derived from its commit by interface_baseline.py. The current documentation is
read from the installed build with ``ansible-doc --json`` (doc fragments resolved), as antsibull-changelog
and Galaxy read it. Rules:

- a plugin or role 0.1.0 shipped says ``version_added: 0.1.0`` (a role: on its main entry point), and each
  option or return value it shipped has no other ``version_added``;
- anything else has a ``version_added`` of a release after 0.1.0 (1.0.0 or later), on itself or on the new
  option or return value it is part of; ``0.2.0`` and other unreleased versions are refused;
- a plugin 0.1.0 shipped that is gone has a tombstone in meta/runtime.yml.
"""

from __future__ import annotations

import json

import pytest
import yaml
from packaging.version import Version

from conftest import ROOT, ansible_env, run
from interface_baseline import COLLECTION, TYPES

BASELINE = yaml.safe_load((ROOT / 'tests' / 'ecosystem' / 'data' / 'interface-0.1.0.yml').read_text())
SHIPPED = BASELINE['content']
FIRST_RELEASE = Version(BASELINE['version'])
NEXT_RELEASE = Version('1.0.0')  # the first release after 0.1.0


def docs(tmp_path, plugin_type):
    env = ansible_env(tmp_path)
    listed = run(['ansible-doc', '-t', plugin_type, '--json', '--list', COLLECTION], env=env)
    assert listed.returncode == 0, listed.stderr
    names = sorted(json.loads(listed.stdout))
    if not names:
        return {}
    shown = run(['ansible-doc', '-t', plugin_type, '--json'] + names, env=env)
    assert shown.returncode == 0, shown.stderr
    return {fqcn[len(COLLECTION) + 1:]: data for fqcn, data in json.loads(shown.stdout).items()}


def problems_in(tree, sub, shipped, where, prefix='', inherited=None):
    """Why entries of an option or return tree lack the version_added they need (``inherited``: a new parent's)."""
    found = []
    for name, spec in sorted((tree or {}).items()):
        spec = spec or {}
        path = prefix + name
        added = spec.get('version_added')
        if path in shipped:
            if added is not None and Version(str(added)) != FIRST_RELEASE:
                found.append('%s %s: shipped in %s, says version_added %s' % (where, path, FIRST_RELEASE, added))
        elif added is None and inherited is None:
            found.append('%s %s: added after %s, has no version_added' % (where, path, FIRST_RELEASE))
        elif added is not None and Version(str(added)) < NEXT_RELEASE:
            found.append('%s %s: version_added %s is not a release after %s' % (where, path, added, FIRST_RELEASE))
        found += problems_in(spec.get(sub), sub, shipped, where, path + '.',
                             inherited if path in shipped or added is None else added)
    return found


def plugin_problems(plugin_type, name, added, shipped):
    where = '%s %s' % (plugin_type, name)
    if shipped is not None:
        return [] if added is not None and Version(str(added)) == FIRST_RELEASE else [
            '%s: shipped in %s, says version_added %s' % (where, FIRST_RELEASE, added)]
    if added is None:
        return ['%s: added after %s, has no version_added' % (where, FIRST_RELEASE)]
    if Version(str(added)) < NEXT_RELEASE:
        return ['%s: version_added %s is not a release after %s' % (where, added, FIRST_RELEASE)]
    return []


@pytest.mark.parametrize('plugin_type', TYPES)
def test_version_added(plugin_type, installed_collection, tmp_path):  # pylint: disable=unused-argument
    shipped_of_type = SHIPPED.get(plugin_type, {})
    problems = []
    current = docs(tmp_path, plugin_type)
    for name, data in sorted(current.items()):
        shipped = shipped_of_type.get(name)
        where = '%s %s' % (plugin_type, name)
        if plugin_type == 'role':
            main = data['entry_points'].get('main', {})
            problems += plugin_problems(plugin_type, name, main.get('version_added'), shipped)
            for point, spec in sorted(data['entry_points'].items()):
                old = set((shipped or {}).get(point, {}).get('options', []))
                problems += problems_in(spec.get('options'), 'options', old, '%s (%s)' % (where, point),
                                        inherited=None if shipped else 'role')
            continue
        doc = data['doc']
        problems += plugin_problems(plugin_type, name, doc.get('version_added'), shipped)
        new_plugin = None if shipped else 'plugin'  # a new plugin's options are as new as the plugin
        problems += problems_in(doc.get('options'), 'suboptions', set((shipped or {}).get('options', [])),
                                where + ' option', inherited=new_plugin)
        problems += problems_in(data.get('return'), 'contains', set((shipped or {}).get('returns', [])),
                                where + ' return value', inherited=new_plugin)
    assert not problems, '\n'.join(problems)

    routing = yaml.safe_load((ROOT / 'meta' / 'runtime.yml').read_text()).get('plugin_routing', {})
    routing_type = {'module': 'modules'}.get(plugin_type, plugin_type)
    for name in sorted(set(shipped_of_type) - set(current)):
        tombstone = routing.get(routing_type, {}).get(name, {}).get('tombstone')
        assert tombstone, '%s %s shipped in %s and is gone without a tombstone in meta/runtime.yml' % (
            plugin_type, name, FIRST_RELEASE)


def test_the_baseline_is_the_release():
    """The data file is the 0.1.0 of changelogs/changelog.yaml: its modules and plugins, nothing more or less."""
    changelog = yaml.safe_load((ROOT / 'changelogs' / 'changelog.yaml').read_text())
    release = changelog['releases'][str(FIRST_RELEASE)]
    listed = {('module', m['name']) for m in release.get('modules', [])}
    listed |= {(t, p['name']) for t, plugins in release.get('plugins', {}).items() for p in plugins}
    in_file = {(t, name) for t, plugins in SHIPPED.items() if t != 'role' for name in plugins}
    assert in_file == listed
