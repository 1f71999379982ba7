# Build, test and demo the flashback.platform collection. `make help` lists the targets.
# Everything runs from the private venv .venv with explicit paths: no globally installed
# collections, no ANSIBLE_COLLECTIONS_PATH from the caller's environment.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
# What the demo and the collection build need (ansible-core, requests), installed before the rest.
CORE_STAMP := $(VENV)/.installed-core
BUILD := $(CURDIR)/build
COLLECTIONS := $(BUILD)/collections
# ansible-test only works inside .../ansible_collections/NAMESPACE/NAME/.
TREE := $(BUILD)/ansible_collections/flashback/platform
DEMO_VARS := $(BUILD)/demo/vars.yml
CHANGELOG_TREE := $(BUILD)/changelog-check

# The venv first on PATH: ansible-test resolves --python X.Y to pythonX.Y on PATH, and that
# interpreter runs the modules in integration tests, so it must be the one that has `requests`.
export PATH := $(BIN):$(PATH)
unexport ANSIBLE_COLLECTIONS_PATH ANSIBLE_COLLECTIONS_PATHS
# Lazily evaluated: only valid once the venv exists.
PY_VERSION = $(shell $(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])')

MAKE_TREE := $(PY) scripts/make_tree.py . $(TREE)
# ansible-test runs with a HOME of its own inside the clone (kept with the venv): it keeps its SSH key, pip
# bootstrap script and sanity venvs in ~/.ansible/test, and nothing of an earlier run outside the clone may
# count. scripts/ansible_test_home.py writes the key and the script once, before any stage runs in parallel.
# pip's cache stays the user's (a cache only: it changes no outcome); pyenv's shims need their root.
TEST_HOME := $(VENV)/home
PIP_CACHE := $(or $(PIP_CACHE_DIR),$(HOME)/.cache/pip)
PYENV_ROOT_FOUND := $(or $(PYENV_ROOT),$(wildcard $(HOME)/.pyenv))
TEST_ENV := HOME=$(TEST_HOME) PIP_CACHE_DIR=$(PIP_CACHE) $(if $(PYENV_ROOT_FOUND),PYENV_ROOT=$(PYENV_ROOT_FOUND))
TEST_HOME_READY := $(PY) scripts/ansible_test_home.py $(TEST_HOME)
ANSIBLE_TEST := $(TEST_ENV) ansible-test
# Plain pytest over the unit tests, in the tree (tests/unit/conftest.py puts ansible_collections on sys.path).
UNIT_PYTEST := $(PY) -m pytest -p no:cacheprovider -q
# ansible-test passes stages whose tools are missing, with a warning; these fail on it (every ansible-test stage).
CHECK_SKIPS := $(PY) $(CURDIR)/scripts/check_skips.py
WITH_EMULATOR := $(PY) $(CURDIR)/scripts/with_emulator.py
DEMO_PLAYBOOK := ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) ansible-playbook -i demo/inventory.ini \
	-e @$(DEMO_VARS) -e flashback_demo_emulator=true demo/playbook.yml
# Ecosystem stages: pytest files in tests/ecosystem/ (its README.md says what each proves).
ECOSYSTEM := $(PY) -m pytest -p no:cacheprovider -v --tb=short
# units first: a broken unit test fails within about two minutes of a fresh clone. Stages joined by + run
# side by side (make -j2, each stage's output kept together): each of them mostly keeps one core busy, and
# none writes what another reads (one make builds the collection once, before the stages that need it).
# The longest first in each group: make -j2 starts them in this order.
TEST_STAGES := venv units matrix-ci-sanity+sanity+lint integration \
	matrix-ci-units+examples+awx+galaxy-importer+recipes+ee
# The compatibility matrix (scripts/matrix.py): `make matrix` runs every stage on every version; CI runs
# the part that fits its time budget (matrix-ci).
MATRIX_VERSIONS := 2.16,2.17,2.18,2.19,2.20,2.21
MATRIX_JOBS := 2
DOCS_SRC := $(BUILD)/docs-src
DOCS_HTML := $(BUILD)/docs
DOCS_STAMP := $(VENV)/.installed-docs

.PHONY: help venv quick collection tree lint sanity units integration reliability-doc examples recipes awx ee galaxy-importer \
	matrix matrix-ci matrix-ci-sanity matrix-ci-units changelog docs benchmark test demo _demo-runs clean distclean

