"""Differentiable mutables (DARTS, DSNAS, GDAS): candidates mixed by architecture
parameters that the mutator owns and passes in."""
from abc import abstractmethod
from typing import Any, Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrazor.registry import MODELS

from .mutable_module import Candidates, MutableModule, build_candidates

Chosen = Union[str, List[str]]


class DiffMutableModule(MutableModule):
    """A mutable whose forward mixes its candidates by an ``arch_param``.

    The mutator owns the architecture parameters (so they are not among the
    supernet's weights) and hands each mutable its own with ``set_forward_args``;
    ``forward`` may also take one explicitly. Without any, all candidates are summed.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # a plain attribute, not a registered parameter: it belongs to the mutator
        object.__setattr__(self, '_default_arch_param', None)

    def set_forward_args(self, arch_param: nn.Parameter) -> None:
        """Use ``arch_param`` in every forward that gets none."""
        if arch_param.numel() != self.num_choices:
            raise ValueError(f'{self._describe()} has {self.num_choices} choices; an '
                             f'arch_param of {arch_param.numel()} values cannot weigh them')
        object.__setattr__(self, '_default_arch_param', arch_param)

    def forward(self, x: Any, arch_param: Optional[nn.Parameter] = None) -> Any:
        if self.is_fixed:
            return self.forward_fixed(x)
        if arch_param is None:
            arch_param = self._default_arch_param
        if arch_param is None:
            return self.forward_all(x)
        return self.forward_arch_param(x, arch_param)

    def compute_arch_probs(self, arch_param: torch.Tensor) -> torch.Tensor:
        """The weight of each candidate: the softmax of ``arch_param``."""
        return F.softmax(arch_param, -1)

    @abstractmethod
    def forward_arch_param(self, x: Any, arch_param: torch.Tensor) -> Any:
        """Forward with the candidates weighted by ``arch_param``."""

    @abstractmethod
    def sample_choice(self, arch_param: torch.Tensor) -> Chosen:
        """The choice ``arch_param`` prefers."""


@MODELS.register_module()
class DiffMutableOP(DiffMutableModule):
    """A DARTS mixed op: the softmax of ``arch_param`` weighs every candidate.

    The choice is a candidate name (or a list of them: their outputs are summed once
    fixed).

    Args:
        candidates (dict | nn.ModuleDict): ``{name: op config or module}``.
        fix_threshold (float): In [0, 1]; ``OneHotMutableOP`` fixes itself once its
            top probability leads the next by this much. Defaults to 1.0.
        module_kwargs (dict, optional): Arguments added to every candidate config.
            Defaults to None.
        alias (str, optional): Alias of the mutable. Defaults to None.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self, candidates: Candidates, fix_threshold: float = 1.0,
                 module_kwargs: Optional[Dict] = None, alias: Optional[str] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(module_kwargs=module_kwargs, alias=alias, init_cfg=init_cfg)
        if not 0 <= fix_threshold <= 1:
            raise ValueError(f'fix_threshold must be in [0, 1], got {fix_threshold}')
        self.fix_threshold = fix_threshold
        self._candidates = build_candidates(candidates, module_kwargs)

    def check_choice(self, choice: Any) -> None:
        names = [choice] if isinstance(choice, str) else choice
        if not isinstance(names, (list, tuple)) or not names or any(
                not isinstance(n, str) or n not in self._candidates for n in names):
            raise ValueError(f'{self._describe()}: choice {choice!r} is not one of its '
                             f'choices {self.choices} (nor a list of them)')

    def _chosen_names(self) -> List[str]:
        choice = self.current_choice
        return [choice] if isinstance(choice, str) else list(choice)

    def forward_fixed(self, x: Any) -> Any:
        return sum(self._candidates[name](x) for name in self._chosen_names())

    def forward_arch_param(self, x: Any, arch_param: torch.Tensor) -> Any:
        probs = self.compute_arch_probs(arch_param)
        return sum(prob * op(x) for prob, op in zip(probs, self._candidates.values()))

    def forward_all(self, x: Any) -> Any:
        return sum(op(x) for op in self._candidates.values())

    def fix_chosen(self, chosen: Optional[Chosen] = None) -> None:
        """Fix the choice (the current one if None) and delete the other candidates."""
        if not self.is_fixed and chosen is None and self.current_choice is None:
            raise ValueError(f'{self._describe()} has no choice to fix; pass one of '
                             f'{self.choices}')
        super().fix_chosen(chosen)
        self._drop_unchosen(self._chosen_names())

    def sample_choice(self, arch_param: torch.Tensor) -> str:
        """The candidate of the largest architecture parameter."""
        return self.choices[int(torch.argmax(arch_param))]


@MODELS.register_module()
class OneHotMutableOP(DiffMutableOP):
    """A DSNAS op: each forward runs one candidate, sampled from the softmax of
    ``arch_param``.

    The sampled one-hot weights (``self.arch_weights``, a leaf with a gradient, as
    DSNAS's update reads it) are used straight-through: the output is the sampled
    op's, and the gradient still reaches ``arch_param`` through the probabilities.

    Args: as :class:`DiffMutableOP`.
    """

    def sample_weights(self, arch_param: torch.Tensor, probs: torch.Tensor,
                       random_sample: bool = False) -> torch.Tensor:
        """One-hot weights drawn from ``probs`` (uniformly if ``random_sample``)."""
        if random_sample:
            probs = torch.ones_like(arch_param) / arch_param.numel()
        index = torch.multinomial(probs.detach(), 1)
        return F.one_hot(index[0], probs.numel()).to(probs.dtype)

    def forward_arch_param(self, x: Any, arch_param: torch.Tensor) -> Any:
        probs = self.compute_arch_probs(arch_param)
        top = torch.topk(probs.detach(), min(2, probs.numel())).values
        if self.training and len(top) == 2 and top[0] - top[1] >= self.fix_threshold:
            self.fix_chosen(self.choices[int(torch.argmax(probs))])
            return self.forward_fixed(x)
        self.arch_weights = self.sample_weights(arch_param, probs).requires_grad_()
        weights = self.arch_weights + probs - probs.detach()  # straight-through
        index = int(torch.argmax(self.arch_weights))
        return weights[index] * self._candidates[self.choices[index]](x)


