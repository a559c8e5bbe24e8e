#!/usr/bin/env bash
# The Slurm test: bring up a one-node Slurm cluster (local-cluster.sh),
# build the release binary once, run the quick report as one process and
# as a job array of 4 tasks (array.sbatch, one CPU each), merge the array's
# shards, and check that the merged report.json has the same claims —
# ids, verdicts, measured values, every field but wall times — and the
# same exit status as the one process (compared with jq, installed when
# missing). Run as root (or with sudo available, for the cluster and the
# packages); `.ci/run` runs it after the tests.
set -euo pipefail
cd "$(dirname "$0")/../.."

tasks=4
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}
start=$SECONDS
as_root scripts/slurm/local-cluster.sh
if ! command -v jq >/dev/null; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends jq >/dev/null
fi
cluster_s=$((SECONDS - start))

t=$SECONDS
cargo build --release --quiet -p cli
build_s=$((SECONDS - t))
target=${CARGO_TARGET_DIR:-target}
bin=$(cd "$target/release" && pwd)/feature-learning-checks

work=$(mktemp -d "${TMPDIR:-/tmp}/slurm-test.XXXXXX")
trap 'rm -rf "$work"' EXIT

t=$SECONDS
one_status=0
"$bin" report --quick --quiet --format json --out "$work/one" || one_status=$?
one_s=$((SECONDS - t))

t=$SECONDS
sbatch --wait --quiet --array=0-$((tasks - 1)) --cpus-per-task=1 \
    --output="$work/task-%a.out" --export=ALL,FLC_BIN="$bin" \
    scripts/slurm/array.sbatch report --quick --quiet --out "$work/array" || {
    echo "slurm test: the job array failed; task logs:" >&2
    tail -n 5 "$work"/task-*.out >&2
    exit 1
}
array_s=$((SECONDS - t))
shards=$(find "$work/array/units" -mindepth 1 -maxdepth 1 -type d -name "shard-*-of-$tasks" | wc -l)
if [ "$shards" -ne "$tasks" ]; then
    echo "slurm test: expected $tasks shards, found $shards" >&2
    exit 1
fi

merge_status=0
"$bin" merge "$work/array" --quiet --format json || merge_status=$?
if [ "$merge_status" -ne "$one_status" ]; then
    echo "slurm test: merge exited $merge_status, the one process $one_status" >&2
    exit 1
fi

claims() { jq --sort-keys '[.claims[] | del(.wall_time_s)]' "$1/report.json"; }
if ! cmp -s <(claims "$work/one") <(claims "$work/array"); then
    echo "slurm test: the merged claims differ from one process:" >&2
    diff <(claims "$work/one") <(claims "$work/array") | head -n 20 >&2
    exit 1
fi
count=$(jq '.claims | length' "$work/one/report.json")
echo "slurm test: $tasks-task array merged = one process ($count claims);" \
    "cluster ${cluster_s} s, release build ${build_s} s, one process ${one_s} s, array ${array_s} s"
