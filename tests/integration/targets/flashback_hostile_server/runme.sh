#!/usr/bin/env bash
# Runs playbook.yml against the emulator's hostile mode at verbosity 0, 1 and 4, and checks each whole output:
# no token, no secret, no raw control character, no forged fatal line, no traceback, bounded memory.
set -eu

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT

# integration_config.yml (emulator URL and tokens) is written by the Makefile; ansible-test hands it to role
# targets itself but not to script targets.
for verbosity in "" -v -vvvv; do
    ANSIBLE_NOCOLOR=1 ANSIBLE_ROLES_PATH=.. python check_output.py --log "$workdir/output${verbosity}.log" \
        --vars-file ../../integration_config.yml -- \
        ansible-playbook playbook.yml -i "$INVENTORY_PATH" -e @../../integration_config.yml ${verbosity}
done
