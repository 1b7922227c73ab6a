"""The sampling rate a checkpoint was trained at, against this run's --sampling-rate.

A model trained at one rate makes (or takes) mels whose frames and bands mean other things at another rate: a
16 kHz generator with a 22.05 kHz vocoder speaks too fast and too high, without any error of its own. Our
checkpoints store the training flags (train_setup); NVIDIA's do not, and pass unchecked.
"""
from common.checkpoint import read_train_setup


class SamplingRateError(ValueError):
    """A checkpoint trained at another sampling rate than this run's."""


def trained_sampling_rate(path):
    """The --sampling-rate a checkpoint of ours was trained with, or None where it does not say."""
    rate = read_train_setup(path).get('sampling_rate')
    return rate if isinstance(rate, int) else None


def check_trained_sampling_rates(checkpoints, sampling_rate):
    """Raise SamplingRateError for the first of {flag: checkpoint path or None} trained at another rate."""
    for flag, path in checkpoints.items():
        rate = trained_sampling_rate(path) if path else None
        if rate is not None and rate != sampling_rate:
            raise SamplingRateError(f'{flag} {path}: trained on {rate} Hz audio, this run has --sampling-rate '
                                    f'{sampling_rate}: give --sampling-rate {rate}, or a checkpoint trained at '
                                    f'{sampling_rate} Hz')
