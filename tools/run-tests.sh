#!/usr/bin/env bash
# Install everything and run every test, RabbitMQ included.
#
#   bash tools/run-tests.sh            # lint, docs, unit, functional, cluster
#   bash tools/run-tests.sh -k backoff # extra arguments go to pytest
#
# Installs Debian's rabbitmq-server, postgresql and mariadb-server when
# missing (needs root and apt-get; the tests start private servers of
# their own, not Debian's services), makes a virtualenv in .venv with the
# pinned versions of constraints.txt (the test extras include the
# PostgreSQL and MySQL drivers psycopg2-binary and PyMySQL),
# checks lint and the config sample, builds the docs (doc/build/html), then
# runs pytest. Then runs the unit and functional tests (not the cluster
# scenario) again in .venv-oldest, on the oldest supported versions
# (constraints-oldest.txt); a failure in either run fails the script. The
# functional tests start their own private RabbitMQ nodes on loopback
# (pifpaf) and PostgreSQL and MariaDB servers on unix sockets
# (tests/databases.py), and stop them. Last, tools/tacker-compat.sh: tacker
# 16.0.0's RPC unit tests on tacker's own rpc.py and on the migration module
# of doc/migrating.rst must give the same results, and tacker-conductor must
# serve VNFPackageRPCAPI on RabbitMQ through it (its own .venv-tacker).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
if ! command -v rabbitmq-server >/dev/null 2>&1 \
        && [ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
    missing+=(rabbitmq-server)
fi
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    missing+=(postgresql)
fi
if ! command -v mariadb-install-db >/dev/null 2>&1; then
    missing+=(mariadb-server)
fi
if [ "${#missing[@]}" != 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "${missing[*]} missing; run as root or apt-get install" \
             "${missing[*]} first" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" \
        >/dev/null
fi

PYTHON=${PYTHON:-python3}
make_venv() {  # make_venv DIR CONSTRAINTS EXTRAS
    if [ ! -x "$1/bin/python" ]; then
        "$PYTHON" -m venv "$1"
    fi
    "$1/bin/pip" install -q --upgrade pip >/dev/null
    "$1/bin/pip" install -q -c "$2" -e ".[$3]"
}
make_venv .venv constraints.txt test,doc
make_venv .venv-oldest constraints-oldest.txt test

echo "== lint (ruff)"
.venv/bin/ruff check .

echo "== docs (Sphinx; a warning fails the run)"
.venv/bin/sphinx-build -E -W --keep-going -q -b html doc doc/build/html

status=0
echo "== pytest (constraints.txt)"
.venv/bin/python -m pytest -p no:cacheprovider -ra "$@" || status=$?

echo "== pytest on the oldest supported versions (constraints-oldest.txt)"
.venv-oldest/bin/python -m pytest -p no:cacheprovider -ra \
    -m "not cluster and not current_pins" "$@" || status=$?

echo "== tacker on tacker_rpc (tools/tacker-compat.sh)"
bash tools/tacker-compat.sh || status=$?
exit "$status"
