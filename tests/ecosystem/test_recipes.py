"""The delivery recipes in docs/recipes/ resolve against the collections they use, as released on PyPI.

Each recipe is a tasks file for the repo_apikeys role's delivery hook (flashback_repo_apikeys_secret_tasks),
using modules of other collections. Galaxy is unreachable here, so those collections come from PyPI's
``ansible`` package (ANSIBLE_PACKAGE, whose ansible-core requirement must admit .venv's ansible-core): its
wheel is downloaded once into build/pypi/ (``pip download --no-deps``; reruns reuse it) and only the
collections the recipes need are extracted into build/recipe-collections/. The ``ansible`` package is never
installed: it would put ~100 collections on the path of every other test.

Per recipe (docs/recipes/*.yml):
- ansible-playbook --syntax-check of a playbook that imports it with a made-up flashback_new_secret;
- ansible-doc --json for every module it uses (found by parsing the recipe, so a new task is checked too):
  each must resolve, and each option a task passes must be in that module's argument spec (aliases and
  suboptions included), required options must be given, literal values must be among the choices;
- every task that sees the secret (a reference to flashback_new_secret other than its public fields) has
  ``no_log: true``, set on the task or on an enclosing block;
- the validation tasks (ansible.builtin ones) run for real with a made-up key and the recipe's variables:
  they pass with good settings and fail, without showing the secret, with bad ones.
Not exercised: the writes themselves. No Vault, AWS, Kubernetes or AWX is reachable here (docs/recipes/README.md).

A missing collection, a failed download or a module that does not resolve fails the test; nothing is skipped.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile

import pytest
import yaml
from ansible import release as ansible_release
from ansible.playbook.block import Block
from ansible.playbook.task import Task
from packaging.requirements import Requirement

from conftest import BUILD, COLLECTIONS, ROOT, ansible_env, run, write_inventory

# ansible 12.x requires ansible-core ~=2.19.5, .venv's ansible-core (tests/requirements.txt). Pinned, so
# that the cached wheel and the checked collection versions only change with this line.
ANSIBLE_PACKAGE = ('ansible', '12.3.0')
WHEEL_DIR = BUILD / 'pypi'
RECIPE_COLLECTIONS = BUILD / 'recipe-collections'
RECIPES_DIR = ROOT / 'docs' / 'recipes'
RECIPES = sorted(RECIPES_DIR.glob('*.yml'))
# The recipes the docs promise; a recipe removed or added without its docs fails test_recipes_documented.
EXPECTED_RECIPES = {'aws_secretsmanager', 'awx_credential', 'hashi_vault_kv2', 'kubernetes_secret'}

# Task keywords (not module names): ansible-core's own list, so a misspelt keyword shows up as a second
# "module" of the task.
TASK_KEYWORDS = set(Task.fattributes) | {'block', 'rescue', 'always'}
BLOCK_KEYWORDS = set(Block.fattributes)
FQCN_RE = re.compile(r'^[a-z0-9_]+\.[a-z0-9_]+\.[a-z0-9_]+$')
# A reference to the new key other than one of its public fields: the whole dict, or .secret.
PUBLIC_FIELDS = ('repo_id', 'repo_name', 'name', 'id', 'key', 'access')
SECRET_REF_RE = re.compile(r"flashback_new_secret(?!\s*(?:\.\s*|\[\s*['\"])(?:%s)\b)" % '|'.join(PUBLIC_FIELDS))

FAKE_SECRET = 'fb-recipe-test-secret-0123456789'
FAKE_NEW_SECRET = {'repo_id': 'r1', 'repo_name': 'backups', 'name': 'ci-reader',
                   'id': '5b1f2c3d-0000-4000-8000-00000000b001', 'key': 'FBKEY0123456789', 'access': 'READ',
                   'secret': FAKE_SECRET}
# Per recipe: settings its validation accepts, and settings it must refuse (with the reason).
GOOD_VARS = {
    'hashi_vault_kv2': {'flashback_vault_url': 'https://vault.example.com:8200'},
    'aws_secretsmanager': {},
    'kubernetes_secret': {'flashback_k8s_namespace': 'ci', 'flashback_k8s_secret_labels': {'team': 'ci'}},
    'awx_credential': {'flashback_awx_organization': 'Default', 'flashback_awx_credential_type': 'Flashback key'},
}
BAD_VARS = {
    'hashi_vault_kv2': [({}, 'no flashback_vault_url'),
                        ({'flashback_vault_url': 'https://v', 'flashback_vault_path': 'a/../b'}, 'a .. segment')],
    'aws_secretsmanager': [({'flashback_aws_secret_name': 'flashback/r1/ci reader'}, 'a space in the name')],
    'kubernetes_secret': [({}, 'no namespace'),
                          ({'flashback_k8s_namespace': 'ci', 'flashback_k8s_secret_name': 'Flashback_R1'},
                           'not a DNS subdomain')],
    'awx_credential': [({'flashback_awx_organization': 'Default'}, 'no credential type')],
}


# --- the collections, from PyPI ---------------------------------------------------------------------------

def walk_tasks(tasks, inherited_no_log=None, inherited_vars=None):
    """(task, effective no_log, text of the task and of the vars of its blocks) for every task, blocks flattened."""
    for task in tasks or []:
        assert isinstance(task, dict), 'a task must be a mapping: %r' % (task,)
        no_log = task.get('no_log', inherited_no_log)
        scope_vars = (inherited_vars or '') + json.dumps(task.get('vars', {}))
        if 'block' in task:
            unknown = set(task) - BLOCK_KEYWORDS - {'block', 'rescue', 'always'}
            assert not unknown, 'block %r: unknown keywords %s' % (task.get('name'), sorted(unknown))
            for part in ('block', 'rescue', 'always'):
                yield from walk_tasks(task.get(part), no_log, scope_vars)
        else:
            yield task, no_log, scope_vars


def module_of(task):
    """The task's module FQCN and its arguments; fails on anything but one FQCN key with a mapping."""
    candidates = [key for key in task if key not in TASK_KEYWORDS and not key.startswith('with_')]
    assert len(candidates) == 1, 'task %r: expected one module, found %s' % (task.get('name'), candidates)
    fqcn = candidates[0]
    assert FQCN_RE.match(fqcn), 'task %r: %r is not a FQCN' % (task.get('name'), fqcn)
    args = task[fqcn]
    assert isinstance(args, dict), 'task %r: give %s its options as a mapping' % (task.get('name'), fqcn)
    return fqcn, args


