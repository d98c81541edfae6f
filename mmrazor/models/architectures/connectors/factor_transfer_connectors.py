"""The paraphraser and translator of Kim et al., "Paraphrasing Complex Network:
Network Compression via Factor Transfer" (NeurIPS 2018)."""
from typing import Dict, List, Optional

import torch
import torch.nn as nn

from mmrazor.registry import MODELS

from .base_connector import BaseConnector

PHASES = ('pretrain', 'train')


def _conv_stack(conv: type, channels: List[int], use_bn: bool) -> nn.Sequential:
    """3x3 stride-1 convs through ``channels``, each followed by an optional BN and
    LeakyReLU(0.1); the spatial size is kept."""
    layers: List[nn.Module] = []
    for in_channel, out_channel in zip(channels[:-1], channels[1:]):
        layers.append(conv(in_channel, out_channel, kernel_size=3, stride=1, padding=1))
        if use_bn:
            layers.append(nn.BatchNorm2d(out_channel))
        layers.append(nn.LeakyReLU(0.1, inplace=True))
    return nn.Sequential(*layers)


@MODELS.register_module()
class Paraphraser(BaseConnector):
    """The teacher's paraphraser: a conv encoder to the "factor" and a
    transposed-conv decoder back to the feature.

    It is first trained alone to reconstruct the teacher feature (``'pretrain'``:
    returns the reconstruction), then frozen to give the factor that the student's
    :class:`Translator` imitates (``'train'``: returns the factor).

    Args:
        in_channel (int): The teacher feature's channels.
        out_channel (int): The factor's channels.
        phase (str): ``'pretrain'`` or ``'train'``. Defaults to 'pretrain'.
        use_bn (bool): Add a BN after each conv. Defaults to False.
        init_cfg (dict, optional): MMEngine weight-init config. Defaults to None.
    """

    def __init__(self, in_channel: int, out_channel: int, phase: str = 'pretrain',
                 use_bn: bool = False, init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        if phase not in PHASES:
            raise ValueError(f"Paraphraser: phase must be one of {PHASES}, got {phase!r}")
        self.phase = phase
        self.encoder = _conv_stack(nn.Conv2d, [in_channel, in_channel, out_channel,
                                               out_channel], use_bn)
        self.decoder = _conv_stack(nn.ConvTranspose2d, [out_channel, out_channel,
                                                        in_channel, in_channel], use_bn)

    def forward_train(self, feature: torch.Tensor) -> torch.Tensor:
        """Return the reconstruction (``'pretrain'``) or the factor (``'train'``)."""
        factor = self.encoder(feature)
        return self.decoder(factor) if self.phase == 'pretrain' else factor


@MODELS.register_module()
class Translator(BaseConnector):
    """The student's translator: a conv encoder from the student feature to a
    factor shaped like the paraphraser's.

    Args:
        in_channel (int): The student feature's channels.
        out_channel (int): The factor's channels.
        use_bn (bool): Add a BN after each conv. Defaults to True.
        init_cfg (dict, optional): MMEngine weight-init config. Defaults to None.
    """

    def __init__(self, in_channel: int, out_channel: int, use_bn: bool = True,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        self.encoder = _conv_stack(nn.Conv2d, [in_channel, in_channel, out_channel,
                                               out_channel], use_bn)

    def forward_train(self, feature: torch.Tensor) -> torch.Tensor:
        """Return the student's factor."""
        return self.encoder(feature)
