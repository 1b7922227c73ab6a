"""Text cleaners: raw text in, the lowercase text that the symbol table can spell out.

Select them by name (--text-cleaners); they run in the order given.
"""
import re

from unidecode import unidecode

from .abbreviations import expand_abbreviations
from .numbers import CURRENCIES, expand_numbers

_WHITESPACE_RE = re.compile(r'\s+')
# unidecode turns '£' into 'PS'; the number reader needs to see the sign itself.
_NON_ASCII_CURRENCY_RE = re.compile('([%s])' % ''.join(c for c in CURRENCIES if not c.isascii()))


def collapse_whitespace(text):
    return _WHITESPACE_RE.sub(' ', text)


def _to_ascii_keeping_currency(text):
    return ''.join(part if _NON_ASCII_CURRENCY_RE.fullmatch(part) else unidecode(part)
                   for part in _NON_ASCII_CURRENCY_RE.split(text))


def basic_cleaners(text):
    """Lowercase and collapse whitespace; for languages other than English, without transliteration."""
    return collapse_whitespace(text.lower())


def transliteration_cleaners(text):
    """ASCII transliteration, lowercase, collapsed whitespace; for non-English text written in other scripts."""
    return collapse_whitespace(unidecode(text).lower())


def english_cleaners(text):
    """ASCII, lowercase, abbreviations and numbers spelled out, collapsed whitespace.

    A currency sign with no amount after it ("the £ sign") stays as it is; text_to_sequence drops it with a warning.
    """
    text = _to_ascii_keeping_currency(text).lower()
    text = expand_numbers(expand_abbreviations(text))
    return collapse_whitespace(text)


CLEANERS = {cleaner.__name__: cleaner for cleaner in (basic_cleaners, transliteration_cleaners, english_cleaners)}


def clean_text(text, cleaner_names):
    """Apply the named cleaners in order; an unknown name raises ValueError listing the known ones."""
    if isinstance(cleaner_names, str):
        cleaner_names = [cleaner_names]
    unknown = [name for name in cleaner_names if name not in CLEANERS]
    if unknown:
        raise ValueError('--text-cleaners: unknown cleaner %s; known cleaners: %s'
                         % (', '.join(map(repr, unknown)), ', '.join(CLEANERS)))
    for name in cleaner_names:
        text = CLEANERS[name](text)
    return text
