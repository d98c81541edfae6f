"""Channel elements: one id per channel of a traced tensor, merged with union-find.

Channel analysis gives each channel of each tensor an element id. Operations that
force two channels to be pruned together (an add, a layer that normalises them, a
concatenation that is later split) union their elements; operations mmrazor cannot
prune correctly *freeze* them. A group of elements that reach the same layers is a
channel unit. Everything is vectorised over numpy arrays: a ResNet-50 has ~10^5
channel elements.
"""
from typing import Dict, List, Optional

import numpy as np


class ChannelElements:
    """Union-find over channel element ids, with a frozen flag and its reason."""

    def __init__(self) -> None:
        self._parent = np.zeros(0, dtype=np.int64)
        self._size = 0
        self._frozen_at = np.zeros(0, dtype=np.int64)  # 0: not frozen, else order + 1
        self._reasons: List[str] = []

    def new(self, num: int, frozen: Optional[str] = None) -> np.ndarray:
        """``num`` fresh elements; frozen (with that reason) if ``frozen`` is given."""
        start, stop = self._size, self._size + num
        if stop > len(self._parent):
            capacity = max(stop, 2 * len(self._parent), 1024)
            self._parent = np.concatenate(
                [self._parent, np.arange(len(self._parent), capacity, dtype=np.int64)])
            self._frozen_at = np.concatenate(
                [self._frozen_at, np.zeros(capacity - len(self._frozen_at), dtype=np.int64)])
        self._size = stop
        ids = np.arange(start, stop, dtype=np.int64)
        if frozen is not None:
            self.freeze(ids, frozen)
        return ids

    def roots(self, ids: np.ndarray) -> np.ndarray:
        """The root of every element (with path compression)."""
        ids = np.asarray(ids, dtype=np.int64)
        roots = self._parent[ids]
        while True:
            up = self._parent[roots]
            if np.array_equal(up, roots):
                break
            roots = up
        self._parent[ids] = roots
        return roots

    def find(self, element: int) -> int:
        return int(self.roots(np.array([element]))[0])

    def union(self, a: np.ndarray, b: np.ndarray) -> None:
        """Pair ``a[i]`` with ``b[i]``: those channels are pruned together."""
        if len(a) != len(b):
            raise ValueError(f'cannot pair {len(a)} channels with {len(b)}')
        while True:
            root_a, root_b = self.roots(a), self.roots(b)
            differ = root_a != root_b
            if not differ.any():
                return
            low = np.minimum(root_a[differ], root_b[differ])
            high = np.maximum(root_a[differ], root_b[differ])
            # several pairs may link one root: the last write wins, the loop repeats
            self._parent[high] = low

    def freeze(self, ids: np.ndarray, reason: str) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        fresh = ids[self._frozen_at[ids] == 0]
        if len(fresh):
            self._reasons.append(reason)
            self._frozen_at[fresh] = len(self._reasons)

    def frozen_reasons(self, roots: np.ndarray) -> Dict[int, str]:
        """``{root: reason}`` for the given roots that hold a frozen element (the
        reason frozen first)."""
        frozen = np.nonzero(self._frozen_at[:self._size])[0]
        if not len(frozen):
            return {}
        order = self._frozen_at[frozen]
        frozen_roots = self.roots(frozen)
        wanted = np.isin(frozen_roots, roots)
        result: Dict[int, str] = {}
        for root, at in sorted(zip(frozen_roots[wanted].tolist(), order[wanted].tolist()),
                               key=lambda item: item[1]):
            result.setdefault(root, self._reasons[at - 1])
        return result

    def frozen_reason(self, element: int) -> Optional[str]:
        root = self.find(element)
        return self.frozen_reasons(np.array([root])).get(root)
