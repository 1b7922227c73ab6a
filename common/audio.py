"""Reading and writing mono WAV files as float audio in [-1, 1].

Every problem with an input file becomes an AudioError whose one-line message names the file, so a bad clip in a
corpus of thousands can be found without a traceback.
"""
import contextlib
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from common.fileio import open_atomic

WAV_FORMATS = ('WAV', 'WAVEX')
FLOAT_SUBTYPES = ('FLOAT', 'DOUBLE')
INT16_FULL_SCALE = 32768  # int16 samples are divided by this on reading, multiplied on writing


class AudioError(ValueError):
    """A WAV file that cannot be used: missing, unreadable, or in the wrong shape or rate."""


def load_wav(path, expected_sampling_rate):
    """Read a mono WAV file -> (float32 tensor (T,) in [-1, 1], sampling_rate).

    Integer PCM is scaled to [-1, 1] (16-bit: divided by 32768); float files must already lie in [-1, 1].
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(f'{path}: no such file')
    try:
        info = sf.info(str(path))
    except RuntimeError as error:  # soundfile's LibsndfileError: unknown or corrupt format
        raise AudioError(f'{path}: not a readable WAV file ({error})') from None
    if info.format not in WAV_FORMATS:
        raise AudioError(f'{path}: is a {info.format} file, expected WAV')
    if info.channels != 1:
        raise AudioError(f'{path}: has {info.channels} channels, expected mono (1 channel)')
    if info.samplerate != expected_sampling_rate:
        raise AudioError(f'{path}: sampled at {info.samplerate} Hz, expected {expected_sampling_rate} Hz')
    if info.frames == 0:
        raise AudioError(f'{path}: is empty (0 samples)')

    # soundfile scales integer PCM to [-1, 1) by dividing by 2**(bits-1); float samples pass through untouched.
    try:
        audio, _ = sf.read(str(path), dtype='float32', always_2d=False)
    except RuntimeError as error:
        raise AudioError(f'{path}: unreadable audio data ({error})') from None
    if info.subtype in FLOAT_SUBTYPES:
        if not np.all(np.isfinite(audio)):
            raise AudioError(f'{path}: has non-finite (NaN or inf) samples')
        peak = float(np.abs(audio).max())
        if peak > 1.0:
            raise AudioError(f'{path}: float samples reach {peak:.4g}, expected values in [-1, 1]')
    return torch.from_numpy(audio), info.samplerate


def pcm16(audio, where):
    """Mono float audio (tensor or array of shape (T,), clipped to [-1, 1]) -> int16 samples; `where` names the
    destination in the messages."""
    if isinstance(audio, torch.Tensor):
        audio = audio.detach().cpu().float().numpy()
    audio = np.asarray(audio, dtype=np.float32).squeeze()
    if audio.ndim != 1:
        raise AudioError(f'{where}: expects mono audio of shape (samples,), got shape {audio.shape}')
    if not np.all(np.isfinite(audio)):
        raise AudioError(f'{where}: refusing to save audio with non-finite (NaN or inf) samples')
    return np.clip(np.round(audio * INT16_FULL_SCALE), -INT16_FULL_SCALE, INT16_FULL_SCALE - 1).astype(np.int16)


def save_wav(path, audio, sampling_rate):
    """Write mono float audio (tensor or array of shape (T,), clipped to [-1, 1]) as 16-bit PCM WAV.

    The write is atomic (common/fileio.py): a crash never leaves a half-written file behind under the final name.
    """
    samples = pcm16(audio, path)
    with open_atomic(path) as file:
        sf.write(file, samples, sampling_rate, format='WAV', subtype='PCM_16')


@contextlib.contextmanager
def wav_writer(path, sampling_rate):
    """A 16-bit PCM WAV written part by part: yields write(audio) for mono float parts, written as they come to a
    temporary file that becomes `path` only once the block ends without an exception (common/fileio.py)."""
    with open_atomic(path) as file, sf.SoundFile(file, 'w', sampling_rate, 1, 'PCM_16', format='WAV') as wav:
        yield lambda audio: wav.write(pcm16(audio, path))
