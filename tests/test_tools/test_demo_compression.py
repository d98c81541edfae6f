"""The README's main job (tools/demo_compression.py) end to end, on a small slice."""
import json
import sys

from .test_train_test import assert_ok, run_tool


def test_demo_trains_teacher_student_kd_and_pruned_and_prints_the_table(tmp_path,
                                                                        fashion_mnist_root):
    log = assert_ok(run_tool([sys.executable, 'tools/demo_compression.py',
                              '--train-images', '256', '--test-images', '512', '--epochs', '1',
                              '--teacher-epochs', '1',
                              '--latency-runs', '5', '--data-root', fashion_mnist_root,
                              '--work-dir', str(tmp_path)]))
    for title in ('[1/5] teacher', '[2/5] student', '[3/5] student + logits KD',
                  '[4/5] teacher pruned', '[5/5] teacher quantized to int8'):
        assert title in log
    assert '| model | test top-1 (%) | params | MACs / image |' in log
    summary = json.loads((tmp_path / 'summary.json').read_text())
    teacher, student, distilled, pruned, quantized = summary['rows']
    # the distilled model is measured without its teacher: the same size as the student
    assert distilled['params'] == student['params'] == 174_970
    assert teacher['params'] > 3.9 * student['params']
    assert teacher['macs'] > 3.9 * student['macs'] and student['latency_ms'] > 0
    assert summary['gain'] == distilled['accuracy'] - student['accuracy']
    assert 'Distillation gained' in log and 'fewer parameters' in log
    # the pruned row is the exported static model: about half the teacher's MACs
    assert 0.45 * teacher['macs'] < pruned['macs'] < 0.6 * teacher['macs']
    assert pruned['params'] < 0.6 * teacher['params']
    assert 'Pruning took the teacher to' in log
    # the int8 row: the teacher's size, tested on torch's int8 kernels, close to it
    assert quantized['params'] == teacher['params'] and quantized['macs'] == teacher['macs']
    assert abs(quantized['accuracy'] - teacher['accuracy']) < 5
    assert 'int8 quantization to' in log
