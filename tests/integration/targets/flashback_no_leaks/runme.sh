#!/usr/bin/env bash
# Runs every module operation at -vvv and checks the whole output: the API token must not
# appear anywhere, and each new secret only once, as the `secret` value of the task that created it.
set -eu

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT

# integration_config.yml (emulator URL and tokens) is written by the Makefile; ansible-test
# hands it to role targets itself but not to script targets.
status=0
ANSIBLE_NOCOLOR=1 ANSIBLE_ROLES_PATH=.. ansible-playbook playbook.yml -i "$INVENTORY_PATH" \
    -e @../../integration_config.yml -e "leak_audit_dir=$workdir" "$@" -vvv > "$workdir/output.log" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
    cat "$workdir/output.log"
    exit "$status"
fi
python check_leaks.py "$workdir/output.log" "$workdir/values.json"

# The role with a delivery hook under the junit callback, which records loop items whatever no_log says.
ANSIBLE_NOCOLOR=1 ANSIBLE_ROLES_PATH=.. ANSIBLE_CALLBACKS_ENABLED=junit JUNIT_OUTPUT_DIR="$workdir/junit" \
    ansible-playbook role_junit.yml -i "$INVENTORY_PATH" -e @../../integration_config.yml \
    -e "leak_audit_dir=$workdir" "$@" > "$workdir/junit.log" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
    cat "$workdir/junit.log"
    exit "$status"
fi
python check_junit.py "$workdir/junit" "$workdir/issued.json" "$workdir"
