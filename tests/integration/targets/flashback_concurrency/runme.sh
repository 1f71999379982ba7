#!/usr/bin/env bash
# Four ansible-playbook runs converge the same declared keys at the same time; then one more run
# checks the outcome (see check.yml).
set -eu

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
export ANSIBLE_ROLES_PATH=..
common=(-i "$INVENTORY_PATH" -e @../../integration_config.yml "$@")

ansible-playbook seed.yml "${common[@]}"

pids=()
for run in 1 2 3 4; do
    ansible-playbook converge.yml "${common[@]}" -e "concurrency_out=$workdir/run$run.json" \
        > "$workdir/run$run.log" 2>&1 &
    pids+=("$!")
done
status=0
for run in 1 2 3 4; do
    if ! wait "${pids[$((run - 1))]}"; then
        echo "== concurrent run $run failed:"
        cat "$workdir/run$run.log"
        status=1
    fi
done
if grep -l Traceback "$workdir"/run*.log; then
    echo "a concurrent run printed a traceback"
    status=1
fi
[ "$status" -eq 0 ]

ansible-playbook check.yml "${common[@]}" -e "concurrency_dir=$workdir"
