import math

import torch

from common.quality import _dct_matrix, mel_cepstral_distortion, mel_l1, snr_db


def test_identical_mels_have_zero_distance_and_padding_is_ignored():
    mel = torch.randn(2, 80, 30)
    other = mel.clone()
    other[1, :, 20:] += 5.0  # beyond item 1's length
    lengths = torch.tensor([30, 20])
    assert mel_l1(other, mel, lengths) == 0.0
    assert mel_cepstral_distortion(other, mel, lengths) == 0.0


def test_l1_is_the_mean_absolute_difference_over_valid_frames():
    target = torch.zeros(1, 4, 10)
    predicted = torch.zeros(1, 4, 10)
    predicted[0, :, :5] = 0.5
    assert math.isclose(mel_l1(predicted, target, torch.tensor([5])), 0.5)
    assert math.isclose(mel_l1(predicted, target, torch.tensor([10])), 0.25)


def test_l1_without_lengths_compares_the_frames_both_mels_have():
    assert math.isclose(mel_l1(torch.zeros(1, 2, 5), torch.full((1, 2, 4), 0.5)), 0.5)


def test_snr_of_a_tenth_of_the_signal_is_20_db_and_of_an_exact_copy_infinite():
    ones = torch.ones(1000)
    assert math.isclose(snr_db(ones, ones + 0.1), 20.0, rel_tol=1e-6)
    assert snr_db(ones, ones) == float('inf')


def test_mcd_ignores_loudness_and_grows_with_spectral_shape_difference():
    target = torch.randn(1, 80, 50)
    lengths = torch.tensor([50])
    louder = target + 1.0  # a constant offset in every band lives in c0 only
    assert mel_cepstral_distortion(louder, target, lengths) < 1e-4  # float32 rounding of the offset
    small = mel_cepstral_distortion(target + 0.1 * torch.randn_like(target), target, lengths)
    large = mel_cepstral_distortion(target + 0.5 * torch.randn_like(target), target, lengths)
    assert 0 < small < large


def test_dct_basis_is_orthonormal():
    basis = _dct_matrix(80, 80, torch.float64)
    torch.testing.assert_close(basis @ basis.T, torch.eye(80, dtype=torch.float64))
