"""Text front end: raw text (with optional {ARPAbet} spans) to symbol ids, and ids back to text."""
import re
import warnings
from itertools import groupby

from .cleaners import clean_text
from .symbols import ARPABET_MARK, PAD, PAD_ID, symbols

__all__ = ['PAD_ID', 'UnknownSymbolWarning', 'cleaned_symbol_positions', 'sequence_to_text', 'symbols',
           'text_to_sequence']

# The pad symbol has an id but text never produces it.
_TEXT_SYMBOL_TO_ID = {s: i for i, s in enumerate(symbols) if s != PAD}
# Alternating pieces after split: plain text, ARPAbet inside braces, plain text, ...
_BRACES_RE = re.compile(r'\{([^{}]+)\}')


class UnknownSymbolWarning(UserWarning):
    """Text held characters (or ARPAbet phonemes) that the symbol table cannot encode; they were dropped."""


def text_to_sequence(text, cleaner_names):
    """Symbol ids of `text`; plain text goes through the named cleaners, '{HH AH0 L OW1}' spans are ARPAbet.

    Symbols outside the table are dropped with one UnknownSymbolWarning naming them. No end token is appended.
    """
    ids, dropped = [], []
    for index, piece in enumerate(_BRACES_RE.split(text)):
        if index % 2:
            tokens = [(ARPABET_MARK + phoneme, '{%s}' % phoneme) for phoneme in piece.split()]
        else:
            tokens = [(char, char) for char in clean_text(piece, cleaner_names)]
        for symbol, as_written in tokens:
            if symbol in _TEXT_SYMBOL_TO_ID:
                ids.append(_TEXT_SYMBOL_TO_ID[symbol])
            elif as_written not in dropped:
                dropped.append(as_written)
    if dropped:
        warnings.warn('dropping symbols not in the table: ' + ', '.join(map(repr, dropped)),
                      UnknownSymbolWarning, stacklevel=2)
    return ids


def _symbol(symbol_id):
    symbol_id = int(symbol_id)
    if not 0 <= symbol_id < len(symbols):
        raise ValueError('symbol id %d is outside the table (0..%d)' % (symbol_id, len(symbols) - 1))
    return symbols[symbol_id]


def sequence_to_text(ids):
    """Text of a symbol id sequence (ints or a 1-D tensor); runs of ARPAbet come back as '{HH AH0 L OW1}'."""
    pieces = []
    for is_phoneme, run in groupby(map(_symbol, ids), key=lambda s: s.startswith(ARPABET_MARK)):
        pieces.append('{%s}' % ' '.join(s[1:] for s in run) if is_phoneme else ''.join(run))
    return ''.join(pieces)


def cleaned_symbol_positions(text, cleaner_names):
    """Indices of the characters of an already clean `text` that become symbols, in order, one per id of
    text_to_sequence(text, cleaner_names); None when the cleaners change the text (then characters and symbols
    cannot be matched). Timings of the embedded corpus hold such clean text."""
    positions = [index for index, char in enumerate(text) if text_to_sequence(char, [])]
    if [text_to_sequence(text[index], [])[0] for index in positions] != text_to_sequence(text, cleaner_names):
        return None
    return positions
