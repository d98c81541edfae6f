"""``PackCRDClsInputs``: mmpretrain's ``PackInputs`` plus the CRD indices."""
from typing import Dict, Sequence

import torch
from mmpretrain.datasets.transforms import PackInputs

from mmrazor.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackCRDClsInputs(PackInputs):
    """Pack a classification sample and put ``sample_idx`` (its dataset index) and
    ``contrast_sample_idxs`` (from ``CRDDataset``) in the data sample as long
    tensors, where ``CRDLoss`` reads them.

    Args:
        input_key (str): The key of the image. Defaults to 'img'.
        algorithm_keys (Sequence[str]): Other keys packed as data fields.
            Defaults to ().
        meta_keys (Sequence[str]): Keys packed as meta information
            (``sample_idx`` is a data field instead). Defaults to mmpretrain's
            ``PackInputs.DEFAULT_META_KEYS``.
    """

    def __init__(self,
                 input_key: str = 'img',
                 algorithm_keys: Sequence[str] = (),
                 meta_keys: Sequence[str] = PackInputs.DEFAULT_META_KEYS) -> None:
        super().__init__(input_key=input_key, algorithm_keys=algorithm_keys,
                         meta_keys=tuple(k for k in meta_keys if k != 'sample_idx'))

    def transform(self, results: Dict) -> Dict:
        packed = super().transform(results)
        sample = packed['data_samples']
        for key in ('sample_idx', 'contrast_sample_idxs'):
            if key in results:
                sample.set_data({key: torch.as_tensor(results[key], dtype=torch.long)})
        return packed