@MODELS.register_module()
class DiffChoiceRoute(DiffMutableModule):
    """A DARTS node: picks which input edges feed it. ``forward`` takes one input per
    edge; the choice is the list of edges kept.

    Args:
        edges (dict | nn.ModuleDict): ``{edge name: module or config}``; an edge may
            itself be a ``DiffMutableOP``.
        num_chosen (int): How many edges ``sample_choice`` keeps. Defaults to 2.
        with_arch_param (bool): Mix the edges by ``arch_param`` (else sum them all
            until fixed). Defaults to False.
        alias (str, optional): Alias of the mutable. Defaults to None.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self, edges: Candidates, num_chosen: int = 2, with_arch_param: bool = False,
                 alias: Optional[str] = None, init_cfg: Optional[Dict] = None) -> None:
        super().__init__(alias=alias, init_cfg=init_cfg)
        self._candidates = build_candidates(edges)
        if not 1 <= num_chosen <= len(self._candidates):
            raise ValueError(f'num_chosen must be in [1, {len(self._candidates)}] (the '
                             f'number of edges), got {num_chosen}')
        self.num_chosen = num_chosen
        self._with_arch_param = with_arch_param
        self._all_edges = list(self._candidates.keys())  # inputs follow this order

    def check_choice(self, choice: Any) -> None:
        if not isinstance(choice, (list, tuple)) or not choice or len(set(choice)) != len(
                choice) or any(name not in self._candidates for name in choice):
            raise ValueError(f'{self._describe()}: choice {choice!r} is not a list of '
                             f'distinct edges from {self.choices}')

    def _check_inputs(self, inputs: Sequence[Any]) -> None:
        if len(inputs) != len(self._all_edges):
            raise ValueError(f'{self._describe()} has {len(self._all_edges)} edges '
                             f'{self._all_edges}; got {len(inputs)} inputs')

    def forward(self, x: Sequence[Any], arch_param: Optional[nn.Parameter] = None) -> Any:
        self._check_inputs(x)
        if not self._with_arch_param and not self.is_fixed:
            return self.forward_all(x)
        return super().forward(x, arch_param)

    def forward_fixed(self, inputs: Sequence[Any]) -> Any:
        return sum(self._candidates[name](x) for name, x in zip(self._all_edges, inputs)
                   if name in self.current_choice)

    def forward_arch_param(self, inputs: Sequence[Any], arch_param: torch.Tensor) -> Any:
        probs = self.compute_arch_probs(arch_param)
        # a hard Gumbel sample is exactly 0 for unsampled edges: skip their forward
        return sum(prob * op(x) for prob, op, x in zip(probs, self._candidates.values(), inputs)
                   if prob > 0)

    def forward_all(self, inputs: Sequence[Any]) -> Any:
        return sum(op(x) for op, x in zip(self._candidates.values(), inputs))

    def fix_chosen(self, chosen: Optional[List[str]] = None) -> None:
        """Keep only the edges ``chosen`` (the current ones if None)."""
        if not self.is_fixed and chosen is None and self.current_choice is None:
            raise ValueError(f'{self._describe()} has no choice to fix; pass a list of '
                             f'edges from {self.choices}')
        super().fix_chosen(chosen)
        self._drop_unchosen(list(self.current_choice))

    def sample_choice(self, arch_param: torch.Tensor) -> List[str]:
        """The ``num_chosen`` edges of the largest architecture parameters."""
        order = torch.argsort(arch_param.detach(), descending=True).tolist()
        return [self.choices[i] for i in order[:self.num_chosen]]

    @property
    def max_choice(self) -> List[str]:
        # not AttributeError: nn.Module.__getattr__ would replace the message
        raise NotImplementedError(f'{self._describe()} has no largest choice; its edges are '
                             'picked by sample_choice(arch_param)')

    @property
    def min_choice(self) -> List[str]:
        raise NotImplementedError(f'{self._describe()} has no smallest choice; its edges are '
                             'picked by sample_choice(arch_param)')


@MODELS.register_module()
class GumbelChoiceRoute(DiffChoiceRoute):
    """A choice route whose edge weights are a Gumbel-softmax sample (GDAS).

    Args:
        edges (dict | nn.ModuleDict): ``{edge name: module or config}``.
        tau (float): Temperature of the Gumbel softmax. Defaults to 1.0.
        hard (bool): Sample one-hot weights (straight-through gradients). Defaults
            to True.
        with_arch_param (bool): Mix the edges by ``arch_param``. Defaults to False.
        alias (str, optional): Alias of the mutable. Defaults to None.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self, edges: Candidates, tau: float = 1.0, hard: bool = True,
                 with_arch_param: bool = False, alias: Optional[str] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(edges, with_arch_param=with_arch_param, alias=alias,
                         init_cfg=init_cfg)
        self.tau = tau
        self.hard = hard

    def compute_arch_probs(self, arch_param: torch.Tensor) -> torch.Tensor:
        return F.gumbel_softmax(arch_param, tau=self.tau, hard=self.hard, dim=-1)

    def set_temperature(self, tau: float) -> None:
        """Change the Gumbel-softmax temperature (annealed during search)."""
        self.tau = tau
