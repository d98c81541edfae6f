"""tools/analysis_tools/get_flops.py (and MMRazor's tools/pruning/get_flops.py) as a user
runs them: an mmrazor algorithm config, a plain mmdet config, bad options."""
import json
import re
import sys

from mmengine.config import Config

from mmrazor.models.task_modules.estimators import get_model_flops_params
from mmrazor.utils import build_model_from_config, register_all_modules, resolve_cfg_path

from ..kd_helpers import KD_CONFIG
from .test_train_test import assert_ok, run_tool


def test_algorithm_config_measures_the_student(tmp_path):
    out = tmp_path / 'figures.json'
    log = assert_ok(run_tool([sys.executable, 'tools/analysis_tools/get_flops.py', KD_CONFIG,
                              '--shape', '1', '28', '28', '--out', str(out),
                              '--cfg-options', 'model.teacher_ckpt=None']))
    assert 'ImageClassifier (the architecture of SingleTeacherDistill)' in log
    for row in ('backbone', 'neck', 'head', 'total'):
        assert any(line.startswith(row) for line in log.splitlines()), row
    figures = json.loads(out.read_text())
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(KD_CONFIG)
    cfg.model.teacher_ckpt = None
    student = build_model_from_config(cfg).architecture
    flops, params = get_model_flops_params(student, (1, 1, 28, 28), units=None)
    assert figures['flops'] == flops and figures['params'] == params
    assert figures['input_shape'] == [1, 1, 28, 28]
    assert sum(m['params'] for m in figures['modules'].values()) == params


def test_plain_mmdet_config_and_mmrazor_tool_name():
    config = resolve_cfg_path('mmdet::retinanet/retinanet_r18_fpn_1x_coco.py')[0]
    log = assert_ok(run_tool([sys.executable, 'tools/pruning/get_flops.py', config, '-H', '160',
                              '-W', '128', '--depth', '2', '--units', 'G',
                              '--cfg-options', 'model.backbone.init_cfg=None']))
    assert 'Model: RetinaNet' in log and 'Input shape: (1, 3, 160, 128)' in log
    assert any(line.startswith('backbone.layer1') for line in log.splitlines())
    assert 'bbox_head' in log and 'FLOPs:' in log
    assert re.search(r'\|\s+GFLOPs\s+\|\s+GMACs\s+\|', log)  # --units G


def test_bad_shape_is_refused():
    proc = run_tool([sys.executable, 'tools/analysis_tools/get_flops.py', KD_CONFIG,
                     '--shape', '1', '2', '3', '4', '5'])
    assert proc.returncode != 0 and '--shape takes H W, C H W or N C H W' in proc.stderr


def test_latency_option_reports_spread():
    log = assert_ok(run_tool([sys.executable, 'tools/analysis_tools/get_flops.py', KD_CONFIG,
                              '--shape', '1', '28', '28', '--latency', '5',
                              '--cfg-options', 'model.teacher_ckpt=None']))
    assert 'Latency:' in log and 'median of 5 runs' in log and 'threads' in log
