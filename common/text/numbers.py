"""Reading numbers, money, percentages and clock times as English words.

Each rule turns its match straight into words, so later rules never see its digits again: "$1,250" is
"one thousand, two hundred fifty dollars" and cannot be re-read as the year "twelve fifty".
"""
import re

import inflect

_inflect = inflect.engine()

# An integer with or without thousands separators ("1,250", not "1,2"), then an optional fraction.
_INTEGER = r'[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+'
_AMOUNT = r'(?:%s)(?:\.[0-9]+)?' % _INTEGER

# symbol -> (unit, units, subunit, subunits)
CURRENCIES = {
    '$': ('dollar', 'dollars', 'cent', 'cents'),
    '£': ('pound', 'pounds', 'penny', 'pence'),
    '€': ('euro', 'euros', 'cent', 'cents'),
}
_SCALES = ('thousand', 'million', 'billion', 'trillion')
_DIGITS = ('zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine')
# inflect names numbers below 10 ** 36 (up to the decillions); longer ones are read digit by digit, without int(),
# which refuses strings of over 4,300 digits
NAMED_DIGITS = 36

_TIME_RE = re.compile(r'\b([0-9]{1,2}):([0-5][0-9])\b(?:\s*([ap])\.?m\b)?', re.IGNORECASE)
_MONEY_RE = re.compile(r'([%s])\s?(%s)(?:\s+(%s)\b)?'
                       % (re.escape(''.join(CURRENCIES)), _AMOUNT, '|'.join(_SCALES)))
_PERCENT_RE = re.compile(r'(%s)\s?%%' % _AMOUNT)
_ORDINAL_RE = re.compile(r'(%s)(?:st|nd|rd|th)\b' % _INTEGER)
_NUMBER_RE = re.compile(_AMOUNT)


def _digits(text):
    return ' '.join(_DIGITS[int(d)] for d in text)


def beyond_names(digits):
    """Whether an integer written in digits (no separators) is too long to be named: it is read digit by digit."""
    return len(digits.lstrip('0')) > NAMED_DIGITS


def _cardinal(n):
    return _inflect.number_to_words(n, andword='')


def _integer_text(text):
    """Words of an integer in digits, thousands separators allowed: named, or digit by digit when too long."""
    digits = text.replace(',', '')
    return _digits(digits) if beyond_names(digits) else _cardinal(int(digits))


def _amount(text):
    """'1,250' -> 'one thousand, two hundred fifty'; '3.14' -> 'three point one four' (decimals digit by digit)."""
    whole, _, fraction = text.partition('.')
    words = _integer_text(whole)
    return words + ' point ' + _digits(fraction) if fraction else words


def _count(n, singular, plural):
    return '%s %s' % (_cardinal(n), singular if n == 1 else plural)


def _year_or_cardinal(n):
    """A bare integer strictly between 1000 and 3000 reads as a year, as in the reference front end."""
    if not 1000 < n < 3000:
        return _cardinal(n)
    if n == 2000:
        return 'two thousand'
    if 2000 < n < 2010:
        return 'two thousand ' + _cardinal(n - 2000)
    century, rest = divmod(n, 100)
    if rest == 0:
        return _cardinal(century) + ' hundred'
    return '%s %s%s' % (_cardinal(century), 'oh ' if rest < 10 else '', _cardinal(rest))


def _read_time(m):
    """'7:30' -> 'seven:thirty' (the reference keeps the colon), '4:05 pm' -> 'four:oh five p m'."""
    hour, minute, half = int(m.group(1)), int(m.group(2)), m.group(3)
    words = _cardinal(hour)
    if minute:
        words += ':%s%s' % ('oh ' if minute < 10 else '', _cardinal(minute))
    elif not half:
        words += " o'clock"
    return words + (' %s m' % half.lower() if half else '')


def _read_money(m):
    unit, units, subunit, subunits = CURRENCIES[m.group(1)]
    amount, scale = m.group(2), m.group(3)
    if scale:  # "$1.5 million": the unit follows the whole quantity
        return '%s %s %s' % (_amount(amount), scale, units)
    whole, _, fraction = amount.partition('.')
    if len(fraction) > 2 or beyond_names(whole.replace(',', '')):  # "$0.125" is not units and subunits
        return '%s %s' % (_amount(amount), units)
    major = int(whole.replace(',', ''))
    minor = int(fraction.ljust(2, '0')) if fraction else 0  # "$3.5" is fifty cents
    parts = []
    if major or not minor:
        parts.append(_count(major, unit, units))
    if minor:
        parts.append(_count(minor, subunit, subunits))
    return ', '.join(parts)


def _read_percent(m):
    return _amount(m.group(1)) + ' percent'


def _read_ordinal(m):
    digits = m.group(1).replace(',', '')
    if beyond_names(digits):  # "one two ... nine third"
        return ' '.join(filter(None, (_digits(digits[:-1]), _inflect.ordinal(_DIGITS[int(digits[-1])]))))
    return _inflect.number_to_words(_inflect.ordinal(int(digits)))


def _read_number(m):
    text = m.group(0)
    # Thousands separators or a fraction rule out a year: nobody writes 1999 as "1,999".
    if ',' in text or '.' in text or beyond_names(text):
        return _amount(text)
    return _year_or_cardinal(int(text))


# Order matters: each rule consumes digits that the later, more general rules would misread.
_RULES = (
    (_TIME_RE, _read_time),
    (_MONEY_RE, _read_money),
    (_PERCENT_RE, _read_percent),
    (_ORDINAL_RE, _read_ordinal),
    (_NUMBER_RE, _read_number),
)


def expand_numbers(text):
    for pattern, read in _RULES:
        text = pattern.sub(read, text)
    return text