help:
	@echo 'make demo         run demo/playbook.yml twice against the emulator (second run must change nothing)'
	@echo 'make test         $(TEST_STAGES), stopping at the first failure'
	@echo 'make quick        the first signal: unit tests (collection, emulator) and static lint of code and docs'
	@echo 'make venv         .venv with tests/requirements.txt (redone when that file changes)'
	@echo 'make collection   build the tarball into build/ and install it into build/collections'
	@echo 'make tree         fresh copy of the sources at build/ansible_collections/flashback/platform'
	@echo 'make lint | sanity | units | integration   one test stage (ansible-core of .venv)'
	@echo 'make reliability-doc   refresh the fault matrix table in docs/reliability.md from a test run'
	@echo 'make examples     run every module EXAMPLES block and documented playbook against the emulator'
	@echo 'make recipes      check docs/recipes/ against their collections from PyPI (syntax, ansible-doc, options, no_log)'
	@echo 'make awx          run the AWX example job with ansible-runner, credential injected as AWX does'
	@echo 'make ee           ansible-builder create for the example execution environment; check its Python deps'
	@echo 'make galaxy-importer   run the Galaxy import checks on the built tarball (offline)'
	@echo 'make matrix       sanity, units, integration on ansible-core $(MATRIX_VERSIONS) (.venv-matrix/)'
	@echo 'make matrix-ci    the part of the matrix that CI runs (see the comment at matrix-ci)'
	@echo 'make changelog    lint the fragments and release them into CHANGELOG.rst for the galaxy.yml version'
	@echo 'make docs         build the HTML docs site into build/docs (antsibull-docs + Sphinx)'
	@echo 'make benchmark    python benchmarks/role_converge.py (not part of make test)'
	@echo 'make clean        remove build and test output; make distclean also removes .venv'

venv: $(STAMP)

$(CORE_STAMP): tests/requirements-core.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --progress-bar off -r tests/requirements-core.txt
	touch $@

$(STAMP): tests/requirements.txt $(CORE_STAMP)
	$(PY) -m pip install --quiet --progress-bar off -r tests/requirements.txt
	touch $@

# ansible-core and requests only: what building the collection and running the demo need.
collection: $(CORE_STAMP)
	rm -rf $(COLLECTIONS) $(BUILD)/flashback-platform-*.tar.gz
	ansible-galaxy collection build --force --output-path $(BUILD) .
	@# A tarball holding build output or venvs means build_ignore in galaxy.yml misses something.
	@if tar -tzf $(BUILD)/flashback-platform-*.tar.gz | grep -E '(^|/)(\.venv[^/]*|build|tests/output|\.ansible|__pycache__|ansible_collections)/'; then \
		echo 'collection: the tarball holds the files above; add them to build_ignore in galaxy.yml' >&2; exit 1; fi
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) ansible-galaxy collection install --force -p $(COLLECTIONS) \
		$(BUILD)/flashback-platform-*.tar.gz

tree: venv
	$(MAKE_TREE)

# The first signal, in well under 90 s on a warm venv: the unit tests of the collection (plain pytest, in the
# tree) and of the emulator, and the static checks of code and docs (pep8, validate-modules and yamllint of
# ansible-test sanity; antsibull-docs on the plugin docs). make test runs the rest of sanity and everything else.
quick: venv
	$(MAKE_TREE) >/dev/null
	cd $(TREE) && $(UNIT_PYTEST) tests/unit
	$(PY) -m pytest -p no:cacheprovider -q emulator/tests
	$(TEST_HOME_READY)
	cd $(TREE) && $(ANSIBLE_TEST) sanity --python $(PY_VERSION) --local --color no \
		--test pep8 --test validate-modules --test yamllint 2>&1 | grep -v "^WARNING: Location 'file:" | tee $(BUILD)/quick-sanity.log
	$(CHECK_SKIPS) sanity $(BUILD)/quick-sanity.log
	antsibull-docs lint-collection-docs --plugin-docs .

lint: venv collection
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) ansible-lint
	antsibull-changelog lint
	antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
	@# CHANGELOG.rst must be what changelogs/changelog.yaml generates (make changelog rewrites both).
	@# In a copy of its own: lint runs beside sanity (make test), which uses $(TREE).
	$(PY) scripts/make_tree.py . $(CHANGELOG_TREE) >/dev/null
	cd $(CHANGELOG_TREE) && antsibull-changelog generate
	@cmp -s $(CHANGELOG_TREE)/CHANGELOG.rst CHANGELOG.rst || { diff -u CHANGELOG.rst $(CHANGELOG_TREE)/CHANGELOG.rst; \
		echo 'lint: CHANGELOG.rst is not what changelogs/changelog.yaml generates; run make changelog' >&2; exit 1; }
	antsibull-docs lint-collection-docs --plugin-docs .

