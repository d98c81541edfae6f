"""``MLPHandler``: a small MLP regressor trained with torch."""
import copy
import os.path as osp
from typing import Dict, Optional

import numpy as np
import torch
import torch.nn as nn
from mmcv.cnn import build_activation_layer

from mmrazor.registry import TASK_UTILS

from .base_handler import Arrays, BaseHandler, check_train_data

LEARNING_RATE = 8e-4  # MMRazor's Adam learning rate for the predictor


class MLP(nn.Module):
    """``in_features -> hidden_features -> (num_hidden_layers x hidden) -> out``.

    Args:
        in_features (int): Input dimension. Defaults to 78.
        hidden_features (int): Hidden dimension. Defaults to 300.
        out_features (int): Output dimension. Defaults to 1.
        num_hidden_layers (int): Hidden-to-hidden layers. Defaults to 2.
        act_cfg (dict): The activation. Defaults to dict(type='ReLU').
        drop (float): Dropout before the last layer. Defaults to 0.
    """

    def __init__(self,
                 in_features: int = 78,
                 hidden_features: int = 300,
                 out_features: int = 1,
                 num_hidden_layers: int = 2,
                 act_cfg: Dict = dict(type='ReLU'),  # noqa: B006
                 drop: float = 0.) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = build_activation_layer(act_cfg)
        layers = []
        for _ in range(num_hidden_layers):
            layers += [nn.Linear(hidden_features, hidden_features),
                       build_activation_layer(act_cfg)]
        self.hidden_layers = nn.Sequential(*layers)
        self.drop = nn.Dropout(drop)
        self.fc2 = nn.Linear(hidden_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.drop(self.hidden_layers(self.act(self.fc1(x)))))


@TASK_UTILS.register_module()
class MLPHandler(BaseHandler):
    """MLP handler: trains an :class:`MLP` (Adam, smooth L1 loss, cosine learning
    rate, full batch) on a ``data_split_ratio`` share of the samples and keeps the
    weights that do best on the rest.

    Labels are standardised for training (their mean and scale are kept with the
    weights): accuracies near 70 would otherwise take the whole budget of epochs to
    reach from an output near 0. The checkpoint is ``<path>_mlp.pth`` with plain
    tensors and numbers, read with ``torch.load(weights_only=True)``.

    Args:
        epochs (int): Training epochs. Defaults to 100.
        data_split_ratio (float): Share of samples trained on; the rest picks the
            best epoch (all samples when the rest would be empty). Defaults to 0.8.
        model_cfg (dict, optional): :class:`MLP` arguments (``in_features`` is
            set from the data). Defaults to None.
        device (str): Where to train. Defaults to 'cpu'.
    """

    def __init__(self,
                 epochs: int = 100,
                 data_split_ratio: float = 0.8,
                 model_cfg: Optional[Dict] = None,
                 device: str = 'cpu') -> None:
        if not 0 < data_split_ratio <= 1:
            raise ValueError(f'data_split_ratio must be in (0, 1], got {data_split_ratio!r}')
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f'epochs must be a positive int, got {epochs!r}')
        self.epochs = epochs
        self.data_split_ratio = data_split_ratio
        self.model_cfg = dict(model_cfg or {})
        self.model_cfg.pop('in_features', None)
        self.device = device
        self.label_stats = (0., 1.)

    def fit(self, train_data: np.ndarray, train_label: np.ndarray) -> None:
        """Train a new MLP (the split and initial weights come from torch's global
        random state)."""
        data, label = check_train_data(train_data, train_label)
        self.label_stats = (float(label.mean()), float(label.std()) or 1.)
        inputs = torch.from_numpy(data).float().to(self.device)
        target = torch.from_numpy((label - self.label_stats[0]) /
                                  self.label_stats[1]).float()[:, None].to(self.device)
        perm = torch.randperm(len(data))
        num_train = max(1, int(len(data) * self.data_split_ratio))
        train, valid = perm[:num_train], perm[num_train:]
        if len(valid) == 0:
            valid = train
        model = MLP(in_features=data.shape[1], **self.model_cfg).to(self.device)
        optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=self.epochs)
        criterion = nn.SmoothL1Loss()
        best_loss, best_state = float('inf'), None
        for _ in range(self.epochs):
            model.train()
            optimizer.zero_grad()
            criterion(model(inputs[train]), target[train]).backward()
            optimizer.step()
            scheduler.step()
            model.eval()
            with torch.no_grad():
                valid_loss = criterion(model(inputs[valid]), target[valid]).item()
            if valid_loss < best_loss:
                best_loss, best_state = valid_loss, copy.deepcopy(model.state_dict())
        model.load_state_dict(best_state)
        self.model = model.cpu().eval()
        self.num_features = data.shape[1]

    def _predict(self, data: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            out = self.model(torch.from_numpy(data).float())[:, 0].numpy()
        return out.astype(np.float64) * self.label_stats[1] + self.label_stats[0]

    def state_arrays(self) -> Arrays:
        return {k: v.numpy() for k, v in self.model.state_dict().items()}

    def load_state_arrays(self, arrays: Arrays) -> None:
        state = {k: torch.as_tensor(v) for k, v in arrays.items()}
        model = MLP(in_features=state['fc1.weight'].shape[1], **self.model_cfg)
        model.load_state_dict(state)
        self.model = model.eval()
        self.num_features = model.fc1.in_features

    def save(self, path: str) -> str:
        """Save to ``<path>_mlp.pth`` (weights and label statistics) and return it."""
        if self.num_features < 0:
            raise RuntimeError('MLPHandler is not fitted: nothing to save')
        path = f'{path}_mlp.pth'
        torch.save({'state_dict': self.model.state_dict(),
                    'meta': {'label_mean': self.label_stats[0],
                             'label_std': self.label_stats[1]}}, path)
        return path

    def load(self, path: str) -> None:
        """Load ``save``'s file, or MMRazor's (whose meta is empty: raw labels)."""
        if not osp.isfile(path):
            raise FileNotFoundError(f'handler checkpoint {path} does not exist')
        checkpoint = torch.load(path, map_location='cpu', weights_only=True)
        if not isinstance(checkpoint, dict) or 'state_dict' not in checkpoint:
            raise ValueError(f'{path} is not an MLPHandler checkpoint (a dict with '
                             "'state_dict')")
        meta = checkpoint.get('meta') or {}
        self.label_stats = (meta.get('label_mean', 0.), meta.get('label_std', 1.))
        self.load_state_arrays({k: v.numpy() for k, v in checkpoint['state_dict'].items()})
