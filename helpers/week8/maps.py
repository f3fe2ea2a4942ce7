"""Week 8 day 2: the vector store drawn as a map. t-SNE places each item's 384 numbers in two or
three dimensions so that items near each other in the store stay near on the map; one colour a
category. (PCA, in `helpers.data.charts.vector_map`, is faster and keeps distances at large
scale; t-SNE keeps neighbourhoods, which is what retrieval uses.)"""

from __future__ import annotations

import numpy as np


def map_figure(vectors: np.ndarray, categories: list[str], texts: list[str], dimensions: int = 3, seed: int = 42):
    """A plotly figure of `vectors` reduced by t-SNE to `dimensions` (2 or 3), coloured by category."""
    import plotly.graph_objects as go
    from sklearn.manifold import TSNE

    perplexity = min(30.0, max(2.0, (len(vectors) - 1) / 3))  # t-SNE needs more points than its perplexity
    points = TSNE(n_components=dimensions, random_state=seed, perplexity=perplexity).fit_transform(vectors)
    figure = go.Figure()
    for name in sorted(set(categories)):
        rows = [i for i, category in enumerate(categories) if category == name]
        shown = {"mode": "markers", "name": name, "text": [texts[i][:60] for i in rows], "hoverinfo": "text"}
        if dimensions == 3:
            marker = {"size": 2, "opacity": 0.7}
            figure.add_trace(
                go.Scatter3d(x=points[rows, 0], y=points[rows, 1], z=points[rows, 2], marker=marker, **shown)
            )
        else:
            figure.add_trace(
                go.Scatter(x=points[rows, 0], y=points[rows, 1], marker={"size": 4, "opacity": 0.7}, **shown)
            )
    figure.update_layout(height=400 if dimensions == 3 else 600, margin={"r": 5, "b": 1, "l": 5, "t": 30},
                         title=f"{len(vectors):,} items of the vector store, t-SNE in {dimensions}-D")  # fmt: skip
    return figure
