"""The README as Galaxy and Automation Hub render it: absolute links only, the sections users look for.

Galaxy shows README.md (and each role's README.md) outside the repository, where a relative link is broken,
and several files the docs name (emulator/, the Makefile) are not in the tarball at all. So every link is
absolute, and each link into this repository names a file that exists.
"""

from __future__ import annotations

import re

import pytest
import yaml
from packaging.specifiers import SpecifierSet

from conftest import ROOT

REPO = 'https://github.com/flashbacknetwork/flashback.platform'
SHOWN = [ROOT / 'README.md'] + sorted(ROOT.glob('roles/*/README.md'))
INLINE = re.compile(r'!?\[[^\]]*\]\(\s*<?([^)\s>]+)')   # [text](target), ![alt](target)
REFERENCE = re.compile(r'^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(\s|$)', re.M)   # [label]: target
HTML = re.compile(r'\b(?:href|src)\s*=\s*["\']([^"\']+)', re.I)
ABSOLUTE = re.compile(r'^(https?://|mailto:|#)')  # or an anchor on the same page
SECTIONS = ('Installation', 'Using this collection', 'Included content', 'Documentation', 'Tested versions',
            'Communication', 'Support', 'Release notes', 'Versioning and deprecation policy', 'Contributing',
            'Code of Conduct', 'License')


def without_code(text):
    """Links in code blocks and code spans are not links."""
    text = re.sub(r'^```.*?^```', '', text, flags=re.M | re.S)
    return re.sub(r'`[^`\n]*`', '', text)


def links(path):
    text = without_code(path.read_text(encoding='utf-8'))
    return [m.group(1) for pattern in (INLINE, REFERENCE, HTML) for m in pattern.finditer(text)]


@pytest.mark.parametrize('path', SHOWN, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_links_are_absolute(path):
    found = links(path)
    relative = [target for target in found if not ABSOLUTE.match(target)]
    assert not relative, '%s has relative links (broken on Galaxy): %s' % (path.relative_to(ROOT), relative)


@pytest.mark.parametrize('path', SHOWN, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_links_into_the_repository_name_files_that_exist(path):
    for target in links(path):
        match = re.match(re.escape(REPO) + r'/(?:blob|tree)/main/([^#?]+)', target)
        if match:
            assert (ROOT / match.group(1)).exists(), '%s links to %s, which does not exist' % (path.name, target)


def test_the_link_pattern_sees_relative_links(tmp_path):
    """The check above could pass by matching nothing: it finds each kind of relative link."""
    sample = tmp_path / 'readme-sample.md'
    sample.write_text('[a](docs/a.md) ![b](img.png)\n[c]: ../c.md\n<a href="d.md">d</a> [e](https://x.org) `[f](g)`\n')
    assert links(sample) == ['docs/a.md', 'img.png', 'https://x.org', '../c.md', 'd.md']


def sections(text):
    return re.findall(r'^## (.+)$', without_code(text), re.M)


def test_sections_users_look_for():
    text = (ROOT / 'README.md').read_text(encoding='utf-8')
    found = sections(text)
    missing = [name for name in SECTIONS if name not in found]
    assert not missing, 'README.md lacks the sections %s' % missing
    # Users first: installation is the first section; the two make commands come in a development section
    # right after it, before the usage details.
    assert found[0] == 'Installation', found
    development = text.split('\n## ')[2]
    assert development.startswith(found[1]) and 'make demo' in development and 'make test' in development, found[1]
    assert 'make ' not in text.split('\n## ')[0] + text.split('\n## ')[1], 'make commands before the installation'
    for name in ('CONTRIBUTING.md', 'CODE_OF_CONDUCT.md', 'CHANGELOG.rst'):
        assert (ROOT / name).is_file() and '%s/blob/main/%s' % (REPO, name) in text, name


def test_content_table_lists_everything():
    text = (ROOT / 'README.md').read_text(encoding='utf-8')
    table = [line for line in text.splitlines() if line.startswith('| `flashback.platform.')]
    rows = {(re.match(r'\| `flashback\.platform\.(\w+)` \| (\w+) \|', line) or re.match('', '')).groups()
            for line in table}
    expected = {(p.stem, 'module') for p in (ROOT / 'plugins' / 'modules').glob('*.py') if p.stem != '__init__'}
    expected |= {(yaml.safe_load(p.read_text())['DOCUMENTATION']['name'], 'filter')
                 for p in (ROOT / 'plugins' / 'filter').glob('*.yml')}
    expected |= {(p.name, 'role') for p in (ROOT / 'roles').iterdir() if (p / 'meta' / 'argument_specs.yml').is_file()}
    assert rows == expected


def test_tested_versions_are_the_matrix():
    text = (ROOT / 'README.md').read_text(encoding='utf-8')
    part = text.split('\n## Tested versions\n')[1].split('\n## ')[0]
    matrix = re.search(r'^MATRIX_VERSIONS := (.+)$', (ROOT / 'Makefile').read_text(), re.M).group(1).split(',')
    listed = set(re.findall(r'\b2\.\d\d\b', part))
    assert listed == set(matrix), 'README lists ansible-core %s, make matrix tests %s' % (sorted(listed), matrix)
    # The Pythons the modules declare (tests/config.yml), each listed, and no other.
    declared = SpecifierSet(yaml.safe_load((ROOT / 'tests' / 'config.yml').read_text())['modules']['python_requires'])
    pythons = {'3.%d' % minor for minor in range(6, 20) if declared.contains('3.%d' % minor)}
    assert set(re.findall(r'\b3\.1\d\b', part)) == pythons, 'README lists other Pythons than %s' % sorted(pythons)
