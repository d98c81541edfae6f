"""Traceable twins of upstream methods that mix layers with per-sample Python.

mmdet's ``BaseDenseHead.predict`` and ``.loss`` run the head's layers (``self(x)``)
and loop over the batch's data samples in the same method. A graph that must run on
any batch cannot record that loop, so the whole method would become one leaf and the
head's layers would stay out of the ``predict`` / ``loss`` graphs (quantization would
leave the head float there, and QAT would never train the head's fake-quants). Each
twin below computes exactly what the upstream method does, with the per-sample part
moved into a function recorded as one call (``torch.fx.wrap``). The tracer uses a twin
for a module whose class inherits the upstream method unchanged; overrides keep
theirs (and become leaves if they must).
"""
from typing import Any, Callable, Dict, List, Tuple

import torch.fx


@torch.fx.wrap
def data_sample_metainfos(batch_data_samples: List[Any]) -> List[dict]:
    """The metainfo of each data sample (one graph call)."""
    return [data_samples.metainfo for data_samples in batch_data_samples]


@torch.fx.wrap
def unpacked_gt_instances(batch_data_samples: List[Any]) -> Tuple[Any, Any, Any]:
    """mmdet's ``unpack_gt_instances`` (one graph call)."""
    from mmdet.models.utils import unpack_gt_instances
    return tuple(unpack_gt_instances(batch_data_samples))


class BaseDenseHeadTwin:
    """Twins of ``BaseDenseHead``'s methods, bound to a head while tracing (named like
    them, so a twin that fails makes the upstream method a leaf, as before)."""

    def predict(self, x: Tuple, batch_data_samples: List[Any], rescale: bool = False) -> Any:
        """``BaseDenseHead.predict`` with its layers traced."""
        batch_img_metas = data_sample_metainfos(batch_data_samples)
        outs = self(x)
        return self.predict_by_feat(*outs, batch_img_metas=batch_img_metas, rescale=rescale)

    def loss(self, x: Tuple, batch_data_samples: List[Any]) -> Any:
        """``BaseDenseHead.loss`` with its layers traced."""
        outs = self(x)
        unpacked = unpacked_gt_instances(batch_data_samples)  # a Proxy: indexed, not unpacked
        batch_gt_instances, batch_gt_instances_ignore, batch_img_metas = (
            unpacked[0], unpacked[1], unpacked[2])
        loss_inputs = outs + (batch_gt_instances, batch_img_metas, batch_gt_instances_ignore)
        return self.loss_by_feat(*loss_inputs)


def method_rewrites() -> Dict[Callable, Callable]:
    """Upstream method (the function object) -> its traceable twin."""
    try:
        from mmdet.models.dense_heads.base_dense_head import BaseDenseHead
    except ImportError:  # mmdet not installed: nothing to rewrite
        return {}
    return {BaseDenseHead.predict: BaseDenseHeadTwin.predict,
            BaseDenseHead.loss: BaseDenseHeadTwin.loss}
