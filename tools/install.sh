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

# Where the mmcv ops run: "cpu", or "cuda-<compute capabilities>" when this machine has
# an NVIDIA GPU and nvcc (then mmdet/mmseg ops such as NMS, RoIAlign and deformable conv
# also run on CUDA tensors). MMRAZOR_MMCV_DEVICE=cpu forces a CPU-only build.
mmcv_target() {
  if [ "${MMRAZOR_MMCV_DEVICE:-}" = cpu ]; then echo cpu; return; fi
  local caps
  caps=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | sort -u | paste -sd ';' || true)
  if [ -z "$caps" ]; then echo cpu; return; fi
  if ! command -v nvcc >/dev/null 2>&1; then
    log "an NVIDIA GPU is present but nvcc is not: mmcv is built with CPU ops only, so mmcv/mmdet/mmseg ops (NMS, RoIAlign, deformable conv) run on CPU tensors only; install the CUDA toolkit and rerun for GPU ops" >&2
    echo cpu; return
  fi
  echo "cuda-${caps//;/_}"
}

# mmcv has no PyPI wheel with compiled ops for this Python. We compile its sdist once
# (CPU ops, or CUDA ops for this machine's GPUs) and keep the wheel in $WHEELS/<target>;
# later installs take the cached wheel. torch >= 2.14's headers need C++20 while mmcv's
# setup.py forces C++17: patch that one flag in the unpacked sdist (an install-time
# fix, nothing patched at run time).
build_mmcv_wheel() {
  local target wheel dir
  target=$(mmcv_target)
  dir="$WHEELS/$target"
  [ "$target" = cpu ] && dir="$WHEELS"  # where CPU wheels have always been cached
  wheel=$(ls "$dir"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n 1 || true)
  if [ -n "$wheel" ]; then
    log "mmcv wheel cached ($target): $wheel"
    MMCV_WHEEL="$wheel"
    return
  fi
  local flags=(MMCV_WITH_OPS=1 FORCE_CUDA=0)
  if [ "$target" != cpu ]; then
    local caps="${target#cuda-}"
    flags=(MMCV_WITH_OPS=1 FORCE_CUDA=1 "TORCH_CUDA_ARCH_LIST=${caps//_/;}")
    log "building mmcv $MMCV_VERSION with CUDA ops for compute capability ${caps//_/, } (done once)"
  else
    log "building mmcv $MMCV_VERSION with CPU ops (about 12-35 min on 2 cores, done once)"
  fi
  local work
  work=$(mktemp -d)
  "$VENV/bin/python" -m pip download --disable-pip-version-check -q --no-deps \
    -c "$ROOT/requirements/constraints.txt" \
    --no-binary mmcv --no-build-isolation "mmcv==$MMCV_VERSION" -d "$work"
  tar -xzf "$work"/mmcv-"$MMCV_VERSION".tar.gz -C "$work"
  sed -i 's/-std=c++17/-std=c++20/g; s/-std=c++14/-std=c++20/g' \
    "$work/mmcv-$MMCV_VERSION/setup.py"
  (cd "$work/mmcv-$MMCV_VERSION" &&
    env "${flags[@]}" MAX_JOBS="${MAX_JOBS:-2}" \
      "$VENV/bin/python" -m pip wheel --disable-pip-version-check -q \
      --no-deps --no-build-isolation . -w "$work/dist")
  mkdir -p "$dir"
  # Move in one step so an interrupted build never leaves a half-written wheel.
  wheel=$(ls "$work"/dist/mmcv-*.whl)
  mv "$wheel" "$dir/"
  MMCV_WHEEL="$dir/$(basename "$wheel")"
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
  "$VENV/bin/python" -c "import torch, mmcv.ops; from mmcv.ops import get_compiling_cuda_version as v; print('mmcv ops for', 'CUDA ' + v() if torch.cuda.is_available() and v() != 'not available' else 'CPU tensors')"
  log "done in $((SECONDS - start)) s; activate with: source $VENV/bin/activate"
}

main "$@"
