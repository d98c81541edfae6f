"""``crossover``: the genetic operator of the evolution search."""
import copy
from typing import Any, Dict

import numpy as np


def crossover(random_subnet1: Dict[str, Any], random_subnet2: Dict[str, Any],
              prob: float = 0.5) -> Dict[str, Any]:
    """A copy of ``random_subnet1`` where each search group takes the choice of
    ``random_subnet2`` with probability ``prob``.

    Mutation is a crossover with a newly sampled subnet at ``mutate_prob``. Draws
    from numpy's global generator, whose state a search checkpoint stores.

    Args:
        random_subnet1 (dict): ``{search group: choice}``.
        random_subnet2 (dict): ``{search group: choice}``, same groups.
        prob (float): Probability of taking a choice from ``random_subnet2``.
            Defaults to 0.5.

    Returns:
        dict: The new subnet.
    """
    if isinstance(prob, bool) or not isinstance(prob, (int, float)) or not 0 <= prob <= 1:
        raise ValueError(f'the crossover probability must be a number in [0, 1], got {prob!r}')
    if set(random_subnet1) != set(random_subnet2):
        diff = sorted(set(random_subnet1) ^ set(random_subnet2))
        raise KeyError(f'crossover needs two subnets of one search space; the groups '
                       f'{diff} are in only one of them')
    child = copy.deepcopy(random_subnet1)
    for group, choice in random_subnet2.items():
        if np.random.random_sample() < prob:
            child[group] = copy.deepcopy(choice)
    return child
