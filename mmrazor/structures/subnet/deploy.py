"""Deploy a static (pruned or searched) model three ways, none of which needs mmrazor
to run:

1. ``state_dict`` + the subnet file (unit widths): rebuild the model from its config,
   apply the subnet (:func:`load_fix_subnet`), load the weights with
   ``torch.load(weights_only=True)`` — no pickled modules;
2. a ``torch.export`` program (``.pt2``): ``torch.export.load(path).module()(x)``;
3. ONNX, run by onnxruntime.

Files are written atomically: a failed export leaves nothing behind.
"""
import json
import os
import os.path as osp
import tempfile
from contextlib import contextmanager
from typing import Any, Dict, Iterator, Optional, Sequence, Tuple

import torch
import torch.nn as nn

DEPLOY_FORMATS = ('state_dict', 'torch_export', 'onnx')


class TensorMode(nn.Module):
    """``model(inputs, mode='tensor')`` as a plain ``forward(inputs)``: what an
    OpenMMLab model computes without losses or post-processing, for export."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, inputs: torch.Tensor) -> Any:
        return self.model(inputs, None, 'tensor')


def exportable(model: nn.Module) -> nn.Module:
    """The module to export: OpenMMLab models run in ``'tensor'`` mode."""
    from mmengine.model import BaseModel
    return TensorMode(model) if isinstance(model, BaseModel) else model


@contextmanager
def atomic_path(path: str) -> Iterator[str]:
    """A temporary path next to ``path``, renamed onto it only if the block succeeds."""
    directory = osp.dirname(osp.abspath(path))
    os.makedirs(directory, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=directory, prefix='.tmp-', suffix=osp.basename(path))
    os.close(handle)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def save_state_dict(model: nn.Module, path: str) -> None:
    """Tensors only (loads with ``weights_only=True``)."""
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def save_subnet(fix_subnet: Dict[str, Any], path: str) -> None:
    with atomic_path(path) as tmp, open(tmp, 'w') as file:
        json.dump(fix_subnet, file, indent=2)


def export_program(model: nn.Module, example_inputs: Tuple[torch.Tensor, ...],
                   path: str) -> None:
    """Save a ``torch.export`` program of ``model`` (eval mode) at ``path``."""
    model = exportable(model).eval()
    with torch.no_grad():
        program = torch.export.export(model, tuple(example_inputs), strict=False)
    with atomic_path(path) as tmp:
        torch.export.save(program, tmp)


def export_onnx(model: nn.Module, example_inputs: Tuple[torch.Tensor, ...], path: str,
                opset_version: int = 18) -> None:
    """Save ``model`` (eval mode) as ONNX at ``path``."""
    model = exportable(model).eval()
    with atomic_path(path) as tmp, torch.no_grad():
        torch.onnx.export(model, tuple(example_inputs), tmp, opset_version=opset_version,
                          dynamo=True, external_data=False)


def deploy_static_model(model: nn.Module,
                        out_dir: str,
                        example_inputs: Tuple[torch.Tensor, ...],
                        fix_subnet: Optional[Dict[str, Any]] = None,
                        formats: Sequence[str] = DEPLOY_FORMATS) -> Dict[str, str]:
    """Write the deploy files of a static model into ``out_dir``.

    Returns:
        dict: format -> path written (``state_dict`` also writes ``subnet.json``
        when ``fix_subnet`` is given).
    """
    unknown = [f for f in formats if f not in DEPLOY_FORMATS]
    if unknown:
        raise ValueError(f'Unknown deploy formats {unknown}; valid: {", ".join(DEPLOY_FORMATS)}')
    written = {}
    if 'state_dict' in formats:
        written['state_dict'] = osp.join(out_dir, 'pruned_state_dict.pth')
        save_state_dict(model, written['state_dict'])
        if fix_subnet is not None:
            written['subnet'] = osp.join(out_dir, 'subnet.json')
            save_subnet(fix_subnet, written['subnet'])
    if 'torch_export' in formats:
        written['torch_export'] = osp.join(out_dir, 'pruned_model.pt2')
        export_program(model, example_inputs, written['torch_export'])
    if 'onnx' in formats:
        written['onnx'] = osp.join(out_dir, 'pruned_model.onnx')
        export_onnx(model, example_inputs, written['onnx'])
    return written
