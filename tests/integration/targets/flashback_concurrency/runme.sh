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
# A run may fail in one way only: when runs raced to create the same key, a run that plans after
# the race reports the duplicate (naming the ids) instead of picking one. check.yml judges the rest.
status=0
for run in 1 2 3 4; do
    if ! wait "${pids[$((run - 1))]}"; then
        if grep -q "live API keys are named 'raced-[12]' in repository r2 (ids: " "$workdir/run$run.log"; then
            echo "concurrent run $run reported the raced duplicate, as it should"
        else
            echo "== concurrent run $run failed:"
            cat "$workdir/run$run.log"
            status=1
        fi
    fi
done
if grep -l Traceback "$workdir"/run*.log; then
    echo "a concurrent run printed a traceback"
    status=1
fi
[ "$status" -eq 0 ]

ansible-playbook check.yml "${common[@]}" -e "concurrency_dir=$workdir"
