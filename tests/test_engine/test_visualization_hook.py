"""RazorVisualizationHook in a real Runner: Fashion-MNIST KD, feature maps of the student
and the teacher drawn as PNG files before training and after the epoch."""
import glob
import os.path as osp

import mmcv
import numpy as np
import pytest
import torch
from mmengine.runner import Runner

from mmrazor.engine.hooks import RazorVisualizationHook
from mmrazor.engine.hooks.visualization_hook import draw_featmap
from mmrazor.registry import HOOKS
from mmrazor.utils.lookup import NameLookupError

from .test_estimate_resources_hook import small_kd_cfg

RECORDERS = dict(
    s=dict(type='ModuleOutputs', source='architecture.backbone.layer2'),
    t=dict(type='ModuleOutputs', source='teacher.backbone.layer2'))
MAPPINGS = dict(student=dict(recorder='s'), teacher=dict(recorder='t'))


def hook_cfg(**kwargs) -> dict:
    return dict(type='mmrazor.RazorVisualizationHook', recorders=RECORDERS,
                mappings=MAPPINGS, **kwargs)


@pytest.fixture(scope='module')
def trained(tmp_path_factory, fashion_mnist_root):
    """One KD epoch with three hooks: to the visualizer's backends (overlaid on the
    image), to out_dir (not overlaid, normalized, resized) and a disabled one."""
    cfg = small_kd_cfg(fashion_mnist_root, str(tmp_path_factory.mktemp('vis')),
                       hook_cfg(enabled=True, data_idx=[0, 5]))
    cfg.train_cfg.max_epochs = 1
    cfg.custom_hooks += [
        hook_cfg(enabled=True, out_dir='raw', is_overlaid=False, use_norm=True,
                 visualization_cfg=dict(channel_reduction='squeeze_mean',
                                        resize_shape=(21, 21))),
        hook_cfg(out_dir='disabled'),
    ]
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def vis_hooks(runner: Runner) -> list:
    return [hook for hook in runner.hooks if isinstance(hook, RazorVisualizationHook)]


def read(path: str) -> np.ndarray:
    assert osp.isfile(path), f'{path} missing; written: {glob.glob(osp.dirname(path) + "/*")}'
    return mmcv.imread(path)


def test_backend_pngs_are_overlaid_images_of_student_and_teacher(trained):
    vis_dir = osp.join(trained.log_dir, 'vis_data', 'vis_image')
    names = sorted(osp.basename(p) for p in glob.glob(osp.join(vis_dir, '*.png')))
    assert names == [f'data_idx_{i}_{model}_0_{step}.png' for i in (0, 5)
                     for model in ('student', 'teacher') for step in (0, 1)]
    for name in names:
        assert read(osp.join(vis_dir, name)).shape == (28, 28, 3)  # the image's size
    student = read(osp.join(vis_dir, 'data_idx_0_student_0_1.png'))
    teacher = read(osp.join(vis_dir, 'data_idx_0_teacher_0_1.png'))
    assert np.abs(student.astype(int) - teacher).mean() > 5
    # the epoch changed the student, not the frozen teacher (norm layers in eval)
    assert not np.array_equal(student, read(osp.join(vis_dir, 'data_idx_0_student_0_0.png')))
    assert np.array_equal(teacher, read(osp.join(vis_dir, 'data_idx_0_teacher_0_0.png')))
    # another image, another drawing
    assert not np.array_equal(student, read(osp.join(vis_dir, 'data_idx_5_student_0_1.png')))


def test_out_dir_pngs_follow_visualization_cfg(trained):
    raw = osp.join(trained.log_dir, 'raw')
    assert len(glob.glob(osp.join(raw, '*.png'))) == 4
    student = read(osp.join(raw, 'data_idx_0_student_0_1.png'))
    assert student.shape == (21, 21, 3)  # resize_shape, no image to fit
    assert not np.array_equal(student, read(osp.join(raw, 'data_idx_0_teacher_0_1.png')))


def test_disabled_hook_draws_nothing(trained):
    assert not osp.exists(osp.join(trained.log_dir, 'disabled'))
    assert [hook.enabled for hook in vis_hooks(trained)] == [True, True, False]


