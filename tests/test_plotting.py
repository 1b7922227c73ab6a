import numpy as np
import torch
from PIL import Image

from common.plotting import heatmap_image, save_heatmaps


def test_heatmap_image_is_an_rgb_picture():
    image = heatmap_image(torch.randn(80, 50))
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert image.std() > 0  # something was drawn


def test_saved_png_has_one_row_per_array(tmp_path):
    path = tmp_path / 'mels.png'
    save_heatmaps(path, [('first', torch.randn(80, 40)), ('second', np.random.rand(80, 60))])
    one = tmp_path / 'one.png'
    save_heatmaps(one, [('only', torch.randn(80, 40))])
    with Image.open(path) as two_rows, Image.open(one) as one_row:
        assert two_rows.format == 'PNG'
        assert two_rows.size[1] == 2 * one_row.size[1]
