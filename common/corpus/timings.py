"""A clip's eSpeak timings (timings/ID.json, format in common/corpus/build.py) cut into word segments.

Each word event starts a segment that runs to the next one: an event that does not move forward in the text, or
moves back in time, is dropped; the text and silence before the first event join the first segment, and the last
one runs to the end of the text and of the clip. A segment's speech runs from the start of the first to the end
of the last non-pause phoneme that starts in it (a phoneme lasts until the next one starts, at most to the
segment's end); the rest is its leading and trailing pause. prepare_dataset.py's durations from eSpeak
(durations_from_espeak) and benchmarks/alignment.py's word boundaries both cut the text this way, so that those
durations score no boundary error.
"""

PAUSE_PREFIX = '_'  # eSpeak's own pause symbols: '_', '_:', '_!', ...


class TimingsError(ValueError):
    """Timings that contradict themselves, their text or their audio."""


def word_segments(timings):
    """[(first char, end char, first sample, end sample)] per word segment of a timings JSON (as a dict); a
    TimingsError for phoneme starts out of order or out of the audio, or a word event outside the text or audio."""
    text, num_samples = timings['text'], timings['num_samples']
    starts = [phoneme['start_sample'] for phoneme in timings['phonemes']]
    if starts != sorted(starts) or (starts and not 0 <= starts[0] <= starts[-1] < num_samples):
        raise TimingsError(f'phoneme start samples must be non-decreasing and lie in [0, {num_samples})')
    anchors = []  # (char position, start sample) per kept event: positions increasing, samples non-decreasing
    for word in timings['words']:
        position, sample = word['text_position'], word['start_sample']
        if not 0 <= position < len(text) or not 0 <= sample <= num_samples:
            raise TimingsError(f'word event {word} lies outside the text ({len(text)} characters) or the audio '
                               f'({num_samples} samples)')
        if not anchors or (position > anchors[-1][0] and sample >= anchors[-1][1]):
            anchors.append((position, sample))
    anchors = [(0, 0)] + anchors[1:] + [(len(text), num_samples)]
    return [(c0, c1, s0, s1) for (c0, s0), (c1, s1) in zip(anchors, anchors[1:])]


def speech_bounds(phonemes, start, end, num_samples):
    """(first, last) sample of the non-pause phonemes that start in [start, end), or None when there are none."""
    starts = [phoneme['start_sample'] for phoneme in phonemes] + [num_samples]
    spoken = [(starts[i], min(starts[i + 1], end)) for i, phoneme in enumerate(phonemes)
              if not phoneme['name'].startswith(PAUSE_PREFIX) and start <= starts[i] < end]
    return (spoken[0][0], max(stop for _, stop in spoken)) if spoken else None


def even_shares(total, n):
    """Split `total` into n non-negative integers that differ by at most one and sum to `total`."""
    return [(total * (i + 1)) // n - (total * i) // n for i in range(n)]