def test_drawing_leaves_the_model_unchanged(trained):
    """Drawing runs in eval mode: no BN statistics move, and train mode comes back."""
    hook = vis_hooks(trained)[0]
    before = {k: v.clone() for k, v in trained.model.state_dict().items()}
    trained.model.train()
    hook.visualize(trained, epochs_done=1)
    assert trained.model.training and trained.model.architecture.training
    after = trained.model.state_dict()
    assert all(before[k].equal(after[k]) for k in before)


def test_bad_source_names_the_missing_module(tmp_path, fashion_mnist_root):
    recorders = dict(s=dict(type='ModuleOutputs', source='architecture.backbone.layer22'))
    cfg = small_kd_cfg(fashion_mnist_root, str(tmp_path),
                       dict(type='mmrazor.RazorVisualizationHook', enabled=True,
                            recorders=recorders, mappings=dict(s=dict(recorder='s'))))
    runner = Runner.from_cfg(cfg)
    with pytest.raises(NameLookupError, match=r"No module 'architecture.backbone.layer22'"
                       r'.*closest: architecture.backbone.layer2'):
        runner.train()


def test_arguments_are_checked():
    with pytest.raises(NameLookupError, match=r"mapping 'x' names recorder 'u'; the recorders "
                       r"are \['s', 't'\]"):
        HOOKS.build(hook_cfg() | dict(mappings=dict(x=dict(recorder='u'))))
    with pytest.raises(ValueError, match='must be a dict with a "recorder" key'):
        HOOKS.build(hook_cfg() | dict(mappings=dict(x='s')))
    with pytest.raises(TypeError, match=r"unknown key\(s\) \['topK'\]; the valid keys"):
        HOOKS.build(hook_cfg(visualization_cfg=dict(topK=3)))
    with pytest.raises(ValueError, match="channel_reduction must be one of .*'pixel_wise_max'"):
        HOOKS.build(hook_cfg(visualization_cfg=dict(channel_reduction='max')))
    with pytest.raises(ValueError, match='interval must be a positive int'):
        HOOKS.build(hook_cfg(interval=0))
    hook = HOOKS.build(hook_cfg())
    # MMRazor 1.x's defaults
    assert (hook.enabled, hook.data_idx, hook.interval, hook.show, hook.is_overlaid,
            hook.use_norm) == (False, [0], 1, False, True, False)
    assert hook.visualization_cfg == dict(channel_reduction='pixel_wise_max', topk=20,
                                          arrangement=(4, 5), resize_shape=None, alpha=0.5)


def test_draw_featmap_reductions_and_padding():
    # channel 0 is high on the left, channel 1 on the right: the pixel-wise max is flat
    featmap = torch.zeros(2, 4, 4)
    featmap[0, :, :2], featmap[1, :, 2:] = 1, 1
    assert len(np.unique(draw_featmap(featmap).reshape(-1, 3), axis=0)) == 1
    assert len(np.unique(draw_featmap(featmap, channel_reduction='select_max')
                         .reshape(-1, 3), axis=0)) == 2
    # an input padded at the bottom: the map is cropped to the image before resizing
    padded = torch.zeros(1, 4, 4)
    padded[:, :2] = torch.arange(4.)
    image = np.zeros((2, 4, 3), np.uint8)
    drawn = draw_featmap(padded, image, alpha=1.0)
    assert drawn.shape == (2, 4, 3) and np.array_equal(drawn[0], drawn[1])
    with pytest.raises(ValueError, match=r'one feature map of shape \(C, H, W\), got '
                       r'\(1, 1, 4, 4\)'):
        draw_featmap(padded[None])


def test_overlaid_image_is_read_from_img_path(tmp_path):
    path = str(tmp_path / 'img.png')
    mmcv.imwrite(np.full((6, 8, 3), (255, 0, 0), np.uint8), path)  # blue in BGR
    hook = HOOKS.build(hook_cfg())
    assert hook._image(dict(img_path=path))[0, 0].tolist() == [0, 0, 255]  # RGB
    with pytest.warns(UserWarning, match='no "img_path" or "img" to draw over'):
        assert hook._image(dict(gt_label=1)) is None
