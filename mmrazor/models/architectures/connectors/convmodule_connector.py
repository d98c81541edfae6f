"""``ConvModuleConnector``: a conv / norm / activation block (mmcv ``ConvModule``)."""
import copy
from typing import Dict, Optional, Tuple, Union

import torch
from mmcv.cnn import ConvModule

from mmrazor.registry import MODELS

from .base_connector import BaseConnector


@MODELS.register_module()
class ConvModuleConnector(BaseConnector):
    """An mmcv ``ConvModule`` as a connector, e.g. the 1x1 conv + BN adapter of
    FitNets (Romero et al., "FitNets: Hints for Thin Deep Nets", ICLR 2015).

    Args:
        in_channel (int): The input channels.
        out_channel (int): The output channels.
        kernel_size (int | tuple[int]): The conv kernel size. Defaults to 1.
        stride (int | tuple[int]): The conv stride. Defaults to 1.
        padding (int | tuple[int]): The conv padding. Defaults to 0.
        dilation (int | tuple[int]): The conv dilation. Defaults to 1.
        groups (int): The conv groups. Defaults to 1.
        bias (bool | str): The conv bias; ``'auto'`` adds one only without a norm.
            Defaults to 'auto'.
        conv_cfg (dict, optional): The conv layer config. Defaults to None (Conv2d).
        norm_cfg (dict, optional): The norm layer config. Defaults to None (no norm).
        act_cfg (dict, optional): The activation config; None for no activation.
            Defaults to dict(type='ReLU'), as in MMRazor 1.x, whose FitNets config
            relies on it.
        inplace (bool): Whether the activation is in place. Defaults to True.
        with_spectral_norm (bool): Whether to spectral-normalize the conv. Defaults
            to False.
        padding_mode (str): The conv padding mode. Defaults to 'zeros'.
        order (tuple[str]): The order of 'conv', 'norm' and 'act'. Defaults to
            ('conv', 'norm', 'act').
        init_cfg (dict, optional): MMEngine weight-init config. Defaults to None.
    """

    def __init__(self,
                 in_channel: int,
                 out_channel: int,
                 kernel_size: Union[int, Tuple[int, int]] = 1,
                 stride: Union[int, Tuple[int, int]] = 1,
                 padding: Union[int, Tuple[int, int]] = 0,
                 dilation: Union[int, Tuple[int, int]] = 1,
                 groups: int = 1,
                 bias: Union[str, bool] = 'auto',
                 conv_cfg: Optional[Dict] = None,
                 norm_cfg: Optional[Dict] = None,
                 act_cfg: Optional[Dict] = dict(type='ReLU'),  # noqa: B006
                 inplace: bool = True,
                 with_spectral_norm: bool = False,
                 padding_mode: str = 'zeros',
                 order: Tuple[str, str, str] = ('conv', 'norm', 'act'),
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        self.conv_module = ConvModule(
            in_channel, out_channel, kernel_size, stride=stride, padding=padding,
            dilation=dilation, groups=groups, bias=bias, conv_cfg=conv_cfg,
            norm_cfg=norm_cfg, act_cfg=copy.deepcopy(act_cfg), inplace=inplace,
            with_spectral_norm=with_spectral_norm, padding_mode=padding_mode,
            order=order)

    def forward_train(self, feature: torch.Tensor) -> torch.Tensor:
        """Return ``ConvModule(feature)``."""
        return self.conv_module(feature)
