"""``DMCPChannelUnit``: a sequential unit whose width follows a learnt Markov process
(DMCP)."""
import math
import random
from typing import List, Optional, Union

import torch
import torch.nn as nn

from mmrazor.models.architectures.dynamic_ops import DMCPBatchNorm2d
from mmrazor.registry import MODELS

from .mutable_channel_unit import DYNAMIC_OPS
from .sequential_mutable_channel_unit import SequentialMutableChannelUnit

ARCH_SAMPLE_MODES = ('direct', 'expected')
# every transition starts kept with probability 0.9: widths start near the middle of
# their range rather than at its bottom (0.5 per transition compounds to ~min_ratio)
INIT_LOGIT = math.log(9)


@MODELS.register_module()
class DMCPChannelUnit(SequentialMutableChannelUnit):
    """A unit for DMCP (Guo et al., "DMCP: Differentiable Markov Channel Pruning").

    ``prepare_arch(min_ratio, max_ratio, step)`` splits the channels into a first
    block of ``min_ratio`` of them, always kept, and groups of ``step`` of them up to
    ``max_ratio``. Group ``k`` is kept, given group ``k - 1`` is, with probability
    ``sigmoid(arch_param[k])`` (a Markov chain), so channel ``c`` is kept with the
    product of the transition probabilities up to its group. The unit's
    ``BatchNorm2d`` layers become ``DMCPBatchNorm2d``, which weight their outputs by
    these probabilities while ``arch_train`` is on.

    Args: as :class:`SequentialMutableChannelUnit`, with ``min_ratio=0.5`` by default.
    """

    dynamic_ops = {**DYNAMIC_OPS, nn.BatchNorm2d: DMCPBatchNorm2d}

    def __init__(self, num_channels: int, choice_mode: str = 'number', divisor: int = 1,
                 min_value: int = 1, min_ratio: float = 0.5,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(num_channels, choice_mode, divisor, min_value, min_ratio, init_cfg)
        self.arch_widths: List[int] = [num_channels]
        self.arch_param = nn.Parameter(torch.zeros(0))
        self.arch_train = False

    def prepare_arch(self, min_ratio: float, max_ratio: float, step: float) -> None:
        """Make the width groups and their architecture parameters (every
        transition kept with probability 0.9 at first)."""
        if not 0 < min_ratio <= max_ratio <= 1 or step <= 0:
            raise ValueError('pruning_cfg must be (min_ratio, max_ratio, step) with '
                             f'0 < min_ratio <= max_ratio <= 1 and step > 0, got '
                             f'({min_ratio}, {max_ratio}, {step})')
        low = self._round(min_ratio * self.num_channels)
        high = max(low, self._round(max_ratio * self.num_channels))
        widths, ratio = [low], min_ratio
        while widths[-1] < high:
            ratio += step
            width = min(high, self._round(ratio * self.num_channels))
            if width > widths[-1]:
                widths.append(width)
        self.arch_widths = widths
        self.arch_param = nn.Parameter(torch.full((len(widths) - 1, ), INIT_LOGIT,
                                                  device=self.arch_param.device))
        for channel in self.output_related:
            module = channel.module
            # only a BN over exactly the unit's channels maps probabilities one to one
            whole = channel.index == (0, self.num_channels) and channel.expand_ratio == 1
            if isinstance(module, DMCPBatchNorm2d) and whole and \
                    module.num_features == self.num_channels:
                module.set_forward_args(self.keep_probs)

    def group_probs(self) -> torch.Tensor:
        """Probability that each width group is kept (the first block: 1)."""
        transition = torch.sigmoid(self.arch_param)
        return torch.cat([transition.new_ones(1), torch.cumprod(transition, 0)])

    def channel_probs(self) -> torch.Tensor:
        """Probability that each channel of the unit is kept (0 above the largest
        width)."""
        sizes = torch.tensor(self.arch_widths)
        sizes = torch.cat([sizes[:1], sizes[1:] - sizes[:-1]])
        probs = torch.repeat_interleave(self.group_probs(), sizes.to(self.arch_param.device))
        return torch.cat([probs, probs.new_zeros(self.num_channels - len(probs))])

    def expected_channels(self) -> torch.Tensor:
        """The expected width, differentiable in ``arch_param``."""
        return self.channel_probs().sum()

    def keep_probs(self) -> Optional[torch.Tensor]:
        """The channel probabilities while ``arch_train`` is on, else None."""
        return self.channel_probs() if self.arch_train else None

    def sample_arch(self, mode: str = 'direct') -> Union[int, float]:
        """A choice from the learnt distribution: 'direct' walks the Markov chain,
        'expected' takes the width nearest the expected one."""
        if mode not in ARCH_SAMPLE_MODES:
            raise ValueError(f'mode must be one of {ARCH_SAMPLE_MODES}, got {mode!r}')
        if mode == 'expected':
            expected = float(self.expected_channels())
            width = min(self.arch_widths, key=lambda w: abs(w - expected))
        else:
            keep = torch.sigmoid(self.arch_param.detach()).tolist()
            k = 0
            while k < len(keep) and random.random() < keep[k]:
                k += 1
            width = self.arch_widths[k]
        return self._from_number(width)

    def sample_choice(self) -> Union[int, float]:
        """A width drawn uniformly from the arch widths."""
        return self._from_number(random.choice(self.arch_widths))

    @property
    def min_choice(self) -> Union[int, float]:
        return self._from_number(self.arch_widths[0])

    @property
    def max_choice(self) -> Union[int, float]:
        return self._from_number(self.arch_widths[-1])
