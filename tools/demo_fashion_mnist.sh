#!/usr/bin/env bash
# The main job of the README: train a model on Fashion-MNIST (offline, real data) and
# print its test accuracy. Usage: bash tools/demo_fashion_mnist.sh [EPOCHS] [CONFIG]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EPOCHS=${1:-2}
CONFIG=${2:-configs/vanilla/fashion_mnist/resnet14-w16_1xb128_fashion-mnist.py}
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
WORK_DIR="${WORK_DIR:-$ROOT/work_dirs/demo_$(basename "$CONFIG" .py)}"
cd "$ROOT"
start=$SECONDS
"$PYTHON" tools/train.py "$CONFIG" --work-dir "$WORK_DIR" \
  --cfg-options train_cfg.max_epochs="$EPOCHS" param_scheduler.1.T_max="$EPOCHS"
"$PYTHON" tools/test.py "$CONFIG" "$WORK_DIR/epoch_$EPOCHS.pth" --work-dir "$WORK_DIR" \
  --out "$WORK_DIR/test_metrics.json"
"$PYTHON" - "$WORK_DIR/test_metrics.json" "$((SECONDS - start))" <<'PY'
import json, sys
metrics = json.load(open(sys.argv[1]))
print(f"Fashion-MNIST test accuracy: {metrics['accuracy/top1']:.2f} % "
      f"(train + test wall time {sys.argv[2]} s)")
PY
