#!/usr/bin/env bash
# The Python package's tests, as a user installs it: build the wheel (maturin, release), show its platform
# tag and shared-library needs (auditwheel show), install it into a fresh virtual environment and run
# python/tests there with pytest (whose summary line ends the output).
#
# Environment: PYTHON (default python3) builds the environments; DANNSCOPE_BIN is the cargo-built binary
# the command line is compared with (default: target/debug/dannscope, which `cargo test` builds);
# DANNSCOPE_WHEEL_DIR (default target/wheels) receives the wheel. The test environment sees the system's
# packages (--system-site-packages), so the exporter tests use the torch stack of models/requirements.txt
# where it is installed instead of downloading it again.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
PYTHON=${PYTHON:-python3}
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
WHEELS=${DANNSCOPE_WHEEL_DIR:-$TARGET/wheels}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
PIP=(--quiet --disable-pip-version-check)

# Build tools in an environment of their own (pinned in python/build-requirements.txt).
"$PYTHON" -m venv "$WORK/build"
"$WORK/build/bin/pip" install "${PIP[@]}" -r python/build-requirements.txt
rm -f "$WHEELS"/dannscope-*.whl
"$WORK/build/bin/maturin" build --release --locked --out "$WHEELS"
shopt -s nullglob
wheels=("$WHEELS"/dannscope-*.whl)
[ ${#wheels[@]} -eq 1 ] || { echo "error: expected one wheel in $WHEELS, found ${#wheels[@]}" >&2; exit 1; }
WHEEL=${wheels[0]}
echo "wheel: $(basename "$WHEEL") ($(du -k "$WHEEL" | cut -f1) KiB)"
"$WORK/build/bin/auditwheel" show "$WHEEL"

# A fresh environment: the wheel, then what the tests need.
"$PYTHON" -m venv --system-site-packages "$WORK/venv"
"$WORK/venv/bin/pip" install "${PIP[@]}" "$WHEEL"
"$WORK/venv/bin/pip" install "${PIP[@]}" -r python/tests/requirements.txt

if [ -z "${DANNSCOPE_BIN:-}" ] && [ -x "$TARGET/debug/dannscope" ]; then
  export DANNSCOPE_BIN=$TARGET/debug/dannscope
fi
export DANNSCOPE_REPO=$REPO
# Run from the environment's folder so that the checkout's python/dannscope can never be imported.
cd "$WORK"
"$WORK/venv/bin/python" -m pytest "$REPO/python/tests" -q -rs -p no:cacheprovider --rootdir "$REPO/python/tests"
