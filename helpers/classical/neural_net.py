"""The deep neural network of the 2025 edition: a residual MLP in PyTorch on hashed bag-of-words
features, predicting the log price.

Three functions, each shown in week 6 day 3's cells (copied verbatim, see `notebooks/sync.py`):
the network, its training loop with early stopping, and `fit_neural_net`, which ties them to the
items. The course trains 10 layers of 4,096 units for hours on a GPU; the size is two settings
(`nn_hidden`, `nn_layers`), and the CPU default (4 blocks of 256) trains on the bundled sample in
about 20 seconds. A validation split carved from the training items stops the training when its
error stops falling, and the weights of its best epoch are kept; a seed makes it repeatable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from helpers.classical.baselines import BaselineConfig, held_out
from helpers.core.items import Item
from helpers.core.tester import Predictor

if TYPE_CHECKING:
    import torch
    from scipy.sparse import csr_matrix


@dataclass
class TrainingRun:
    """What early stopping did: the epochs trained, and the one whose weights were kept."""

    epochs: int
    best_epoch: int
    best_error: float  # the validation items' mean absolute error in log price, at best_epoch


def deep_neural_network(inputs: int, config: BaselineConfig) -> torch.nn.Module:
    """The network: hashed words in, one log price out. In between, `config.nn_layers` residual
    blocks of `config.nn_hidden` units: each adds what it learns to its own input, so a block that
    has nothing to add can pass its input on, and depth does not hurt. (The course's block puts
    its layer norms after its linear layers; this one normalises first, which trains as well.)"""
    from torch import nn

    hidden, dropout = config.nn_hidden, config.nn_dropout

    class ResidualBlock(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(
                nn.LayerNorm(hidden),
                nn.Linear(hidden, hidden),
                nn.ReLU(),
                nn.Dropout(dropout),
                nn.Linear(hidden, hidden),
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + self.body(x)

    return nn.Sequential(
        nn.Linear(inputs, hidden),
        nn.ReLU(),
        *(ResidualBlock() for _ in range(config.nn_layers)),
        nn.LayerNorm(hidden),
        nn.Linear(hidden, 1),
    )


def train_with_early_stopping(
    network: torch.nn.Module, features: csr_matrix, target: np.ndarray, config: BaselineConfig
) -> TrainingRun:
    """Mini-batches of `config.nn_batch` rows, AdamW, the mean absolute error of the log price
    (the course's L1 loss). After every epoch, the error on `config.validation_share` of the rows,
    held out: training stops after `config.nn_patience` epochs without a better one, and the
    network keeps the weights of its best epoch, not of its last (which has begun to overfit)."""
    import torch

    kept, valid = held_out(len(target), config.validation_share, config.seed)
    optimiser = torch.optim.AdamW(network.parameters(), lr=config.nn_learning_rate, weight_decay=0.01)

    def dense(rows: np.ndarray) -> torch.Tensor:  # sparse rows to a tensor, a batch at a time
        return torch.from_numpy(features[rows].toarray().astype(np.float32))

    valid_x, valid_y = dense(valid), torch.from_numpy(target[valid])
    best, best_state, waited, best_epoch, epochs = float("inf"), None, 0, 0, 0
    generator = np.random.default_rng(config.seed)
    for epoch in range(1, config.nn_epochs + 1):
        epochs = epoch
        network.train()  # dropout on
        shuffled = generator.permutation(kept)
        for start in range(0, len(shuffled), config.nn_batch):
            rows = shuffled[start : start + config.nn_batch]
            loss = torch.nn.functional.l1_loss(network(dense(rows)).squeeze(1), torch.from_numpy(target[rows]))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        network.eval()  # dropout off
        with torch.no_grad():
            error = torch.nn.functional.l1_loss(network(valid_x).squeeze(1), valid_y).item()
        if error < best - 1e-4:
            best, waited, best_epoch = error, 0, epoch
            best_state = {name: value.clone() for name, value in network.state_dict().items()}
        else:
            waited += 1
            if waited >= config.nn_patience:
                break
    network.load_state_dict(best_state)
    network.eval()
    return TrainingRun(epochs, best_epoch, best)


def fit_neural_net(train: list[Item], config: BaselineConfig) -> Predictor:
    """A predictor `item -> price` from the residual MLP trained on `train`: each text hashed
    into `config.nn_features` counts of words and word pairs (no vocabulary to learn or store),
    the target the log of the price, as the course does."""
    import torch
    from sklearn.feature_extraction.text import HashingVectorizer

    torch.manual_seed(config.seed)  # the network's first weights and its dropout
    hasher = HashingVectorizer(n_features=config.nn_features, ngram_range=(1, 2), alternate_sign=False, norm="l2")
    features = hasher.transform([item.text for item in train])
    target = np.log1p(np.array([item.price for item in train])).astype(np.float32)
    network = deep_neural_network(config.nn_features, config)
    run = train_with_early_stopping(network, features, target, config)

    def predict_batch(items: list[Item]) -> list[float]:
        x = torch.from_numpy(hasher.transform([item.text for item in items]).toarray().astype(np.float32))
        with torch.no_grad():
            return [max(float(p), 0.0) for p in np.expm1(network(x).squeeze(1).numpy())]

    def neural_net_pricer(item: Item) -> float:
        return predict_batch([item])[0]

    neural_net_pricer.predict_batch = predict_batch
    neural_net_pricer.batch_size = 256
    neural_net_pricer.epochs, neural_net_pricer.best_epoch = run.epochs, run.best_epoch  # what early stopping did
    neural_net_pricer.network = network  # to show its layers
    return neural_net_pricer
