"""``MMArchitectureQuant``: PTQ / QAT of an OpenMMLab model through traced graphs."""
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.fx as fx
import torch.nn as nn
from mmengine.config import Config
from mmengine.model import BaseModel
from mmengine.runner import load_state_dict
from mmengine.structures import BaseDataElement

from mmrazor.models.algorithms.base import BaseAlgorithm
from mmrazor.models.task_modules.demo_inputs import DefaultDemoInput
from mmrazor.models.wrappers import AlgorithmDDP
from mmrazor.registry import MODEL_WRAPPERS, MODELS
from mmrazor.utils.weights import load_weights

MODES = ('tensor', 'predict', 'loss')


@MODELS.register_module()
class MMArchitectureQuant(BaseAlgorithm):
    """Quantize an OpenMMLab model: one fake-quantized graph per forward mode.

    The architecture is traced by the quantizer's tracer once per mode in
    ``forward_modes`` (heads' loss and post-processing stay leaves), and each graph is
    prepared by the quantizer. The graphs share the architecture's layers *and* their
    fake-quant modules, so calibrating or training one mode quantizes all of them.

    Args:
        architecture (dict | BaseModel): The float model.
        quantizer (dict): A quantizer config (``TorchNativeQuantizer``,
            ``OpenVINOQuantizer``, ``TensorRTQuantizer``, ``AcademicQuantizer``).
        data_preprocessor (dict, optional): Defaults to the architecture's.
        deploy_cfg (str | dict, optional): An mmdeploy deploy config (kept as
            ``self.deploy_cfg``; mmdeploy is not needed). Defaults to None.
        forward_modes (tuple): Modes to trace. Defaults to
            ``('tensor', 'predict', 'loss')``.
        float_checkpoint (str, optional): Float weights loaded (weights only) before
            tracing; a path or URL resolved offline. Defaults to None.
        input_shapes (tuple): The demo batch traced. Defaults to ``(1, 3, 224, 224)``.
        init_cfg (dict, optional): Defaults to None.
    """

    def __init__(self,
                 architecture: Union[Dict, BaseModel],
                 quantizer: Union[Dict, nn.Module],
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 deploy_cfg: Optional[Union[str, Dict]] = None,
                 forward_modes: Sequence[str] = MODES,
                 float_checkpoint: Optional[str] = None,
                 input_shapes: Tuple[int, ...] = (1, 3, 224, 224),
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(architecture, data_preprocessor, init_cfg)
        unknown = [mode for mode in forward_modes if mode not in MODES]
        if unknown or not forward_modes:
            raise ValueError(f'forward_modes {list(forward_modes)}: each must be one of '
                             f'{list(MODES)}')
        if float_checkpoint:
            checkpoint = load_weights(float_checkpoint, map_location='cpu')
            load_state_dict(self.architecture, checkpoint.get('state_dict', checkpoint),
                            strict=True)
            # the Runner calls init_weights() before training: keep the loaded weights
            self.architecture._is_init = True
        self.float_checkpoint = float_checkpoint
        self.deploy_cfg = Config.fromfile(deploy_cfg) if isinstance(deploy_cfg, str) \
            else deploy_cfg
        self.quantizer = quantizer if isinstance(quantizer, nn.Module) \
            else MODELS.build(quantizer)
        self.forward_modes = tuple(forward_modes)
        self.input_shapes = tuple(input_shapes)
        self.qmodels = self._build_qmodels(self.architecture)

    # --- graphs -----------------------------------------------------------------------
    def demo_batch(self, training: bool = False) -> Dict[str, Any]:
        """The preprocessed demo batch the graphs are traced on."""
        data = DefaultDemoInput(self.input_shapes, training).get_data(self.architecture)
        if not isinstance(data, dict):
            data = {'inputs': data, 'data_samples': None}
        return data

    def _build_qmodels(self, model: nn.Module) -> nn.ModuleDict:
        # eval-mode preprocessing: no batch augments (YOLOX's random resize needs a
        # training iteration); data samples keep their ground truth for the loss graph
        data = self.demo_batch(training=False)
        shared: Dict[str, nn.Module] = {}
        qmodels = nn.ModuleDict()
        for mode in self.forward_modes:
            samples = data.get('data_samples') if mode != 'tensor' else None
            graph = self.quantizer.trace(model, {'inputs': data['inputs'],
                                                 'data_samples': samples}, {'mode': mode})
            qmodels[mode] = self.quantizer.prepare(model, graph, shared)
        return qmodels

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[BaseDataElement]] = None,
                mode: str = 'tensor') -> Any:
        """Run the fake-quantized graph of ``mode``."""
        if mode not in self.qmodels:
            raise RuntimeError(f'MMArchitectureQuant has no graph for mode {mode!r}: it '
                               f'traced forward_modes={list(self.forward_modes)}')
        return self.qmodels[mode](inputs, data_samples, mode)

    def calibrate_step(self, data: Union[Dict, Tuple, List]) -> Any:
        """One calibration forward of a loader batch (tensor mode, no gradients)."""
        data = self.data_preprocessor(data, False)
        with torch.no_grad():
            return self._run_forward(data, mode='tensor')

    def sync_qparams(self, src_mode: str) -> None:
        """MMRazor copied qparams from ``src_mode``'s graph to the others; here they
        share their fake-quant modules, so this only checks the mode exists."""
        if src_mode not in self.qmodels:
            raise KeyError(f'sync_qparams: no graph for mode {src_mode!r}; traced modes: '
                           f'{list(self.qmodels)}')

    # --- deployment ------------------------------------------------------------------
    def get_deploy_model(self) -> fx.GraphModule:
        """The tensor-mode graph with observers stopped: what is exported."""
        if 'tensor' not in self.qmodels:
            raise RuntimeError("get_deploy_model needs the 'tensor' graph: add 'tensor' to "
                               'forward_modes')
        model = self.qmodels['tensor']
        self.quantizer.post_process_for_deploy(model)
        return model.eval()

    def get_int8_model(self) -> fx.GraphModule:
        """The deploy model on torch's int8 x86 kernels (a new module)."""
        return self.quantizer.convert_to_int8(self.get_deploy_model())

    def export_onnx(self, path: str, input_shape: Optional[Sequence[int]] = None) -> str:
        """Write the deploy model as QDQ ONNX to ``path`` (batch size left dynamic)."""
        shape = tuple(input_shape or self.input_shapes)
        inputs = DefaultDemoInput(shape, False).get_data(self.architecture)
        inputs = inputs['inputs'] if isinstance(inputs, dict) else inputs
        with torch.no_grad():
            return self.quantizer.export_onnx(self.get_deploy_model(), inputs,
                                              os.fspath(path), constant_args=(None, 'tensor'))



# MMRazor 1.x's DDP wrapper of quantized models: the generic one does its job
MODEL_WRAPPERS.register_module(name='MMArchitectureQuantDDP', module=AlgorithmDDP)
