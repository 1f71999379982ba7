"""The example execution environment builds a context that installs our Python requirement.

`ansible-builder create` writes the build context (Containerfile/Dockerfile and _build/) without a
container engine. Inside the image build, ansible-galaxy installs the collections and the context's
introspect script collects their Python and system requirements from each collection's
meta/execution-environment.yml. We do the same outside a container: install the built tarball where
the galaxy stage would, and run the generated context's own introspect script on it.
"""

from __future__ import annotations

import re
import sys

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from conftest import ROOT, ansible_env, run, tarball

EE_FILE = ROOT / 'awx' / 'execution-environment.yml'


def test_base_image_and_ansible_core_are_pinned():
    """A rebuild gives the image that was tested: an exact base image, ansible-core within the tested versions."""
    ee = yaml.safe_load(EE_FILE.read_text())
    image = ee['images']['base_image']['name']
    digest = re.fullmatch(r'[\w.:/-]+@sha256:[0-9a-f]{64}', image)
    # An exact tag: a version with a build number (ubi9/ubi:9.6-1758184894), not a moving one (latest, 9, 9.6).
    exact_tag = re.fullmatch(r'[\w.:/-]+/[\w.-]+:\d+(\.\d+)+-\d+', image)
    assert digest or exact_tag, 'base image %r is neither a digest nor an exact tag' % image

    core = Requirement(ee['dependencies']['ansible_core']['package_pip'])
    assert core.name == 'ansible-core'
    runtime = yaml.safe_load((ROOT / 'meta' / 'runtime.yml').read_text())
    oldest = Version(runtime['requires_ansible'].lstrip('>='))
    # The newest core that make matrix tests (the Makefile's MATRIX_VERSIONS).
    matrix = re.search(r'^MATRIX_VERSIONS := (.+)$', (ROOT / 'Makefile').read_text(), re.M).group(1).split(',')
    newest = max(Version(v) for v in matrix)
    assert core.specifier.contains(oldest), '%s excludes requires_ansible %s' % (core, oldest)
    assert core.specifier.contains('%s.99' % newest), '%s excludes ansible-core %s, which make matrix tests' % (
        core, newest)
    untested = Version('%d.%d' % (newest.major, newest.minor + 1))
    assert not core.specifier.contains(untested), '%s allows ansible-core %s, which nothing tests' % (core, untested)

    wanted = SpecifierSet(ee['dependencies']['galaxy']['collections'][0]['version'])
    galaxy_major = int(yaml.safe_load((ROOT / 'galaxy.yml').read_text())['version'].split('.')[0])
    assert not wanted.contains('%d.0.0' % (max(galaxy_major, 1) + 1)), 'the EE would take the next major release'


def test_collection_declares_its_requirements(installed_collection):
    meta = yaml.safe_load((ROOT / 'meta' / 'execution-environment.yml').read_text())
    assert meta['version'] == 1
    assert meta['dependencies'] == {'python': 'requirements.txt', 'system': 'bindep.txt'}
    # Shipped in the tarball, where ansible-builder looks for them.
    for name in ('meta/execution-environment.yml', 'requirements.txt', 'bindep.txt'):
        assert (installed_collection / name).is_file(), '%s is missing from the built collection' % name


def test_builder_context_installs_requests(installed_collection, tmp_path):  # pylint: disable=unused-argument
    env = ansible_env(tmp_path)
    context = tmp_path / 'context'
    created = run(['ansible-builder', 'create', '-f', EE_FILE, '-c', context, '-v', '2'], env=env, cwd=tmp_path)
    assert created.returncode == 0, created.stdout + created.stderr
    containerfiles = [p for p in (context / 'Containerfile', context / 'Dockerfile') if p.exists()]
    assert len(containerfiles) == 1, 'no Containerfile/Dockerfile in %s' % sorted(context.iterdir())
    containerfile = containerfiles[0].read_text()
    assert 'ansible-galaxy collection install' in containerfile and 'introspect' in containerfile
    # The build starts from the pinned image (ansible-builder passes it as the EE_BASE_IMAGE build argument).
    assert yaml.safe_load(EE_FILE.read_text())['images']['base_image']['name'] in containerfile

    # The galaxy stage installs what _build/requirements.yml lists: our collection.
    requirements = yaml.safe_load((context / '_build' / 'requirements.yml').read_text())
    assert [c['name'] for c in requirements['collections']] == ['flashback.platform']

    # ... into /usr/share/ansible/collections; the builder stage then introspects it.
    collections = tmp_path / 'usr-share-ansible-collections'
    installed = run(['ansible-galaxy', 'collection', 'install', '--force', '-p', collections, tarball()], env=env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert (collections / 'ansible_collections' / 'flashback' / 'platform' / 'MANIFEST.json').is_file(), installed.stdout
    pip_out, bindep_out = tmp_path / 'requirements.txt', tmp_path / 'bindep.txt'
    introspected = run([sys.executable, context / '_build' / 'scripts' / 'introspect.py', 'introspect',
                        '--write-pip', pip_out, '--write-bindep', bindep_out, collections], env=env)
    assert introspected.returncode == 0, introspected.stdout + introspected.stderr
    ours = [line.split('#')[0].strip() for line in (ROOT / 'requirements.txt').read_text().splitlines()]
    expected = ['%s  # from collection flashback.platform' % line for line in ours if line]
    assert any(line.startswith('requests') for line in expected), 'requirements.txt does not list requests'
    found = yaml.safe_load(introspected.stdout)
    assert found['python'] == expected, found
    assert found['system'] == [], found  # bindep.txt lists no system package
    assert pip_out.read_text().splitlines() == expected
