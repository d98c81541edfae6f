"""Turn a :class:`ChannelFlow` into channel-unit configs (MMRazor's format).

Channel elements that reach exactly the same layer sides form one unit. In every
layer side the unit's channels must sit in contiguous runs, in the same order as in
the unit's first producer (``expand_ratio`` copies each when a flatten fed a linear);
otherwise (a channel shuffle, a reordering) the unit is frozen, never pruned wrongly.
A parameter's dim (a layer scale) is an ``input_related`` channel with a ``dim`` key;
channels that meet only parameters belong to no layer and are left out.
"""
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np

from .channel_flow import ChannelFlow

PortKey = Tuple  # (layer, is_output) or, for a parameter, (name, False, dim)


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
    keys = sorted(flow.ports, key=lambda k: (flow.ports[k].order, k[1]))
    port_roots = {key: elements.roots(flow.ports[key].ids) for key in keys}
    if not keys:
        return {}, []
    # every (root, port) meeting, then one signature (set of ports) per root
    uniques = [np.unique(port_roots[key]) for key in keys]
    roots = np.concatenate(uniques)
    ports = np.concatenate([np.full(len(u), i) for i, u in enumerate(uniques)])
    weights = np.random.default_rng(0).integers(1, 2**62, size=(2, len(keys)))
    order = np.argsort(roots, kind='stable')
    roots, ports = roots[order], ports[order]
    starts = np.concatenate([[0], np.nonzero(np.diff(roots))[0] + 1])
    signature_hash = np.stack([np.add.reduceat(weights[i][ports], starts) for i in (0, 1)], 1)
    _, group_of, group_sizes = np.unique(signature_hash, axis=0, return_inverse=True,
                                         return_counts=True)
    group_of = group_of.reshape(-1)
    unique_roots = roots[starts]
    reasons = elements.frozen_reasons(unique_roots)
    ends = np.concatenate([starts[1:], [len(roots)]])

    units: Dict[str, Dict] = {}
    frozen: List[FrozenGroup] = []
    by_group = np.argsort(group_of, kind='stable')
    bounds = np.concatenate([[0], np.cumsum(group_sizes)])
    signatures = []
    for group in range(len(group_sizes)):
        first = by_group[bounds[group]]
        signatures.append((tuple(ports[starts[first]:ends[first]].tolist()), group))
    for port_indices, group in sorted(signatures):  # in graph order
        members = unique_roots[by_group[bounds[group]:bounds[group + 1]]]
        signature = [keys[i] for i in port_indices]
        if all(len(key) == 3 for key in signature):
            continue  # only parameters: no layer to prune or to keep
        layers = list(dict.fromkeys(key[0] for key in signature))
        reason = next((reasons[r] for r in members.tolist() if r in reasons), None)
        outputs = [key for key in signature if key[1]]
        if reason is None and not outputs:
            reason = 'no prunable layer produces these channels'
        config = None if reason else _unit_config(port_roots, signature, members,
                                                 outputs[0])
        if config is None:
            frozen.append(FrozenGroup(layers, len(members),
                                      reason or 'channel order changes between layers'))
            continue
        name, unit = config
        units[name] = unit
    return units, frozen


def _unit_config(port_roots: Dict[PortKey, np.ndarray], signature: List[PortKey],
                 members: np.ndarray, first_output: PortKey) -> Optional[Tuple[str, Dict]]:
    members = np.sort(members)
    num = len(members)
    producer = port_roots[first_output]
    order = producer[np.isin(producer, members)]
    _, first_seen = np.unique(order, return_index=True)
    ranked = order[np.sort(first_seen)]
    rank_of_sorted = np.empty(num, dtype=np.int64)
    rank_of_sorted[np.searchsorted(members, ranked)] = np.arange(num)
    channels: Dict[str, List[Dict]] = {'input_related': [], 'output_related': []}
    for key in signature:
        roots_here = port_roots[key]
        indices = np.nonzero(np.isin(roots_here, members))[0]
        for run in _runs(indices):
            ranks = rank_of_sorted[np.searchsorted(members, roots_here[run])]
            pieces = _channels_of_run(run, ranks, num)
            if pieces is None:
                return None
            for start, end, ratio in pieces:
                side = 'output_related' if key[1] else 'input_related'
                channel = dict(name=key[0], start=start, end=end, expand_ratio=ratio,
                               is_output_channel=key[1])
                if len(key) == 3:
                    channel['dim'] = key[2]
                channels[side].append(channel)
    first = channels['output_related'][0]
    name = f"{first['name']}_({first['start']}, {first['end']})_{num}"
    return name, {'init_args': {'num_channels': num}, 'channels': channels}
