"""Numbers and money read as the FastPitch 1.1 cleaners read them.

1.1 rewrites in steps, each on the output of the one before: thousands commas are deleted, money is spelled, a
decimal point becomes " point ", then ordinals, Roman numerals (capitals only), "3x4" and every remaining run of
digits are read. Its readings differ from 1.0's (numbers.py), and checkpoints trained by 1.1 expect them: "and"
after hundreds, no hyphen in a cardinal ("ninety nine"), "1066" as a year ("ten sixty six"), "1990s" as
"nineteen nineties", "1,2" as twelve, "15,300" as "one hundred and fifty-three hundred", "10:05" as "ten:five".

Where 1.1 gets the quantity wrong we read it right instead: decimals digit by digit ("3.14" is "three point one
four", 1.1 says "three point fourteen"), "$3.5" is fifty cents and "$0.125" a fraction of a dollar (1.1: five
cents, one hundred and twenty five cents), pounds have pence (1.1: cents), and numbers past inflect's range are
read digit by digit (1.1 raises).
"""
import re

import inflect

from .numbers import CURRENCIES, beyond_names

_inflect = inflect.engine()

# symbol -> (unit, units, subunit, subunits); 1.1 adds the won (its plural "wons" is 1.1's).
CURRENCIES_V2 = {**CURRENCIES, '₩': ('won', 'wons', 'cent', 'cents')}
_MAGNITUDE_LETTERS = {'m': 'million', 'b': 'billion', 't': 'trillion'}
_MAGNITUDES = ('trillion', 'billion', 'million', 'thousand', 'hundred', *_MAGNITUDE_LETTERS)
# A magnitude counts only as a whole word ("$5 to" is not five trillion); "$2.5B" and "$1 Million" are.
CURRENCY_RE = re.compile(r'([%s])([0-9.,]*[0-9]+)(?:[ ]?(%s)(?=[^a-zA-Z]|$))?'
                         % (re.escape(''.join(CURRENCIES_V2)), '|'.join(_MAGNITUDES)), re.IGNORECASE)

_COMMA_NUMBER_RE = re.compile(r'[0-9][0-9,]+[0-9]')
_DECIMAL_RE = re.compile(r'([0-9]+)\.([0-9]+)')
_ORDINAL_RE = re.compile(r'[0-9]+(?:st|nd|rd|th)')
# Whole words of Roman capitals ending in II, III, IV or IX (or with V before the Is), so "I" and "V" stay words.
_ROMAN_RE = re.compile(r'\b(?=[MDCLXVI]+\b)M{0,4}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{2,3})\b')
_ROMAN_VALUES = {'I': 1, 'V': 5, 'X': 10, 'L': 50, 'C': 100, 'D': 500, 'M': 1000}
_TIMES_RE = re.compile(r'\b([0-9]+)x([0-9]+)')
_NUMBER_RE = re.compile(r"([0-9]+)('s|s)?")


def _words(number, **options):
    """inflect's reading of an int or a numeric string; past the decillions (where inflect stops), digit by digit."""
    text = str(number)
    if beyond_names(''.join(char for char in text.partition('.')[0] if char.isdigit())):
        return _digit_words(text)
    return _inflect.number_to_words(number, **options)


def _digit_words(text):
    return ' '.join('point' if char == '.' else _inflect.number_to_words(char)
                    for char in text if char.isdigit() or char == '.')


def _amount_words(amount):
    """'1,250'-free amounts: 1200 -> 'twelve hundred', 1250 -> 'one thousand, two hundred and fifty', '2.5'."""
    value = float(amount)
    if 1000 < value < 10000 and value % 100 == 0 and value % 1000 != 0:
        return _words(int(value) // 100) + ' hundred'
    return _words(amount)


def _count(n, singular, plural, read=_words):
    return '%s %s' % (read(n), singular if n == 1 else plural)


def _read_money(m):
    unit, units, subunit, subunits = CURRENCIES_V2[m.group(1)]
    amount, magnitude = m.group(2).replace(',', ''), m.group(3)
    if amount.count('.') > 1:  # not an amount ("$1.2.3"): the number rules read the digits
        return ' '.join(filter(None, (amount, magnitude, units)))
    if magnitude:  # "$2.5B": the unit follows the whole quantity
        return '%s %s %s' % (_amount_words(amount), _MAGNITUDE_LETTERS.get(magnitude.lower(), magnitude), units)
    whole, _, fraction = amount.partition('.')
    if len(fraction) > 2 or beyond_names(whole):
        return '%s %s' % (_words(amount), units)
    major = int(whole) if whole else 0
    minor = int(fraction.ljust(2, '0')) if fraction else 0
    parts = []
    if major:
        parts.append(_count(major, unit, units, read=_amount_words))
    if minor:
        parts.append(_count(minor, subunit, subunits))
    return ', '.join(parts) or 'zero ' + units


def expand_currency(text):
    """'$3.50' -> 'three dollars, fifty cents', '€2.5 billion' -> 'two point five billion euros'."""
    return CURRENCY_RE.sub(_read_money, text)


def _read_decimal(m):
    # The digits after the point are left one by one for the number rule to read.
    return '%s point %s' % (m.group(1), ' '.join(m.group(2)))


def _roman_value(numeral):
    values = [_ROMAN_VALUES[char] for char in numeral]
    # A numeral before a larger one is subtracted ("IV").
    return sum(-value if value < following else value for value, following in zip(values, values[1:] + [0]))


def _integer_words(n):
    if n > 1000 and n % 100 == 0 and n % 1000 != 0:
        return _words(n // 100) + ' hundred'
    if n == 2000:
        return 'two thousand'
    if 2000 < n < 2010:
        return 'two thousand ' + _words(n % 100)
    if 1000 < n < 3000:  # a year: "nineteen oh five", "ten sixty six"
        return _words(n, andword='', zero='oh', group=2).replace(', ', ' ').replace('-', ' ')
    return _words(n, andword='and').replace('-', ' ').replace(',', '')


def _read_number(m):
    digits, plural = m.group(1), m.group(2)
    words = _digit_words(digits) if beyond_names(digits) else _integer_words(int(digits))
    if not plural:
        return words
    return words[:-1] + 'ies' if words.endswith('y') else words + plural


_RULES = (
    (_COMMA_NUMBER_RE, lambda m: m.group(0).replace(',', '')),
    (CURRENCY_RE, _read_money),
    (_DECIMAL_RE, _read_decimal),
    (_ORDINAL_RE, lambda m: _words(m.group(0))),
    (_ROMAN_RE, lambda m: str(_roman_value(m.group(0)))),
    (_TIMES_RE, lambda m: '%s by %s' % m.groups()),
    (_NUMBER_RE, _read_number),
)


def expand_numbers_v2(text):
    for pattern, read in _RULES:
        text = pattern.sub(read, text)
    return text