# Every test on the venv's Python, and the multi-version tests (compile, import) on each Python tests/config.yml
# declares too: ansible-test skips the Pythons it is not asked for silently, so scripts/sanity_pythons.py asks for
# each (found as the matrix finds them, linked into $(PYTHON_LINKS) for ansible-test's own lookup by name) and then
# fails unless the log shows each one ran.
PYTHON_LINKS := $(VENV)/pythons
sanity: venv
	$(MAKE_TREE)
	$(TEST_HOME_READY)
	pythons="$$($(PY) scripts/sanity_pythons.py options $(PYTHON_LINKS))" && cd $(TREE) && \
		PATH=$(PYTHON_LINKS):$$PATH $(ANSIBLE_TEST) sanity $$pythons 2>&1 | tee $(BUILD)/sanity.log
	$(CHECK_SKIPS) sanity $(BUILD)/sanity.log
	$(PY) scripts/sanity_pythons.py check $(BUILD)/sanity.log

# ansible-test units, then plain pytest over the same files in reverse order: an IDE or tox runs module and
# controller tests in one process, in any order, and they must pass there too.
units: venv
	$(MAKE_TREE)
	$(TEST_HOME_READY)
	cd $(TREE) && $(ANSIBLE_TEST) units --python $(PY_VERSION) --local 2>&1 | tee $(BUILD)/units.log
	$(CHECK_SKIPS) units $(BUILD)/units.log
	$(PY) scripts/check_junit.py $(TREE)/tests/output/junit
	cd $(TREE) && $(UNIT_PYTEST) $$(find tests/unit -name 'test_*.py' | LC_ALL=C sort -r)
	$(PY) -m pytest -p no:cacheprovider emulator/tests

integration: venv
	@# The whole suite runs at -vvvv, in two lanes at once (two trees, two emulators), into build/integration.log
	@# and build/integration-b.log, which scripts/leak_audit.py then checks: no token, each secret only as its own
	@# return value, no traceback (docs/reliability.md). A lane that runs no target fails.
	$(TEST_HOME_READY)
	$(TEST_ENV) $(PY) scripts/integration_lanes.py $(PY_VERSION)

# Refresh the fault matrix table in docs/reliability.md from a run (the integration stage fails while
# the committed table differs from what it observes).
reliability-doc:
	$(MAKE) integration || true
	$(PY) tests/integration/targets/flashback_fault_matrix/render_matrix.py --splice \
		$(BUILD)/lane-b/ansible_collections/flashback/platform/tests/output/reliability.md docs/reliability.md

# Every module's EXAMPLES block and every documented playbook, run against the emulator.
examples: venv collection
	$(ECOSYSTEM) tests/ecosystem/test_examples.py tests/ecosystem/test_troubleshooting_guide.py \
		tests/ecosystem/test_secret_delivery.py

# The delivery recipes against the collections they use, extracted from PyPI's `ansible` wheel (cached in
# build/pypi/) into build/recipe-collections/: not run against real targets (docs/recipes/README.md).
recipes: venv collection
	$(ECOSYSTEM) -s tests/ecosystem/test_recipes.py

awx: venv collection
	$(ECOSYSTEM) tests/ecosystem/test_awx_job.py tests/ecosystem/test_awx_survey.py

ee: venv collection
	$(ECOSYSTEM) tests/ecosystem/test_execution_environment.py

# What Galaxy and antsibull-changelog read: the import, version_added against what 0.1.0 shipped, the README.
galaxy-importer: venv collection
	$(ECOSYSTEM) tests/ecosystem/test_galaxy_importer.py tests/ecosystem/test_version_added.py \
		tests/ecosystem/test_readme.py

matrix: venv
	$(PY) scripts/matrix.py --versions $(MATRIX_VERSIONS) --jobs $(MATRIX_JOBS)

# What make test (and so CI) runs of the matrix, within CI's 12-minute budget on 2 cores: the oldest and the
# newest ansible-core beside the .venv's 2.19. Units on 2.16 and 2.21 (the module-argument plumbing changed at
# 2.19; 2.21 runs on Python 3.13), and sanity on 2.21 (its pylint and validate-modules are the strictest). Each
# part runs beside other stages (TEST_STAGES), one job at a time. Measured on 2 cores from a fresh clone: per
# version setup ~25-40 s, units ~30-45 s, sanity ~140 s cold, the role and TLS integration targets on 2.16
# ~140 s. The rest (units on 2.17, 2.18, 2.20; integration on every version) is `make matrix` (~17 min):
# run it before a release and after a change to templating in the role (2.16 evaluates default() arguments
# eagerly).
matrix-ci: matrix-ci-sanity matrix-ci-units

