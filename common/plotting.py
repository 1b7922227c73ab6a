"""Spectrograms and alignments drawn as heat maps (matplotlib's Agg backend: no display needed).

Used for TensorBoard images during training and for the demo's PNG of synthesized mels.
"""
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def _heatmap_figure(named_arrays, width=10, row_height=2.5):
    """One row per (title, 2-D array) pair, row 0 of each array at the bottom."""
    figure = Figure(figsize=(width, row_height * len(named_arrays)), dpi=80)
    canvas = FigureCanvasAgg(figure)
    axes_list = np.atleast_1d(figure.subplots(len(named_arrays), 1, squeeze=False)[:, 0])
    for axes, (title, array) in zip(axes_list, named_arrays):
        values = array.detach().float().cpu().numpy() if hasattr(array, 'detach') else np.asarray(array)
        image = axes.imshow(values, aspect='auto', origin='lower', interpolation='none')
        if title:
            axes.set_title(title, fontsize=9)
        figure.colorbar(image, ax=axes)
    figure.tight_layout()
    return figure, canvas


def heatmap_image(array):
    """A 2-D tensor or array -> (H, W, 3) uint8 picture, e.g. for TensorBoard."""
    figure, canvas = _heatmap_figure([('', array)], width=8, row_height=3)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def save_heatmaps(path, named_arrays):
    """Write a PNG with one heat map per (title, array) pair."""
    figure, canvas = _heatmap_figure(list(named_arrays))
    figure.savefig(path)
