"""Distribution charts for the data notebooks and the command line.

Each function returns a matplotlib Figure (shown inline by Jupyter when it is a cell's last
value) and writes it to `path` when one is given. No pyplot state, so it works headless.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from helpers.core.items import Item
from helpers.plumbing.files import save_figure


@dataclass(frozen=True, slots=True)
class Point:
    """What the distribution charts read of an item, without its text: a curation of millions
    of items can keep one of these for each."""

    price: float
    token_count: int
    category: str

    @classmethod
    def of(cls, item: Item) -> Point:
        return cls(item.price, item.token_count, item.category)


def _figure(size=(15, 6)):
    from matplotlib.figure import Figure

    figure = Figure(figsize=size)
    return figure, figure.subplots()


def price_histogram(items: list[Item], title: str = "Prices", path: str | Path | None = None):
    prices = [item.price for item in items]
    figure, axes = _figure()
    axes.hist(prices, rwidth=0.7, color="darkorange", bins=range(0, 1000, 10))
    mean = sum(prices) / len(prices)
    axes.set_title(f"{title}: avg ${mean:,.2f}, highest ${max(prices):,.2f}, n={len(prices):,}", parse_math=False)
    axes.set_xlabel("Price ($)")
    axes.set_ylabel("Count")
    return save_figure(figure, path)


def token_histogram(items: list[Item], title: str = "Tokens", path: str | Path | None = None):
    counts = [item.token_count for item in items]
    figure, axes = _figure()
    axes.hist(counts, rwidth=0.7, color="skyblue", bins=range(0, max(counts) + 10, 5))
    mean = sum(counts) / len(counts)
    axes.set_title(f"{title}: avg {mean:,.1f}, highest {max(counts):,} tokens per prompt")
    axes.set_xlabel("Length (tokens)")
    axes.set_ylabel("Count")
    return save_figure(figure, path)


def category_counts(items: list[Item], path: str | Path | None = None):
    counts = Counter(item.category for item in items).most_common()
    figure, axes = _figure()
    names = [name for name, _ in counts]
    values = [count for _, count in counts]
    bars = axes.bar(names, values, color="goldenrod")
    axes.bar_label(bars, labels=[f"{v:,}" for v in values])
    axes.set_title("Items per category")
    axes.set_ylabel("Count")
    axes.tick_params(axis="x", rotation=30)
    return save_figure(figure, path)


def price_by_category(items: list[Item], path: str | Path | None = None):
    groups: dict[str, list[float]] = {}
    for item in items:
        groups.setdefault(item.category, []).append(item.price)
    names = sorted(groups, key=lambda name: -len(groups[name]))
    figure, axes = _figure()
    axes.boxplot([groups[name] for name in names], tick_labels=names, showfliers=False)
    axes.set_title("Price by category (boxes: quartiles, outliers hidden)")
    axes.set_ylabel("Price ($)")
    axes.tick_params(axis="x", rotation=30)
    return save_figure(figure, path)


CHARTS = {
    "prices.png": price_histogram,
    "tokens.png": token_histogram,
    "categories.png": category_counts,
    "price_by_category.png": price_by_category,
}


def vector_map(vectors, categories: list[str], path: str | Path | None = None, sample: int = 5_000):
    """The items' vectors flattened to two dimensions (their two principal components), one
    colour a category: week 8's picture of how the embedding model groups products. At most
    `sample` items, drawn with a seed: 400,000 points would hide each other."""
    import numpy as np
    from sklearn.decomposition import PCA

    chosen = np.sort(np.random.default_rng(42).permutation(len(categories))[:sample])
    vectors, categories = np.asarray(vectors)[chosen], [categories[i] for i in chosen]
    figure, axes = _figure((10, 8))
    points = PCA(n_components=2, random_state=42).fit_transform(vectors)
    for category in sorted(set(categories)):
        mine = [i for i, c in enumerate(categories) if c == category]
        axes.scatter(points[mine, 0], points[mine, 1], s=4, alpha=0.6, label=category)
    axes.set_title(f"{len(categories):,} items' vectors, by their two principal components")
    axes.legend(markerscale=3, fontsize="small")
    return save_figure(figure, path)


def save_all(items: list[Item], folder: str | Path) -> list[Path]:
    """Write the four charts as PNG files; returns their paths."""
    written = []
    for name, draw in CHARTS.items():
        draw(items, path=Path(folder) / name)
        written.append(Path(folder) / name)
    return written
