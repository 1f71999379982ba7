#!/usr/bin/env bash
# Drives every fault the emulator can inject through every API operation, then renders the
# outcomes as the table in docs/reliability.md and fails if any cell did not converge or the
# committed table differs from what this run observed.
set -eu

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT

# integration_config.yml (emulator URL and tokens) is written by the Makefile.
ANSIBLE_ROLES_PATH=.. ansible-playbook matrix.yml -i "$INVENTORY_PATH" -e @../../integration_config.yml \
    -e "fault_matrix_results=$workdir/results.json" "$@"

# ansible-test points ANSIBLE_COLLECTIONS_PATH at the directory holding ansible_collections/.
collection="$ANSIBLE_COLLECTIONS_PATH/ansible_collections/flashback/platform"
mkdir -p "$collection/tests/output"
python render_matrix.py "$workdir/results.json" "$collection/tests/output/reliability.md" \
    --compare "$collection/docs/reliability.md"
