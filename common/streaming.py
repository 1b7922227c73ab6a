"""Streaming synthesis: a mel spectrogram vocoded in chunks, each chunk's audio ready before the whole is done.

A vocoder's output sample depends on the mel only within the vocoder's receptive field. So a chunk of frames
vocoded together with `context` frames on either side (fewer at the ends of the mel) and cut back to its own frames
is the audio that vocoding the whole mel gives there, to float rounding, when the context covers the receptive
field: each vocoder's `stream_context_frames` (common/model_spec.py), its denoiser included. tests/test_streaming.py
holds the joins to 1e-6 (measured: 3e-8 for HiFi-GAN V1, 0 for WaveGlow, random weights, with the denoisers).
WaveGlow must run at sigma 0 for that (its noise is drawn per call); Griffin-Lim never matches (its random start
phase is drawn per call).
Each chunk costs (chunk + 2 * context) frames of vocoding: larger chunks waste less, smaller ones start sooner.
"""
import math


def vocode_in_chunks(vocode, mel, chunk_frames, context_frames, hop_length):
    """Yield the audio (B, samples) of consecutive chunks of `mel` (B, n_mel, frames), chunk_frames frames each (the
    last may be shorter): frames * hop_length samples in all. `vocode` maps a mel (B, n_mel, n) to audio
    (B, n * hop_length) or longer; it is called once per chunk, only when that chunk is asked for."""
    if chunk_frames < 1 or context_frames < 0:
        raise ValueError(f'chunks of {chunk_frames} frames with {context_frames} frames of context: need at least one '
                         'frame per chunk and no negative context')
    n_frames = mel.size(2)
    for start in range(0, n_frames, chunk_frames):
        end = min(start + chunk_frames, n_frames)
        left, right = max(0, start - context_frames), min(n_frames, end + context_frames)
        audio = vocode(mel[:, :, left:right])
        if audio.size(-1) < (right - left) * hop_length:
            raise ValueError(f'the vocoder made {audio.size(-1)} samples of {right - left} frames, expected '
                             f'{hop_length} per frame')
        yield audio[:, (start - left) * hop_length:(end - left) * hop_length]


def context_frames(receptive_field_samples, hop_length, denoiser=None):
    """The whole mel frames of context that cover a vocoder's receptive field (output samples on either side), and
    its denoiser's where one runs on its output."""
    if denoiser is not None:
        receptive_field_samples += denoiser.receptive_field_samples()
    return math.ceil(receptive_field_samples / hop_length)
