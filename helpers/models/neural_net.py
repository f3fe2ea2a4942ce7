"""The deep neural network of the 2025 edition: a residual MLP in PyTorch on hashed bag-of-words
features, predicting the log price.

The course trains 10 layers of 4,096 units for hours on a GPU; the size is two settings
(`nn_hidden`, `nn_layers`), and the CPU default (4 layers of 256) trains on the bundled sample in
about a minute. A validation split carved from the training items stops the training when its
error stops falling, and the weights of its best epoch are kept; a seed makes it repeatable.
"""

from __future__ import annotations

import numpy as np

from helpers.core.items import Item
from helpers.core.tester import Predictor
from helpers.models.baselines import BaselineConfig, held_out


def _network(inputs: int, hidden: int, layers: int, dropout: float):
    import torch
    from torch import nn

    class Block(nn.Module):
        """x + f(x): a layer that can learn to pass its input on unchanged, so depth does not hurt."""

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
        *(Block() for _ in range(layers)),
        nn.LayerNorm(hidden),
        nn.Linear(hidden, 1),
    )


def fit_neural_net(train: list[Item], config: BaselineConfig) -> Predictor:
    """A predictor `item -> price` from a residual MLP trained on `train`."""
    import torch
    from sklearn.feature_extraction.text import HashingVectorizer

    torch.manual_seed(config.seed)
    hasher = HashingVectorizer(n_features=config.nn_features, ngram_range=(1, 2), alternate_sign=False, norm="l2")
    features = hasher.transform([item.text for item in train])
    target = np.log1p(np.array([item.price for item in train])).astype(np.float32)
    kept, valid = held_out(len(target), config.validation_share, config.seed)
    network = _network(config.nn_features, config.nn_hidden, config.nn_layers, config.nn_dropout)
    optimiser = torch.optim.AdamW(network.parameters(), lr=config.nn_learning_rate, weight_decay=0.01)

    def dense(rows) -> torch.Tensor:
        return torch.from_numpy(features[rows].toarray().astype(np.float32))

    valid_x, valid_y = dense(valid), torch.from_numpy(target[valid])
    best, best_state, waited, best_epoch, epochs = float("inf"), None, 0, 0, 0
    generator = np.random.default_rng(config.seed)
    for epoch in range(1, config.nn_epochs + 1):
        epochs = epoch
        network.train()
        shuffled = generator.permutation(kept)
        for start in range(0, len(shuffled), config.nn_batch):
            rows = shuffled[start : start + config.nn_batch]
            loss = torch.nn.functional.l1_loss(network(dense(rows)).squeeze(1), torch.from_numpy(target[rows]))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        network.eval()
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

    def predict_batch(items: list[Item]) -> list[float]:
        x = torch.from_numpy(hasher.transform([item.text for item in items]).toarray().astype(np.float32))
        with torch.no_grad():
            return [max(float(p), 0.0) for p in np.expm1(network(x).squeeze(1).numpy())]

    def neural_net_pricer(item: Item) -> float:
        return predict_batch([item])[0]

    neural_net_pricer.predict_batch = predict_batch
    neural_net_pricer.batch_size = 256
    neural_net_pricer.epochs, neural_net_pricer.best_epoch = epochs, best_epoch  # what early stopping did
    neural_net_pricer.network = network  # to show its layers
    return neural_net_pricer
