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
BUILD := $(CURDIR)/build
COLLECTIONS := $(BUILD)/collections
# ansible-test only works inside .../ansible_collections/NAMESPACE/NAME/.
TREE := $(BUILD)/ansible_collections/flashback/platform
DEMO_VARS := $(BUILD)/demo/vars.yml

# The venv first on PATH: ansible-test resolves --python X.Y to pythonX.Y on PATH, and that
# interpreter runs the modules in integration tests, so it must be the one that has `requests`.
export PATH := $(BIN):$(PATH)
unexport ANSIBLE_COLLECTIONS_PATH ANSIBLE_COLLECTIONS_PATHS
# Lazily evaluated: only valid once the venv exists.
PY_VERSION = $(shell $(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])')

MAKE_TREE := $(PY) scripts/make_tree.py . $(TREE)
WITH_EMULATOR := $(PY) $(CURDIR)/scripts/with_emulator.py
DEMO_PLAYBOOK := ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) ansible-playbook -i demo/inventory.ini \
	-e @$(DEMO_VARS) demo/playbook.yml
TEST_STAGES := venv lint sanity units integration

.PHONY: help venv collection tree lint sanity units integration reliability-doc test demo _demo-runs clean distclean

help:
	@echo 'make demo         run demo/playbook.yml twice against the emulator (second run must change nothing)'
	@echo 'make test         $(TEST_STAGES), stopping at the first failure'
	@echo 'make venv         .venv with tests/requirements.txt (redone when that file changes)'
	@echo 'make collection   build the tarball into build/ and install it into build/collections'
	@echo 'make tree         fresh copy of the sources at build/ansible_collections/flashback/platform'
	@echo 'make lint | sanity | units | integration   one test stage'
	@echo 'make reliability-doc   refresh the fault matrix table in docs/reliability.md from a test run'
	@echo 'make clean        remove build and test output; make distclean also removes .venv'

venv: $(STAMP)

$(STAMP): tests/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --progress-bar off -r tests/requirements.txt
	touch $@

collection: venv
	rm -rf $(COLLECTIONS) $(BUILD)/flashback-platform-*.tar.gz
	ansible-galaxy collection build --force --output-path $(BUILD) .
	@# A tarball holding build output or venvs means build_ignore in galaxy.yml misses something.
	@if tar -tzf $(BUILD)/flashback-platform-*.tar.gz | grep -E '(^|/)(\.venv[^/]*|build|tests/output|\.ansible|__pycache__|ansible_collections)/'; then \
		echo 'collection: the tarball holds the files above; add them to build_ignore in galaxy.yml' >&2; exit 1; fi
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) ansible-galaxy collection install --force -p $(COLLECTIONS) \
		$(BUILD)/flashback-platform-*.tar.gz

tree: venv
	$(MAKE_TREE)

lint: collection
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) ansible-lint

sanity: venv
	$(MAKE_TREE)
	$(PY) scripts/get_pip_shim.py
	cd $(TREE) && ansible-test sanity --python $(PY_VERSION) --local 2>&1 | tee $(BUILD)/sanity.log
	@# ansible-test passes a test whose tool is missing (shellcheck, once *.sh files exist); we want it run.
	@! grep -E 'Required program .* not found|Skipping sanity test' $(BUILD)/sanity.log || \
		{ echo 'sanity: the tests above were skipped; install their tools (apt-get install shellcheck)' >&2; exit 1; }

units: venv
	$(MAKE_TREE)
	cd $(TREE) && ansible-test units --python $(PY_VERSION) --local
	$(PY) scripts/check_junit.py $(TREE)/tests/output/junit
	$(PY) -m pytest -p no:cacheprovider emulator/tests

integration: venv
	$(MAKE_TREE)
	@# ansible-test passes when no target is selected; a stage that tests nothing must fail.
	cd $(TREE) && test -n "$$(ansible-test integration --list-targets)" || { echo 'integration: no targets' >&2; exit 1; }
	@# The whole suite runs at -vvvv into build/integration.log, which scripts/leak_audit.py then checks:
	@# no token, each secret only as its own return value, no traceback (docs/reliability.md).
	cd $(TREE) && $(WITH_EMULATOR) --vars-file tests/integration/integration_config.yml -- \
		$(PY) $(CURDIR)/scripts/leak_audit.py --log $(BUILD)/integration.log \
		--vars-file tests/integration/integration_config.yml --tolerate flashback_env_token -- \
		ansible-test integration --python $(PY_VERSION) --local -vvvv

# Refresh the fault matrix table in docs/reliability.md from a run (the integration stage fails while
# the committed table differs from what it observes).
reliability-doc:
	$(MAKE) integration || true
	$(PY) tests/integration/targets/flashback_fault_matrix/render_matrix.py --splice \
		$(TREE)/tests/output/reliability.md docs/reliability.md

# Stage timings are printed by make itself, so CI and developers see the same numbers.
test:
	@summary=''; rc=0; \
	for stage in $(TEST_STAGES); do \
		start=$$SECONDS; $(MAKE) --no-print-directory $$stage || rc=$$?; \
		summary+="$$(printf '%-12s %5d s  %s' $$stage $$((SECONDS - start)) "$$( ((rc)) && echo FAILED || echo ok)")"$$'\n'; \
		((rc == 0)) || break; \
	done; \
	printf '\n== make test: stage timings\n%s' "$$summary"; exit $$rc

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
	rm -rf $(VENV)
