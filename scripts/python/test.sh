#!/usr/bin/env bash
# The Python package's tests: a fresh virtual environment under target/,
# the pinned test requirements, the package installed with the README's
# line (`pip install ./crates/python`, built by maturin), PyTorch for the
# tests that train a real model (requirements-torch.txt), then pytest.
# The tests compare against the release CLI binary, built here first.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=target/python-venv
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet -r crates/python/requirements-test.txt
"$venv/bin/pip" install --quiet -r crates/python/requirements-torch.txt
"$venv/bin/pip" install --quiet ./crates/python
cargo build --release --locked --quiet -p cli --bin feature-learning-checks
cd crates/python
../../"$venv"/bin/python -m pytest -q tests
