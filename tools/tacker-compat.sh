#!/usr/bin/env bash
# tacker runs on tacker_rpc: tacker 16.0.0's RPC unit tests, on tacker's own
# tacker/common/rpc.py and then on the migration module of doc/migrating.rst
# (examples/tacker_common_rpc.py), must give every test the same result,
# and each run must exit; then tacker-conductor's start path is tested on a
# real RabbitMQ through the migration module (tests/tacker).
#
#   bash tools/tacker-compat.sh          # or: tox -e tacker-compat
#
# Makes .venv-tacker (git-ignored) with tacker's requirements and test
# requirements pinned by tools/tacker-compat-constraints.txt (oslo.messaging
# 18.3.1), tacker from its sdist (the wheel lacks samples/ and
# test-requirements.txt) and this checkout of tacker_rpc. Runs the tests as
# tacker's tox does (stestr, one worker) in two copies of tacker's tree,
# .venv-tacker/run-own and .venv-tacker/run-migrated. A run that does not
# exit within TACKER_COMPAT_TIMEOUT seconds (600) fails the script.
# Needs network access to the package index only; no Debian package beyond
# rabbitmq-server (tools/run-tests.sh installs it) is needed.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
TACKER_VERSION=16.0.0
PYTHON=${PYTHON:-python3}
TIMEOUT=${TACKER_COMPAT_TIMEOUT:-600}
venv=$repo/.venv-tacker
constraints=$repo/tools/tacker-compat-constraints.txt
# tacker's RPC-related unit tests (issue 18's selection).
selection='^tacker\.tests\.unit\.(conductor\.|sol_refactored\.conductor\.'
selection+='|sol_refactored\.mgmt_drivers\.test_server_notification\.'
selection+='|api\.v2\.test_api_v2\.|test_context\.|common\.'
selection+='|vnflcm\.test_sync_resource\.|vnflcm\.test_vnflcm_driver\.'
selection+='|cmd\.)'

started=$SECONDS
echo "== tacker-compat: install (.venv-tacker, tacker $TACKER_VERSION)"
if [ ! -x "$venv/bin/python" ]; then
    "$PYTHON" -m venv "$venv"
fi
results=$venv/results
mkdir -p "$results"
pip() {  # pip's output goes to a log, shown when it fails
    "$venv/bin/pip" "$@" >"$results/pip.log" 2>&1 || {
        cat "$results/pip.log" >&2
        return 1
    }
}
pip install --upgrade pip
src=$venv/tacker-$TACKER_VERSION
if [ ! -f "$src/PKG-INFO" ]; then
    rm -rf "$venv/sdist" "$src"
    pip download --no-deps --no-binary :all: -d "$venv/sdist" \
        "tacker==$TACKER_VERSION"
    tar -xzf "$venv/sdist/tacker-$TACKER_VERSION.tar.gz" -C "$venv"
fi
pip install -c "$constraints" -r "$src/requirements.txt" \
    -r "$src/test-requirements.txt"
pip install -c "$constraints" --no-deps "$src"
pip install -c "$constraints" -e ".[test]"
install_time=$((SECONDS - started))

run_tests() {  # run_tests NAME: stestr in .venv-tacker/run-NAME
    local tree=$venv/run-$1 begin=$SECONDS rc=0
    # (set -e does not apply in the subshell, run in an || list: &&.)
    (
        cd "$tree" &&
        # The tree's tacker and this checkout's tacker_rpc are the ones used.
        "$venv/bin/python" -W ignore - "$tree" "$repo" <<'EOF' &&
import sys
import tacker.common.rpc
import tacker_rpc
for module, root in ((tacker.common.rpc, sys.argv[1]),
                     (tacker_rpc, sys.argv[2])):
    if not module.__file__.startswith(root + "/"):
        sys.exit("%s comes from %s, not %s"
                 % (module.__name__, module.__file__, root))
EOF
        rm -rf .stestr &&
        "$venv/bin/stestr" init >/dev/null &&
        timeout --kill-after=30 "$TIMEOUT" \
            "$venv/bin/stestr" run --concurrency 1 "$selection" \
            >"$results/$1.log" 2>&1
    ) || rc=$?
    local took=$((SECONDS - begin))
    printf -v "${1}_time" %s "$took"
    rm -f "$results/$1.csv"
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        echo "$1: the run did not exit within ${TIMEOUT}s (hang)" >&2
        tail -20 "$results/$1.log" >&2
        return 1
    fi
    (cd "$tree" && "$venv/bin/stestr" last --subunit) \
        | "$venv/bin/subunit2csv" >"$results/$1.csv" || return 1
    echo "$1: stestr exited $rc after ${took}s (log $results/$1.log)"
    sed -n '/^Ran: /,/^ - Failed/p' "$results/$1.log"
}

status=0
for name in own migrated; do
    rm -rf "$venv/run-$name"
    cp -a "$src" "$venv/run-$name"
done
cp examples/tacker_common_rpc.py "$venv/run-migrated/tacker/common/rpc.py"
echo "== tacker-compat: tacker's unit tests on tacker's own rpc.py"
run_tests own || status=1
echo "== tacker-compat: the same tests on the migration module"
run_tests migrated || status=1
if [ "$status" = 0 ]; then
    "$venv/bin/python" tools/tacker_compat_compare.py \
        "$results/own.csv" "$results/migrated.csv" || status=1
fi

echo "== tacker-compat: tacker-conductor on RabbitMQ (tests/tacker)"
functional_begin=$SECONDS
(
    cd "$venv/run-migrated"
    # tacker from the migrated tree, tacker_rpc and tests from this checkout.
    TACKER_RPC_TACKER_TESTS=1 PYTHONPATH="$venv/run-migrated:$repo" \
        flock /tmp/tacker_rpc_broker.lock \
        timeout --kill-after=30 "$TIMEOUT" \
        "$venv/bin/python" -m pytest -p no:cacheprovider -ra \
        -c "$repo/pyproject.toml" --rootdir "$repo" -m tacker \
        "$repo/tests/tacker"
) || status=1
functional_time=$((SECONDS - functional_begin))

echo "== tacker-compat summary: install ${install_time}s," \
     "own rpc.py run ${own_time:-?}s, migration module run" \
     "${migrated_time:-?}s, conductor test ${functional_time}s," \
     "total $((SECONDS - started))s"
exit "$status"
