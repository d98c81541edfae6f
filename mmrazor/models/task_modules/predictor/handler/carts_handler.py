"""``CartsHandler``: an ensemble of regression trees on random feature subsets."""
import numpy as np
from sklearn.tree import DecisionTreeRegressor

from mmrazor.registry import TASK_UTILS

from .base_handler import Arrays, BaseHandler, check_train_data

# the node arrays that describe the fitted forest (all trees concatenated)
NODE_ARRAYS = ('left', 'right', 'feature', 'threshold', 'value')


@TASK_UTILS.register_module()
class CartsHandler(BaseHandler):
    """Classification and regression trees: the mean of ``num_trees`` regression
    trees, each fitted on a random subset of the features.

    The trees are fitted with scikit-learn, then kept as flat node arrays (children,
    split feature, threshold, leaf value) that predict by walking all trees at once;
    the checkpoint is those arrays, so a loaded handler predicts exactly what the
    fitted one did, whatever the scikit-learn version.

    Args:
        num_trees (int): Number of regression trees. Defaults to 1000.
    """

    def __init__(self, num_trees: int = 1000) -> None:
        if isinstance(num_trees, bool) or not isinstance(num_trees, int) or num_trees < 1:
            raise ValueError(f'num_trees must be a positive int, got {num_trees!r}')
        self.num_trees = num_trees

    def fit(self, train_data: np.ndarray, train_label: np.ndarray) -> None:
        """Fit the trees (random subsets and tie-breaks from numpy's global state)."""
        data, label = check_train_data(train_data, train_label)
        num_features = data.shape[1]
        nodes = {name: [] for name in NODE_ARRAYS}
        roots, offset = [], 0
        for seed in np.random.randint(0, 2**31 - 1, size=self.num_trees):
            rng = np.random.RandomState(seed)
            size = rng.randint(1, num_features + 1)
            features = rng.permutation(num_features)[:size]
            tree = DecisionTreeRegressor(random_state=rng).fit(data[:, features], label).tree_
            is_split = tree.children_left >= 0
            roots.append(offset)
            # children indices into the concatenated arrays; a leaf points at itself
            own = np.arange(tree.node_count) + offset
            nodes['left'].append(np.where(is_split, tree.children_left + offset, own))
            nodes['right'].append(np.where(is_split, tree.children_right + offset, own))
            nodes['feature'].append(np.where(is_split, features[tree.feature * is_split], 0))
            nodes['threshold'].append(tree.threshold)
            nodes['value'].append(tree.value.reshape(tree.node_count, -1)[:, 0])
            offset += tree.node_count
        self._set_state(dict({k: np.concatenate(v) for k, v in nodes.items()},
                             roots=np.array(roots), num_features=np.array(num_features)))

    def _set_state(self, arrays: Arrays) -> None:
        self.left, self.right = arrays['left'], arrays['right']
        self.feature, self.threshold = arrays['feature'], arrays['threshold']
        self.value, self.roots = arrays['value'], arrays['roots']
        self.num_features = int(arrays['num_features'])

    def _predict(self, data: np.ndarray) -> np.ndarray:
        # scikit-learn compares float32 inputs with its thresholds; so do we
        data = data.astype(np.float32)
        node = np.tile(self.roots, (len(data), 1))
        rows = np.arange(len(data))[:, None]
        while True:
            go_left = data[rows, self.feature[node]] <= self.threshold[node]
            child = np.where(go_left, self.left[node], self.right[node])
            if np.array_equal(child, node):  # every walk has reached its leaf
                return self.value[node].mean(axis=1)
            node = child

    def state_arrays(self) -> Arrays:
        return dict(left=self.left, right=self.right, feature=self.feature,
                    threshold=self.threshold, value=self.value, roots=self.roots,
                    num_features=np.array(self.num_features))

    def load_state_arrays(self, arrays: Arrays) -> None:
        self._set_state(arrays)
