"""Channel elements: one id per channel of a traced tensor, merged with union-find.

Channel analysis gives each channel of each tensor an element id. Operations that
force two channels to be pruned together (an add, a layer that normalises them, a
concatenation that is later split) union their elements; operations mmrazor cannot
prune correctly *freeze* them. A group of elements that reach the same layers is a
channel unit.
"""
from typing import Dict, List, Optional

import numpy as np


class ChannelElements:
    """Union-find over channel element ids, with a frozen flag and its reason."""

    def __init__(self) -> None:
        self._parent: List[int] = []
        self._frozen: Dict[int, str] = {}

    def new(self, num: int, frozen: Optional[str] = None) -> np.ndarray:
        """``num`` fresh elements; frozen (with that reason) if ``frozen`` is given."""
        start = len(self._parent)
        ids = np.arange(start, start + num, dtype=np.int64)
        self._parent.extend(ids.tolist())
        if frozen is not None:
            self.freeze(ids, frozen)
        return ids

    def find(self, element: int) -> int:
        parent = self._parent
        root = element
        while parent[root] != root:
            root = parent[root]
        while parent[element] != root:  # path compression
            parent[element], element = root, parent[element]
        return root

    def roots(self, ids: np.ndarray) -> np.ndarray:
        return np.fromiter((self.find(int(i)) for i in ids), dtype=np.int64,
                           count=len(ids))

    def union(self, a: np.ndarray, b: np.ndarray) -> None:
        """Pair ``a[i]`` with ``b[i]``: those channels are pruned together."""
        if len(a) != len(b):
            raise ValueError(f'cannot pair {len(a)} channels with {len(b)}')
        for x, y in zip(a.tolist(), b.tolist()):
            root_x, root_y = self.find(x), self.find(y)
            if root_x == root_y:
                continue
            self._parent[root_y] = root_x
            if root_y in self._frozen and root_x not in self._frozen:
                self._frozen[root_x] = self._frozen[root_y]

    def freeze(self, ids: np.ndarray, reason: str) -> None:
        for element in ids.tolist():
            self._frozen.setdefault(self.find(element), reason)

    def frozen_reason(self, element: int) -> Optional[str]:
        return self._frozen.get(self.find(element))
