"""Per-symbol durations (mel frames per input symbol) for FastPitch, from two sources.

* eSpeak timings (the embedded corpus): the word events anchor character positions to samples. Each word starts a
  segment that runs to the next word (common/corpus/timings.py cuts them); inside it, the phonemes before the first
  / after the last non-pause phoneme are its leading / trailing pause. Characters are grouped the same way:
  non-alphanumerics before the first letter, the core from the first to the last letter or digit (apostrophes,
  hyphens and words eSpeak did not report included), and the spaces and punctuation after the last one. Pauses go to
  those spaces and punctuation, speech to the core, shared out evenly over its characters (letters do not map one to
  one onto phonemes, an even share is the simplest honest split). Text before the first word joins the first
  segment, so the leading silence goes to leading punctuation, or else to the first symbol; the trailing silence
  likewise goes to the final punctuation or space, or else to the last symbol. A boundary at sample s falls at frame
  round(s / hop_length); the last one is the mel length.
* Attention (Tacotron2.teacher_forced_alignment): each mel frame counted for its most attended symbol.

Both give int64 counts, one per symbol of `text_to_sequence(text, cleaners)`, that sum exactly to the mel length.
"""
import torch

from common.corpus.timings import TimingsError, even_shares, speech_bounds, word_segments
from common.text import cleaned_symbol_positions


class DurationError(TimingsError):
    """eSpeak timings that cannot give durations for a clip's symbols or mel; faults of the timings themselves
    (phonemes out of order, word events outside the text or the audio) raise the base class, TimingsError."""


def mel_frame_count(num_samples, hop_length):
    """Frames of TacotronSTFT.mel_spectrogram for a clip (centred STFT: one frame per hop plus one)."""
    return num_samples // hop_length + 1


def symbol_char_positions(text, cleaner_names):
    """Indices of the characters of `text` that become symbols, in order, one per id of text_to_sequence.

    `text` must already be clean (cleaning it again changes nothing), as corpus timings texts are.
    """
    positions = cleaned_symbol_positions(text, cleaner_names)
    if positions is None:
        raise DurationError(f'text {text!r} changes under the cleaners {cleaner_names}: its characters cannot be '
                            f'matched to symbols (timings must hold the cleaned text)')
    return positions


def durations_from_espeak(timings, cleaner_names, n_frames, hop_length):
    """Frames per symbol of timings['text'] from eSpeak word and phoneme timings (a timings JSON as a dict)."""
    text = timings['text']
    positions = symbol_char_positions(text, cleaner_names)
    if not positions:
        raise DurationError(f'text {text!r} has no known symbol')
    pieces = []
    for char_start, char_end, start, end in word_segments(timings):
        speech = speech_bounds(timings['phonemes'], start, end, timings['num_samples']) or (end, end)
        pieces.extend(_split_segment(text, (char_start, char_end), (start, *speech, end)))

    # Sample boundaries -> frame boundaries; the end of the clip is the end of the last mel frame.
    def to_frame(sample):
        return min(round(sample / hop_length), n_frames)

    char_frames = [0] * len(text)
    pending, last_symbol_char = 0, None  # frames of pieces without a symbol go to the nearest symbol
    symbol_chars = set(positions)
    for index, (chars, start, end) in enumerate(pieces):
        frame_start = to_frame(start)
        frame_end = n_frames if index == len(pieces) - 1 else to_frame(end)
        frames = frame_end - frame_start + pending
        kept = [char for char in chars if char in symbol_chars]
        if not kept:
            if last_symbol_char is None:
                pending = frames
            else:
                char_frames[last_symbol_char] += frames
                pending = 0
            continue
        for char, share in zip(kept, even_shares(frames, len(kept))):
            char_frames[char] += share
        pending, last_symbol_char = 0, kept[-1]
    durations = torch.tensor([char_frames[index] for index in positions], dtype=torch.long)
    if durations.sum().item() != n_frames or durations.min().item() < 0:
        raise DurationError(f'eSpeak timings of {text!r} do not fit a mel of {n_frames} frames '
                            f'(got {durations.tolist()})')
    return durations


def _split_segment(text, chars, samples):
    """[(char indices, start_sample, end_sample)] for the leading pause, speech core and trailing pause."""
    char_start, char_end = chars
    start, speech_start, speech_end, end = samples
    letters = [index for index in range(char_start, char_end) if text[index].isalnum()]
    if not letters:
        return [(range(char_start, char_end), start, end)]
    first, last = letters[0], letters[-1]
    # A pause without characters of its own goes to the neighbouring letter (the first or last symbol).
    lead = range(char_start, first) or range(first, first + 1)
    trail = range(last + 1, char_end) or range(last, last + 1)
    return [(lead, start, speech_start), (range(first, last + 1), speech_start, speech_end), (trail, speech_end, end)]


def durations_from_alignment(alignment, n_symbols):
    """Frames per symbol from an attention matrix (mel frames, symbols): each frame goes to its most attended
    symbol among the first n_symbols (the rest is padding)."""
    best = alignment[:, :n_symbols].argmax(dim=1)
    return torch.bincount(best, minlength=n_symbols).long()
