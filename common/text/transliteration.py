"""ASCII transliteration as the FastPitch 1.1 front end does it: character by character, dropping what it cannot spell.

1.1 does not use unidecode's readings everywhere: German umlauts get their German spelling ("ö" -> "oe"), typographic
quotes and short dashes become their ASCII look-alikes, and every other mark or symbol (em dash, ellipsis, "½",
currency signs, emoji) vanishes. Letters and digits of other scripts are read by unidecode; 1.1's own tables spell a
few of them differently (Greek eta "i", not "e") and drop scripts they lack (CJK), which English text rarely meets.
"""
import unicodedata
import warnings

from unidecode import unidecode

from . import UnknownSymbolWarning

_SPELLINGS = {
    'ä': 'ae', 'ö': 'oe', 'ü': 'ue', 'Ä': 'Ae', 'Ö': 'Oe', 'Ü': 'Ue', 'ß': 'ss', 'ẞ': 'SS',
    **dict.fromkeys('‘’‛′‵´ʹʻʼʽˈˊˋ', "'"),
    **dict.fromkeys('“”‟¨ʺ˝״', '"'),
    # Hyphens, the figure and en dash and the minus sign; the em dash (U+2014) is not among them.
    **dict.fromkeys('‐‑‒–−⁃', '-'),
    '‚': ',', '‹': '<', '›': '>', '⁄': '/', '∕': '/', '×': 'x', '∗': '*', '˜': '~',
}
_FULLWIDTH_ASCII = range(0xFF01, 0xFF5F)  # '！' .. '～', the ASCII set at double width


def _ascii_spelling(char):
    """The ASCII text for one non-ASCII character, or None when it has none."""
    if char in _SPELLINGS:
        return _SPELLINGS[char]
    if char.isspace():
        return ' '
    if ord(char) in _FULLWIDTH_ASCII:
        return unicodedata.normalize('NFKC', char)
    category = unicodedata.category(char)
    if category[0] == 'L' or category == 'Nd':  # letters and decimal digits, not "½" or "²"
        return unidecode(char)
    return None


def to_ascii(text):
    """`text` in ASCII (DEL excepted, as in 1.1); characters without a spelling are dropped with one warning."""
    pieces, dropped = [], []
    for char in text:
        spelling = char if ord(char) < 127 else _ascii_spelling(char)
        if spelling is None:
            if char not in dropped:
                dropped.append(char)
        else:
            pieces.append(spelling)
    if dropped:
        warnings.warn('dropping characters with no ASCII spelling: ' + ', '.join(map(repr, dropped)),
                      UnknownSymbolWarning, stacklevel=2)
    return ''.join(pieces)
