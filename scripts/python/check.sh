#!/bin/sh
# The Python package, end to end: a virtual environment with pinned tools from PyPI (made
# once, in python/.venv), the wheel built by maturin, installed, then its pytest suite and
# mypy --strict over the stubs and a typed usage file. Needs only PyPI and crates.io.
#
# VQ_PY_WHEEL_TAG=native builds for this machine's glibc instead of manylinux2014 (zig
# as the linker), for a quicker local build.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
py=$root/python
venv=$py/.venv
python=${PYTHON:-python3}

# Pinned: maturin builds the wheel, ziglang links it against glibc 2.17 (manylinux2014),
# numpy is the package's one dependency, pytest and mypy check it.
pins="maturin==1.16.0 ziglang==0.17.1 numpy==2.4.6 pytest==9.2.0 mypy==2.4.1"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.pins" 2>/dev/null)" != "$pins" ]; then
    rm -rf "$venv"
    "$python" -m venv "$venv"
    # shellcheck disable=SC2086 # one word per pin
    "$venv/bin/pip" install --quiet --disable-pip-version-check $pins
    echo "$pins" >"$venv/.pins"
fi
PATH=$venv/bin:$PATH
VIRTUAL_ENV=$venv
export PATH VIRTUAL_ENV

wheels=$py/target/wheels
rm -rf "$wheels"
cd "$py"
if [ "${VQ_PY_WHEEL_TAG:-manylinux2014}" = native ]; then
    maturin build --release --out "$wheels"
else
    maturin build --release --compatibility manylinux2014 --zig --out "$wheels"
fi
wheel=$(ls "$wheels"/vq-*.whl)
echo "check.sh: built $(basename "$wheel")"
pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$wheel"

# From the repository root, where no `vq` directory shadows the installed package.
cd "$root"
pytest -q -p no:cacheprovider python/tests
mypy --strict --no-incremental python/tests/typed_usage.py python/vq/__init__.py python/vq/_cli.py python/vq/_vq.pyi
