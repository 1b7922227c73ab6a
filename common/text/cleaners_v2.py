"""FastPitch 1.1's text cleaners, by name: english_cleaners_v2 (its inference and scripts), english_cleaners (its
train.py default, not 1.0's cleaner of that name: see numbers_v2.py), transliteration_cleaners, basic_cleaners.

processing.TextProcessing runs them on one whitespace-separated chunk at a time.
"""
import re

from .abbreviations_v2 import expand_abbreviations_v2
from .acronyms import spell_acronyms
from .cleaners import basic_cleaners, collapse_whitespace
from .clock import expand_am_pm
from .letters_and_digits import split_letters_and_digits
from .numbers_v2 import expand_numbers_v2
from .transliteration import to_ascii
from .units import expand_units

_SLASHES_RE = re.compile('/+')


def transliteration_cleaners(text):
    return collapse_whitespace(to_ascii(text).lower())


def english_cleaners(text):
    """ASCII, lowercase, then numbers and abbreviations: "10:05am" -> "ten:fiveam", "GPU" -> "gpu"."""
    text = to_ascii(text).lower()
    return collapse_whitespace(expand_abbreviations_v2(expand_numbers_v2(text)))


def english_cleaners_v2(text):
    """Also am/pm, units, acronyms and "/": "10:05am" -> "ten five a.m.", "16GB" -> "sixteen gigabytes",
    "GPU" -> "g.p.u.". Capitals matter until the end (Roman numerals, acronyms), so lowercasing comes last."""
    text = split_letters_and_digits(expand_units(expand_am_pm(to_ascii(text))))
    text = spell_acronyms(expand_abbreviations_v2(expand_numbers_v2(text)))
    return _SLASHES_RE.sub(' ', collapse_whitespace(text.lower()))


CLEANERS_V2 = {cleaner.__name__: cleaner
               for cleaner in (basic_cleaners, transliteration_cleaners, english_cleaners, english_cleaners_v2)}
