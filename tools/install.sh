#!/usr/bin/env bash
# Installs mmrazor and its whole stack from nothing into a virtual environment.
#
#   bash tools/install.sh            # venv in ./.venv (override with MMRAZOR_VENV)
#
# Steps: Debian's Fashion-MNIST package (the offline data set), torch + torchvision,
# the OpenMMLab stack, mmcv compiled with CPU ops (built once, then reused from
# $MMRAZOR_CACHE/wheels), and mmrazor itself in editable mode with the test tools.
# Re-running is cheap: every step is skipped or a pip no-op when already done.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MMRAZOR_VENV:-$ROOT/.venv}"
CACHE="${MMRAZOR_CACHE:-$HOME/.cache/mmrazor}"
PYTHON="${PYTHON:-python3.11}"
MMCV_VERSION=2.1.0
WHEELS="$CACHE/wheels"

log() { printf '[install %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

install_fashion_mnist() {
  local dir=/usr/share/datasets/fashion-mnist
  if [ -f "$dir/t10k-labels-idx1-ubyte.gz" ]; then
    log "Fashion-MNIST present in $dir"
    return
  fi
  if [ "$(id -u)" != 0 ]; then
    log "Fashion-MNIST missing: run 'sudo apt-get install -y dataset-fashion-mnist'"
    return
  fi
  log "installing Debian package dataset-fashion-mnist"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null
}

make_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating virtual environment $VENV"
    "$PYTHON" -m venv "$VENV"
  fi
  PIP=("$VENV/bin/python" -m pip install --disable-pip-version-check -q
       -c "$ROOT/requirements/constraints.txt")
  "${PIP[@]}" --upgrade 'pip>=24'
  "${PIP[@]}" -r "$ROOT/requirements/build.txt"
}

# mmcv has no PyPI wheel with compiled ops for this Python. We compile its sdist once
# with CPU ops and keep the wheel in $WHEELS; later installs take the cached wheel.
# torch >= 2.14's headers need C++20 while mmcv's setup.py forces C++17: patch that
# one flag in the unpacked sdist (an install-time fix, nothing patched at run time).
build_mmcv_wheel() {
  local wheel
  wheel=$(ls "$WHEELS"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n 1 || true)
  if [ -n "$wheel" ]; then
    log "mmcv wheel cached: $wheel"
    MMCV_WHEEL="$wheel"
    return
  fi
  log "building mmcv $MMCV_VERSION with CPU ops (about 25-40 min on 2 cores, done once)"
  local work
  work=$(mktemp -d)
  "$VENV/bin/python" -m pip download --disable-pip-version-check -q --no-deps \
    -c "$ROOT/requirements/constraints.txt" \
    --no-binary mmcv --no-build-isolation "mmcv==$MMCV_VERSION" -d "$work"
  tar -xzf "$work"/mmcv-"$MMCV_VERSION".tar.gz -C "$work"
  sed -i 's/-std=c++17/-std=c++20/g; s/-std=c++14/-std=c++20/g' \
    "$work/mmcv-$MMCV_VERSION/setup.py"
  (cd "$work/mmcv-$MMCV_VERSION" &&
    MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS="${MAX_JOBS:-2}" \
      "$VENV/bin/python" -m pip wheel --disable-pip-version-check -q \
      --no-deps --no-build-isolation . -w "$work/dist")
  mkdir -p "$WHEELS"
  # Move in one step so an interrupted build never leaves a half-written wheel.
  wheel=$(ls "$work"/dist/mmcv-*.whl)
  mv "$wheel" "$WHEELS/"
  MMCV_WHEEL="$WHEELS/$(basename "$wheel")"
  rm -rf "$work"
}

main() {
  local start=$SECONDS
  install_fashion_mnist
  make_venv
  log "installing torch + torchvision"
  "${PIP[@]}" -r "$ROOT/requirements/torch.txt"
  "${PIP[@]}" -r "$ROOT/requirements/runtime.txt" mmengine==0.10.7
  build_mmcv_wheel
  log "installing mmcv, mmpretrain, mmdet, mmsegmentation and mmrazor"
  "${PIP[@]}" "$MMCV_WHEEL"
  "${PIP[@]}" -r "$ROOT/requirements/mminstall.txt" -r "$ROOT/requirements/tests.txt"
  "${PIP[@]}" --no-build-isolation --no-deps -e "$ROOT"
  "$VENV/bin/python" -c "import mmcv.ops, mmdet.models, mmseg.models, mmpretrain.models, mmrazor; print('stack ok: mmrazor', mmrazor.__version__)"
  log "done in $((SECONDS - start)) s; activate with: source $VENV/bin/activate"
}

main "$@"