matrix-ci-sanity: venv
	$(PY) scripts/matrix.py --versions 2.21 --stages sanity --jobs 1

matrix-ci-units: venv
	$(PY) scripts/matrix.py --versions 2.16,2.21 --stages units --jobs 1

# Collect the fragments into the release named by galaxy.yml's version (created, or extended if it
# exists) and regenerate CHANGELOG.rst. Commit changelogs/ and CHANGELOG.rst afterwards.
changelog: venv
	antsibull-changelog lint
	antsibull-changelog release --reload-plugins
	antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml

$(DOCS_STAMP): tests/requirements-docs.txt $(STAMP)
	$(PY) -m pip install --quiet --progress-bar off -r tests/requirements-docs.txt
	touch $@

# The docs site: antsibull-docs writes the Sphinx sources (plugin and role pages from the installed
# collection, the guides from docs/docsite/), Sphinx renders them. Intersphinx is off and there is no -W:
# the remote inventories are unreachable here, so references into the Ansible docs stay unresolved
# (DOCS_KNOWN_WARNINGS); any other Sphinx warning fails the target.
DOCS_KNOWN_WARNINGS := undefined label: '(ansible_configuration_settings|common_return_values)'
docs: venv collection $(DOCS_STAMP)
	rm -rf $(DOCS_SRC) $(DOCS_HTML)
	mkdir -p $(DOCS_SRC)
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) antsibull-docs sphinx-init --use-current --squash-hierarchy \
		--lenient --dest-dir $(DOCS_SRC) --project flashback.platform --title flashback.platform \
		--html-short-title flashback.platform --copyright 'Flashback platform team' flashback.platform
	echo 'intersphinx_mapping = {}  # make docs: the remote inventories are unreachable' >> $(DOCS_SRC)/conf.py
	cd $(DOCS_SRC) && ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) antsibull-docs --config-file antsibull-docs.cfg \
		collection --use-current --squash-hierarchy --fail-on-error --dest-dir rst flashback.platform
	sphinx-build -q -b html -c $(DOCS_SRC) $(DOCS_SRC)/rst $(DOCS_HTML) 2>&1 | tee $(BUILD)/docs-warnings.log
	@! grep -vE "$(DOCS_KNOWN_WARNINGS)" $(BUILD)/docs-warnings.log || \
		{ echo 'docs: Sphinx warned about the above' >&2; exit 1; }
	@echo "docs: open $(DOCS_HTML)/index.html"

# Not part of make test. BENCHMARK_ARGS passes options, e.g. make benchmark BENCHMARK_ARGS='--keys 50'.
BENCHMARK_ARGS ?=
benchmark: venv collection
	$(PY) benchmarks/role_converge.py $(BENCHMARK_ARGS)

# Stage timings are printed by make itself, so CI and developers see the same numbers.
test:
	@summary=''; rc=0; \
	for stage in $(TEST_STAGES); do \
		start=$$SECONDS; \
		$(MAKE) --no-print-directory $$( [[ $$stage == *+* ]] && echo -j2 --output-sync=target ) $${stage//+/ } || rc=$$?; \
		summary+="$$(printf '%5d s  %-6s  %s' $$((SECONDS - start)) "$$( ((rc)) && echo FAILED || echo ok)" $$stage)"$$'\n'; \
		((rc == 0)) || break; \
	done; \
	printf '\n== make test: stage timings (a+b: side by side)\n%s' "$$summary"; exit $$rc

demo: collection
	$(WITH_EMULATOR) --vars-file $(DEMO_VARS) -- $(MAKE) --no-print-directory _demo-runs

# Runs under with_emulator.py (see demo), which has written $(DEMO_VARS).
_demo-runs:
	@echo '== demo, first run: creates the keys and shows each new secret once'
	$(DEMO_PLAYBOOK) | tee $(BUILD)/demo/first-run.log
	@grep -Eq '^localhost +: .* changed=[1-9]' $(BUILD)/demo/first-run.log || \
		{ echo 'demo: the first run changed nothing' >&2; exit 1; }
	@echo '== demo, second run: everything is in place, nothing may change'
	$(DEMO_PLAYBOOK) | tee $(BUILD)/demo/second-run.log
	@grep -Eq '^localhost +: .* changed=0 ' $(BUILD)/demo/second-run.log || \
		{ echo 'demo: the second run changed something: not idempotent' >&2; exit 1; }
	@echo '== demo: first run created the keys, second run changed nothing'

clean:
	rm -rf $(BUILD) tests/output tests/integration/inventory tests/integration/integration_config.yml .ansible
	find . -path ./.venv -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) $(CURDIR)/.venv-matrix
