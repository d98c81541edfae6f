"""Argument checks shared by the distillation losses: one error text for each mistake."""
from typing import Collection, Optional, Sequence

import torch


def check_shapes(loss: str, name_a: str, tensor_a: torch.Tensor, name_b: str,
                 tensor_b: torch.Tensor, dims: Optional[Sequence[int]] = None) -> None:
    """Raise a ValueError unless two tensors have the same shape.

    Args:
        loss (str): The loss's name, which starts the message.
        name_a (str): The first tensor's argument name.
        tensor_a (torch.Tensor): The first tensor.
        name_b (str): The second tensor's argument name.
        tensor_b (torch.Tensor): The second tensor.
        dims (Sequence[int], optional): Compare only these dimensions (both tensors
            must have them). Defaults to None, the whole shape.
    """
    shape_a, shape_b = tuple(tensor_a.shape), tuple(tensor_b.shape)
    if dims is None:
        if shape_a == shape_b:
            return
        rule = 'they must match'
    else:
        ndim = max(dims) + 1
        if min(len(shape_a), len(shape_b)) >= ndim and all(shape_a[d] == shape_b[d]
                                                           for d in dims):
            return
        rule = f'they must match in dimensions {tuple(dims)}'
    raise ValueError(f'{loss}: {name_a} has shape {shape_a} but {name_b} has shape '
                     f'{shape_b}; {rule}')


def check_ndim(loss: str, name: str, tensor: torch.Tensor, ndim: int) -> None:
    """Raise a ValueError unless ``tensor`` has ``ndim`` dimensions.

    Args:
        loss (str): The loss's name, which starts the message.
        name (str): The tensor's argument name.
        tensor (torch.Tensor): The tensor.
        ndim (int): The number of dimensions it must have.
    """
    if tensor.dim() != ndim:
        raise ValueError(f'{loss}: {name} must have {ndim} dimensions, got shape '
                         f'{tuple(tensor.shape)}')


def check_labels(loss: str, gt_labels: torch.Tensor, logits: torch.Tensor) -> None:
    """Raise a ValueError unless ``gt_labels`` are N class indices for N x C logits.

    Args:
        loss (str): The loss's name, which starts the message.
        gt_labels (torch.Tensor): The ground-truth class indices.
        logits (torch.Tensor): The student's logits, shape (N, C).
    """
    if (gt_labels.dim() != 1 or gt_labels.dtype.is_floating_point
            or len(gt_labels) != len(logits)):
        raise ValueError(f'{loss}: gt_labels must be {len(logits)} integer class indices '
                         f'(shape ({len(logits)},)), got a {gt_labels.dtype} tensor of '
                         f'shape {tuple(gt_labels.shape)}')


def check_choice(loss: str, name: str, value: object, valid: Collection) -> None:
    """Raise a ValueError unless ``value`` is one of ``valid``.

    Args:
        loss (str): The loss's name, which starts the message.
        name (str): The option's name.
        value (object): The value given.
        valid (Collection): The valid values.
    """
    if value not in valid:
        raise ValueError(f'{loss}: {name}={value!r} is not valid; valid values are '
                         f'{sorted(valid, key=repr)}')


def check_positive(loss: str, name: str, value: float) -> None:
    """Raise a ValueError unless ``value`` is above zero (a temperature, a count).

    Args:
        loss (str): The loss's name, which starts the message.
        name (str): The option's name.
        value (float): The value given.
    """
    if not value > 0:
        raise ValueError(f'{loss}: {name} must be positive, got {value!r}')
