"""The built tarball passes galaxy-importer, the validation Galaxy runs on upload.

Configured by tests/ecosystem/galaxy-importer.cfg to run locally without containers: ansible-test is off
(`make sanity` runs it), ansible-doc and ansible-lint run from this venv. Galaxy rejects an upload on
an importer error; we also fail on its warnings, which Galaxy shows on the collection's page.
"""

from __future__ import annotations

import json
import re
import sys

import yaml

from conftest import ROOT, ansible_env, run, tarball

CONFIG = ROOT / 'tests' / 'ecosystem' / 'galaxy-importer.cfg'


def test_galaxy_importer_accepts_the_tarball(installed_collection, tmp_path):  # pylint: disable=unused-argument
    env = ansible_env(tmp_path, GALAXY_IMPORTER_CONFIG=str(CONFIG), HOME=str(tmp_path))
    env.pop('ANSIBLE_COLLECTIONS_PATH')  # the importer installs the tarball where it wants it
    result = run([sys.executable, '-m', 'galaxy_importer.main', tarball()], env=env, cwd=tmp_path, timeout=600)
    log = result.stdout + result.stderr
    print(log)
    assert result.returncode == 0, log
    assert 'Importer processing completed successfully' in log
    problems = [line for line in log.splitlines() if re.search(r'\b(WARNING|ERROR|CRITICAL)\b', line)]
    assert not problems, 'galaxy-importer reported:\n' + '\n'.join(problems)

    imported = json.loads((tmp_path / 'importer_result.json').read_text())
    runtime = yaml.safe_load((ROOT / 'meta' / 'runtime.yml').read_text())
    assert imported['requires_ansible'] == runtime['requires_ansible']
    contents = {(c['content_type'], c['name']) for c in imported['contents']}
    expected = {('module', p.stem) for p in (ROOT / 'plugins' / 'modules').glob('*.py')}
    expected |= {('role', p.name) for p in (ROOT / 'roles').iterdir() if p.is_dir()}
    assert expected <= contents, 'missing from the import: %s' % sorted(expected - contents)
    # Galaxy renders the README and each module's docs from what the importer extracted.
    assert imported['docs_blob']['collection_readme']['html'].startswith('<h1>flashback.platform</h1>')
    for item in imported['docs_blob']['contents']:
        if item['content_type'] == 'module':
            assert item['doc_strings'].get('doc', {}).get('short_description'), item['content_name']
