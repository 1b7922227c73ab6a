"""FastPitch 1.1's abbreviation step: "%", "&", "@" and ".com" addresses as words, then title abbreviations.

The titles are 1.0's list (abbreviations.py) plus "ms.", "sen." and "etc.", replaced one after another in 1.1's
order. 1.1 also has rules for "No. 5" and "½" that never fire: the numbers are words and "½" is dropped by the
transliteration before this step runs.
"""
import re

from .abbreviations import ABBREVIATIONS

_TITLE_ORDER = ('mrs', 'ms', 'mr', 'dr', 'st', 'co', 'jr', 'maj', 'gen', 'drs', 'rev', 'lt', 'hon', 'sgt', 'capt',
                'esq', 'ltd', 'col', 'ft', 'sen', 'etc')
_TITLES = {**ABBREVIATIONS, 'ms': 'miss', 'sen': 'senator', 'etc': 'et cetera'}
_TITLE_RULES = [(re.compile(r'\b%s\.' % title, re.IGNORECASE), _TITLES[title]) for title in _TITLE_ORDER]

_SYMBOL_RULES = (
    (re.compile('[ ]?%'), ' percent'),
    (re.compile('&'), ' and '),
    (re.compile('@'), ' at '),
    (re.compile(r'([a-zA-Z])\.(com|gov|org)'), r'\1 dot \2'),
)


def expand_abbreviations_v2(text):
    for pattern, replacement in _SYMBOL_RULES + tuple(_TITLE_RULES):
        text = pattern.sub(replacement, text)
    return text