def load_recipe(path):
    tasks = yaml.safe_load(path.read_text(encoding='utf-8'))
    assert isinstance(tasks, list) and tasks, '%s is not a list of tasks' % path
    return tasks


def recipe_modules(path):
    return [module_of(task) for task, dummy_no_log, dummy_vars in walk_tasks(load_recipe(path))]


def needed_collections():
    names = set()
    for path in RECIPES:
        for fqcn, dummy in recipe_modules(path):
            names.add('.'.join(fqcn.split('.')[:2]))
    return sorted(names - {'ansible.builtin', 'flashback.platform'})


def download_wheel():
    """build/pypi/<ansible wheel>, downloaded unless already there (and readable)."""
    name, version = ANSIBLE_PACKAGE
    wheel = WHEEL_DIR / ('%s-%s-py3-none-any.whl' % (name, version))
    if wheel.is_file():
        try:
            zipfile.ZipFile(wheel).close()
            return wheel, False
        except zipfile.BadZipFile:
            wheel.unlink()  # a broken earlier download: fetch it again
    WHEEL_DIR.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([sys.executable, '-m', 'pip', 'download', '--no-deps', '--only-binary', ':all:',
                           '--progress-bar', 'off', '--quiet', '--dest', str(WHEEL_DIR), '%s==%s' % (name, version)],
                          capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0 or not wheel.is_file():
        pytest.fail('pip download %s==%s failed (rc %d), so the recipes cannot be checked:\n%s%s'
                    % (name, version, proc.returncode, proc.stdout, proc.stderr))
    return wheel, True


def manifest(path):
    return json.loads(path.read_text())['collection_info']


@pytest.fixture(scope='session')
def recipe_collections():
    """build/recipe-collections with the collections the recipes use (and their dependencies), from the wheel."""
    start = time.monotonic()
    wheel, downloaded = download_wheel()
    fetched = time.monotonic()
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        meta = archive.read(next(n for n in names if n.endswith('.dist-info/METADATA'))).decode()
        core_req = next(Requirement(line.split(':', 1)[1].strip()) for line in meta.splitlines()
                        if line.startswith('Requires-Dist: ansible-core'))
        if not core_req.specifier.contains(ansible_release.__version__):
            pytest.fail('%s==%s requires %s, but .venv has ansible-core %s: change ANSIBLE_PACKAGE'
                        % (ANSIBLE_PACKAGE + (core_req, ansible_release.__version__)))
        shutil.rmtree(RECIPE_COLLECTIONS, ignore_errors=True)
        todo, done = list(needed_collections()), {}
        while todo:
            collection = todo.pop()
            if collection in done:
                continue
            prefix = 'ansible_collections/%s/' % collection.replace('.', '/')
            members = [n for n in names if n.startswith(prefix)]
            if prefix + 'MANIFEST.json' not in members:
                pytest.fail('%s is not in %s: the recipes using it cannot be checked' % (collection, wheel.name))
            archive.extractall(RECIPE_COLLECTIONS, members)
            info = manifest(RECIPE_COLLECTIONS / prefix / 'MANIFEST.json')
            done[collection] = info['version']
            todo.extend(info.get('dependencies') or {})
    print('\n%s==%s (requires %s; .venv: ansible-core %s): %s; %s %.1f s, extract %.1f s'
          % (ANSIBLE_PACKAGE + (core_req, ansible_release.__version__,
                                ', '.join('%s %s' % item for item in sorted(done.items())),
                                'download' if downloaded else 'cached wheel', fetched - start,
                                time.monotonic() - fetched)))
    return RECIPE_COLLECTIONS


@pytest.fixture(scope='session')
def env(recipe_collections, tmp_path_factory):
    return ansible_env(tmp_path_factory.mktemp('ansible'),
                       ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([str(recipe_collections), str(COLLECTIONS)]))


def ansible_doc(fqcns, env):
    """{fqcn: doc} from one ansible-doc --json run; a module that does not resolve fails the test."""
    proc = run(['ansible-doc', '--json', '-t', 'module'] + sorted(set(fqcns)), env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    docs = json.loads(proc.stdout)
    missing = sorted(set(fqcns) - set(docs))
    # ansible-doc exits 0 and prints {} for a module it cannot find: the warning says which.
    assert not missing, 'ansible-doc does not resolve %s:\n%s' % (missing, proc.stderr)
    return {fqcn: docs[fqcn]['doc'] for fqcn in fqcns}


# --- checks that run on a recipe's text --------------------------------------------------------------------

def is_literal(value):
    return not (isinstance(value, str) and '{{' in value)


def option_errors(where, options, args):
    """What is wrong with args against an argument spec: unknown options, missing required ones, bad choices."""
    errors = []
    names = {}
    for name, spec in options.items():
        for alias in [name] + list(spec.get('aliases') or []):
            names[alias] = name
    for given, value in args.items():
        if given not in names:
            errors.append('%s: no option %r (the module has %s)' % (where, given, ', '.join(sorted(options))))
            continue
        spec = options[names[given]]
        if spec.get('choices') and is_literal(value) and value not in spec['choices']:
            errors.append('%s: %s=%r is not one of %s' % (where, given, value, spec['choices']))
        if spec.get('suboptions') and is_literal(value):
            for i, item in enumerate(value if isinstance(value, list) else [value]):
                if isinstance(item, dict):
                    errors.extend(option_errors('%s.%s[%d]' % (where, given, i), spec['suboptions'], item))
    given_names = {names.get(given) for given in args}
    errors.extend('%s: required option %r not given' % (where, name)
                  for name, spec in options.items() if spec.get('required') and name not in given_names)
    return errors


def recipe_option_errors(path, docs):
    errors = []
    for fqcn, args in recipe_modules(path):
        errors.extend(option_errors('%s %s' % (path.name, fqcn), docs[fqcn].get('options') or {}, args))
    return errors


def no_log_errors(path):
    errors, delivering = [], 0
    for task, no_log, scope_vars in walk_tasks(load_recipe(path)):
        text = json.dumps(task) + scope_vars
        if SECRET_REF_RE.search(text):
            delivering += 1
            if no_log is not True:
                errors.append('%s: task %r sees the secret without no_log: true' % (path.name, task.get('name')))
    if not delivering:
        errors.append('%s: no task uses flashback_new_secret.secret: it delivers nothing' % path.name)
    return errors


# --- the tests ---------------------------------------------------------------------------------------------

def test_recipes_documented():
    """The four recipes exist, each with a section in docs/recipes/README.md, and no other recipe without one."""
    assert {path.stem for path in RECIPES} == EXPECTED_RECIPES
    readme = (RECIPES_DIR / 'README.md').read_text(encoding='utf-8')
    sections = set(re.findall(r'^## .*`(\w+)\.yml`', readme, re.M))
    assert sections == EXPECTED_RECIPES, sections


@pytest.mark.parametrize('path', RECIPES, ids=[p.stem for p in RECIPES])
def test_recipe_syntax(path, env, tmp_path):
    """ansible-playbook --syntax-check resolves every module and keyword of the recipe, imported as a playbook's tasks."""
    playbook = tmp_path / 'playbook.yml'
    playbook.write_text(yaml.safe_dump([{
        'name': 'Deliver a new key as the repo_apikeys role would', 'hosts': 'localhost', 'gather_facts': False,
        'vars': {'flashback_new_secret': FAKE_NEW_SECRET},
        # import, not include: --syntax-check reads imported files only.
        'tasks': [{'name': 'Deliver', 'ansible.builtin.import_tasks': str(path)}]}]))
    proc = run(['ansible-playbook', '--syntax-check', '-i', write_inventory(tmp_path / 'inventory'), playbook], env)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize('path', RECIPES, ids=[p.stem for p in RECIPES])
def test_recipe_modules_and_options(path, env):
    """Every module of the recipe resolves (ansible-doc), and every option it passes is in the module's spec."""
    modules = recipe_modules(path)
    docs = ansible_doc([fqcn for fqcn, dummy in modules], env)
    for fqcn, doc in docs.items():
        print('%s: %s' % (fqcn, doc.get('filename')))
    assert [fqcn for fqcn in docs if not fqcn.startswith('ansible.builtin.')], '%s uses no module to deliver' % path
    assert recipe_option_errors(path, docs) == []


@pytest.mark.parametrize('path', RECIPES, ids=[p.stem for p in RECIPES])
def test_recipe_no_log(path):
    """Every task that sees the secret has no_log: true (also under the role's apply: no_log the recipe must not rely on)."""
    assert no_log_errors(path) == []


def validation_playbook(path, tmp_path, extra_vars):
    """A playbook running the recipe's ansible.builtin tasks (its checks) with the role's include, minus the writes."""
    def strip(tasks):
        kept = []
        for task in tasks:
            if 'block' in task:
                kept.append(dict(task, **{part: strip(task[part]) for part in ('block', 'rescue', 'always') if part in task}))
            elif module_of(task)[0].startswith('ansible.builtin.'):
                kept.append(task)
        return kept
    checks = tmp_path / 'checks.yml'
    checks.write_text(yaml.safe_dump(strip(load_recipe(path)), sort_keys=False))
    playbook = tmp_path / 'playbook.yml'
    playbook.write_text(yaml.safe_dump([{
        'name': 'Run the recipe checks', 'hosts': 'localhost', 'gather_facts': False,
        'vars': dict(extra_vars, flashback_new_secret=FAKE_NEW_SECRET),
        # As the role includes the hook file.
        'tasks': [{'name': 'Deliver', 'ansible.builtin.include_tasks': {'file': str(checks), 'apply': {'no_log': True}}}],
    }]))
    return playbook


@pytest.mark.parametrize('path', RECIPES, ids=[p.stem for p in RECIPES])
def test_recipe_checks(path, env, tmp_path):
    """The recipe's checks pass with good settings and refuse bad ones with a message that names no secret."""
    inventory = write_inventory(tmp_path / 'inventory')
    (tmp_path / 'good').mkdir()
    good = run(['ansible-playbook', '-i', inventory, validation_playbook(path, tmp_path / 'good', GOOD_VARS[path.stem])],
               env)
    assert good.returncode == 0, good.stdout + good.stderr
    assert FAKE_SECRET not in good.stdout + good.stderr
    for i, (bad_vars, why) in enumerate(BAD_VARS[path.stem]):
        (tmp_path / str(i)).mkdir()
        bad = run(['ansible-playbook', '-i', inventory, validation_playbook(path, tmp_path / str(i), bad_vars)], env)
        assert bad.returncode != 0, '%s: accepted %s' % (path.stem, why)
        assert '%s recipe:' % path.stem in bad.stdout, '%s, %s: the message says what to fix:\n%s' % (path.stem, why, bad.stdout)
        assert FAKE_SECRET not in bad.stdout + bad.stderr


def test_checks_catch_mistakes(env, tmp_path):
    """The checks above can fail: a misspelt option, a misspelt module, a secret without no_log are caught."""
    recipe = RECIPES_DIR / 'hashi_vault_kv2.yml'
    text = recipe.read_text(encoding='utf-8')
    typo = tmp_path / 'typo.yml'
    typo.write_text(text.replace('engine_mount_point:', 'engine_mountpoint:'))
    docs = ansible_doc(['community.hashi_vault.vault_kv2_write', 'ansible.builtin.assert'], env)
    assert any("no option 'engine_mountpoint'" in e for e in recipe_option_errors(typo, docs))
    choice = tmp_path / 'choice.yml'
    choice.write_text((RECIPES_DIR / 'aws_secretsmanager.yml').read_text().replace('state: present', 'state: presnet'))
    docs = ansible_doc(['community.aws.secretsmanager_secret', 'ansible.builtin.assert'], env)
    assert any("state='presnet'" in e for e in recipe_option_errors(choice, docs))
    leak = tmp_path / 'leak.yml'
    leak.write_text(text.replace('      no_log: true\n', '      no_log: false\n'))
    assert len(no_log_errors(leak)) == 2  # the secret check and the write
    whole = tmp_path / 'whole.yml'
    whole.write_text('- name: Show\n  ansible.builtin.debug:\n    msg: "{{ flashback_new_secret | to_json }}"\n')
    assert no_log_errors(whole) == ["whole.yml: task 'Show' sees the secret without no_log: true"]
    unknown = tmp_path / 'unknown.yml'
    unknown.write_text(text.replace('community.hashi_vault.vault_kv2_write:', 'community.hashi_vault.vault_kv2_wrte:'))
    with pytest.raises(AssertionError, match='does not resolve'):
        ansible_doc([fqcn for fqcn, dummy in recipe_modules(unknown)], env)
    playbook = tmp_path / 'playbook.yml'
    playbook.write_text(yaml.safe_dump([{'hosts': 'localhost', 'gather_facts': False,
                                         'tasks': [{'ansible.builtin.import_tasks': str(unknown)}]}]))
    proc = run(['ansible-playbook', '--syntax-check', '-i', write_inventory(tmp_path / 'inventory'), playbook], env)
    assert proc.returncode != 0 and 'vault_kv2_wrte' in proc.stdout + proc.stderr
