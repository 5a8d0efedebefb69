#!/usr/bin/env bash
# Install everything and run every test, RabbitMQ included.
#
#   bash tools/run-tests.sh            # lint, docs, unit, functional, cluster
#   bash tools/run-tests.sh -k backoff # extra arguments go to pytest
#
# Installs Debian's rabbitmq-server when missing (needs root and apt-get),
# makes a virtualenv in .venv with the pinned versions of constraints.txt,
# checks lint and the config sample, builds the docs (doc/build/html), then
# runs pytest. The functional tests start their own private RabbitMQ nodes on
# loopback (pifpaf) and stop them.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v rabbitmq-server >/dev/null 2>&1 \
        && [ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "rabbitmq-server is missing; run as root or apt-get install" \
             "rabbitmq-server first" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server \
        >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/pip install -q --upgrade pip >/dev/null
.venv/bin/pip install -q -c constraints.txt -e ".[test,doc]"

echo "== lint (ruff)"
.venv/bin/ruff check .

echo "== docs (Sphinx; a warning fails the run)"
.venv/bin/sphinx-build -E -W --keep-going -q -b html doc doc/build/html

echo "== pytest"
exec .venv/bin/python -m pytest -p no:cacheprovider -ra "$@"
