"""Beta-binomial alignment priors of FastPitch 1.1: where on the text each mel frame is expected to look.

Frame t of T is given a beta-binomial distribution over the L symbols that drifts from the first symbol to the
last, which the aligner adds (as a log) to its scores. Two forms, both as the 1.1 reference computes them:
* `beta_binomial_prior(n_symbols, n_frames)`: the exact matrix (float64).
* `interpolated_prior(n_frames, n_symbols)`: what the reference's training uses by default: a few banked
  matrices at rounded sizes, zoomed (bilinear) to the wanted size. Faster, but not the exact matrix (see there).
"""
import functools

import numpy as np
import torch

# The banked sizes: mel lengths round to multiples of 100 frames, text lengths to multiples of 20 symbols.
MEL_BANK_STEP = 100
TEXT_BANK_STEP = 20


def beta_binomial_prior(n_symbols, n_frames, scaling=1.0):
    """(n_frames, n_symbols) float64 tensor: row t is the beta-binomial pmf with n = n_symbols,
    a = scaling * (t + 1), b = scaling * (n_frames - t), evaluated at 0 .. n_symbols - 1.

    The pmf's support is 0 .. n_symbols (one value more than there are symbols) and the reference evaluates it
    without the last value, so rows do not sum to 1: late frames lose the most mass (about 0.3 left in the last
    row of a 150-frame, 67-symbol matrix). Kept as the reference has it: trained aligners expect it.
    """
    from scipy.stats import betabinom  # here, not at the top: 60 MB that synthesis never uses

    frames = np.arange(1, n_frames + 1)[:, None]
    pmf = betabinom(n_symbols, scaling * frames, scaling * (n_frames + 1 - frames)).pmf(np.arange(n_symbols))
    return torch.from_numpy(pmf)


def _bank_size(length, step):
    # np.round rounds half to even, as the reference does: 149 frames bank at 200, 49 at 0 -> 100
    return max(1, int(np.round((length + 1) / step))) * step


@functools.lru_cache(maxsize=None)
def _banked_prior(n_mel_bank, n_text_bank):
    """The bank the reference keeps for a (mel, text) bank size, read-only.

    The reference builds it as beta_binomial_prior(n_symbols=mel bank, n_frames=text bank), i.e. with the two
    counts exchanged, and transposes it to (mel, text): its columns are the pmfs. Reproduced, since training
    priors (and the alignments learnt with them) depend on it.
    """
    bank = beta_binomial_prior(n_mel_bank, n_text_bank).numpy().T
    bank.flags.writeable = False
    return bank


def interpolated_prior(n_frames, n_symbols):
    """(n_frames, n_symbols) float32 tensor: the reference's default training prior.

    The banked matrix for the rounded sizes, zoomed to (n_frames, n_symbols) by scipy.ndimage.zoom with linear
    interpolation (order=1). Neither its rows nor its columns sum to 1, and it differs clearly from
    beta_binomial_prior(n_symbols, n_frames); banks are cached per process. The reference's data loader casts
    it to float32 when it batches; so do we here.
    """
    n_mel_bank = _bank_size(n_frames, MEL_BANK_STEP)
    n_text_bank = _bank_size(n_symbols, TEXT_BANK_STEP)
    from scipy import ndimage  # here, not at the top, as betabinom above

    # zoom's output size is round(bank size * factor), i.e. exactly (n_frames, n_symbols)
    zoomed = ndimage.zoom(_banked_prior(n_mel_bank, n_text_bank),
                          zoom=(n_frames / n_mel_bank, n_symbols / n_text_bank), order=1)
    return torch.from_numpy(zoomed).float()
