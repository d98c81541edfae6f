"""Turn a :class:`ChannelFlow` into channel-unit configs (MMRazor's format).

Channel elements that reach exactly the same layer sides form one unit. In every
layer side the unit's channels must sit in contiguous runs, in the same order as in
the unit's first producer (``expand_ratio`` copies each when a flatten fed a linear);
otherwise (a channel shuffle, a reordering) the unit is frozen, never pruned wrongly.
"""
from collections import defaultdict
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np

from .channel_flow import ChannelFlow

PortKey = Tuple[str, bool]


@dataclass
class FrozenGroup:
    """Channels that stay: where they are and why."""

    layers: List[str]
    num_channels: int
    reason: str


def _runs(indices: np.ndarray) -> List[np.ndarray]:
    """Split sorted indices into runs of consecutive values."""
    breaks = np.nonzero(np.diff(indices) != 1)[0] + 1
    return np.split(indices, breaks)


def _channels_of_run(run: np.ndarray, ranks: np.ndarray, num: int
                     ) -> Optional[List[Tuple[int, int, int]]]:
    """(start, end, expand_ratio) pieces of one run, or None if the order breaks."""
    if len(run) % num:
        return None
    ratio = len(run) // num
    if np.array_equal(ranks, np.repeat(np.arange(num), ratio)):
        return [(int(run[0]), int(run[-1]) + 1, ratio)]
    tiles = ranks.reshape(-1, num)
    if (tiles == np.arange(num)).all():  # the unit repeated (tile): one piece per copy
        return [(int(run[i]), int(run[i]) + num, 1) for i in range(0, len(run), num)]
    return None


def build_unit_configs(flow: ChannelFlow) -> Tuple[Dict[str, Dict], List[FrozenGroup]]:
    """The prunable units (``{name: {'init_args', 'channels'}}``) and the frozen
    groups of a channel flow."""
    elements = flow.elements
    port_roots = {key: elements.roots(port.ids) for key, port in flow.ports.items()}
    reach: Dict[int, set] = defaultdict(set)
    for key, roots in port_roots.items():
        for root in np.unique(roots).tolist():
            reach[root].add(key)
    groups: Dict[Tuple[PortKey, ...], List[int]] = defaultdict(list)
    for root, keys in reach.items():
        signature = tuple(sorted(keys, key=lambda k: (flow.ports[k].order, k[1])))
        groups[signature].append(root)

    units: Dict[str, Dict] = {}
    frozen: List[FrozenGroup] = []
    for signature, roots in groups.items():
        layers = sorted({key[0] for key in signature},
                        key=lambda n: min(flow.ports[k].order for k in signature
                                          if k[0] == n))
        reason = next((elements.frozen_reason(r) for r in roots
                       if elements.frozen_reason(r) is not None), None)
        outputs = [key for key in signature if key[1]]
        if reason is None and not outputs:
            reason = 'no prunable layer produces these channels'
        config = None if reason else _unit_config(flow, port_roots, signature, roots,
                                                 outputs[0])
        if config is None:
            frozen.append(FrozenGroup(layers, len(roots),
                                      reason or 'channel order changes between layers'))
            continue
        name, unit = config
        units[name] = unit
    return units, frozen


def _unit_config(flow: ChannelFlow, port_roots: Dict[PortKey, np.ndarray],
                 signature: Tuple[PortKey, ...], roots: List[int], first_output: PortKey
                 ) -> Optional[Tuple[str, Dict]]:
    members = np.array(sorted(roots))
    num = len(members)
    producer = port_roots[first_output]
    in_group = np.isin(producer, members)
    order = producer[in_group]
    _, first_seen = np.unique(order, return_index=True)
    ranked = order[np.sort(first_seen)]
    rank_of = {int(r): i for i, r in enumerate(ranked)}
    channels: Dict[str, List[Dict]] = {'input_related': [], 'output_related': []}
    for key in signature:
        roots_here = port_roots[key]
        indices = np.nonzero(np.isin(roots_here, members))[0]
        for run in _runs(indices):
            ranks = np.array([rank_of[int(r)] for r in roots_here[run]])
            pieces = _channels_of_run(run, ranks, num)
            if pieces is None:
                return None
            for start, end, ratio in pieces:
                side = 'output_related' if key[1] else 'input_related'
                channels[side].append(dict(name=key[0], start=start, end=end,
                                           expand_ratio=ratio, is_output_channel=key[1]))
    first = channels['output_related'][0]
    name = f"{first['name']}_({first['start']}, {first['end']})_{num}"
    return name, {'init_args': {'num_channels': num}, 'channels': channels}
