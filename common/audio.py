"""Reading and writing mono WAV files as float audio in [-1, 1].

Every problem with an input file becomes an AudioError whose one-line message names the file, so a bad clip in a
corpus of thousands can be found without a traceback.
"""
import contextlib
import struct
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf
import soxr
import torch

from common.fileio import open_atomic

WAV_FORMATS = ('WAV', 'WAVEX')
FLOAT_SUBTYPES = ('FLOAT', 'DOUBLE')
INT16_FULL_SCALE = 32768  # int16 samples are divided by this on reading, multiplied on writing


class AudioError(ValueError):
    """A WAV file that cannot be used: missing, unreadable, or in the wrong shape or rate."""


def wav_info(path):
    """soundfile's description of a mono WAV file, its header checked against the file's size (libsndfile silently
    reads what a truncated file still holds)."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(f'{path}: no such file')
    try:
        info = sf.info(str(path))
    except RuntimeError as error:  # soundfile's LibsndfileError: unknown or corrupt format
        raise AudioError(f'{path}: not a readable WAV file ({error})') from None
    if info.format not in WAV_FORMATS:
        raise AudioError(f'{path}: is a {info.format} file, expected WAV')
    promised = promised_wav_frames(path)
    if promised is not None and promised > info.frames:
        raise AudioError(f'{path}: its header promises {promised} samples but the file holds {info.frames}: '
                         'truncated (an interrupted copy or download?)')
    if info.channels != 1:
        raise AudioError(f'{path}: has {info.channels} channels, expected mono (1 channel)')
    if info.frames == 0:
        raise AudioError(f'{path}: is empty (0 samples)')
    return info


UNKNOWN_DATA_SIZE = (0, 0xFFFFFFFF)  # what streaming writers leave in the data chunk's size field


def promised_wav_frames(path):
    """The frames a RIFF WAV's data chunk header announces, or None where it does not say (a streamed file, RF64,
    a malformed header, which libsndfile then judges)."""
    with open(path, 'rb') as file:
        if file.read(4) != b'RIFF' or len(file.read(4)) != 4 or file.read(4) != b'WAVE':
            return None
        block_align = None
        while True:
            header = file.read(8)
            if len(header) < 8:
                return None
            chunk, size = header[:4], struct.unpack('<I', header[4:])[0]
            if chunk == b'data':
                return None if size in UNKNOWN_DATA_SIZE or not block_align else size // block_align
            body = file.read(size + size % 2)  # chunks are padded to an even size
            if chunk == b'fmt ' and len(body) >= 14:
                block_align = struct.unpack('<H', body[12:14])[0]


def load_wav(path, expected_sampling_rate, resample=False):
    """Read a mono WAV file -> (float32 tensor (T,) in [-1, 1], sampling_rate).

    Integer PCM is scaled to [-1, 1] (16-bit: divided by 32768); float files must already lie in [-1, 1]. A file at
    another rate is an error, or with `resample` is resampled to expected_sampling_rate (soxr, high quality).
    """
    path = Path(path)
    info = wav_info(path)
    if info.samplerate != expected_sampling_rate and not resample:
        raise AudioError(f'{path}: sampled at {info.samplerate} Hz, expected {expected_sampling_rate} Hz')

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
    if info.samplerate != expected_sampling_rate:
        audio = resampled(audio, info.samplerate, expected_sampling_rate)
    return torch.from_numpy(audio), expected_sampling_rate


def resampled(audio, from_rate, to_rate):
    """float32 audio at to_rate, clipped to [-1, 1] (a band-limited resampler can overshoot a full-scale peak)."""
    return np.clip(soxr.resample(audio, from_rate, to_rate, quality='HQ'), -1.0, 1.0).astype(np.float32)


def trim_silence(audio, top_db, frame_length, hop_length):
    """The audio (T,) without its leading and trailing frames quieter than top_db below its loudest frame."""
    _, (start, end) = librosa.effects.trim(audio.numpy(), top_db=top_db, frame_length=frame_length,
                                           hop_length=hop_length)
    return audio[start:end]


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
