"""Units and dimensions as FastPitch 1.1's english_cleaners_v2 spells them: "16GB" -> "16 gigabytes",
"3.2GHz" -> "3.2 gigahertz", "2x3m" -> "2 by 3 meter".

The unit list is 1.1's: byte and hertz multiples and millimetres (not cm or km). A quantity above one takes a
plural, except hertz. Only a lowercase "x" becomes "by"; "3X4" is left for the letter and digit splitter.
"""
import re

_UNITS = {
    'tb': 'terabyte', 'gb': 'gigabyte', 'mb': 'megabyte', 'kb': 'kilobyte',
    'ghz': 'gigahertz', 'mhz': 'megahertz', 'khz': 'kilohertz', 'hz': 'hertz', 'mm': 'millimeter',
}
# No boundary after the unit, as in 1.1: "5mbps" is "5 megabytesps".
_UNIT_RE = re.compile(r'([0-9]+(?:[.,][0-9]+)?)\s?(%s)' % '|'.join(_UNITS), re.IGNORECASE)

_SIZE = r'\d+(?:[,.]\d+)?'
_LENGTH_UNITS = {'m': 'meter', 'in': 'inch'}
# Two or three sizes joined by x, with an optional length unit right after the last one.
_DIMENSION_RE = re.compile(r'\b({0}\s*[xX]\s*{0}(?:\s*[xX]\s*{0})?(?:in|inch|m)?)\b'.format(_SIZE))


def _read_unit(m):
    quantity, unit = m.groups()
    name = _UNITS[unit.lower()]
    # The comma is dropped before comparing, as 1.1 does, so "1,5gb" counts as fifteen.
    plural = not name.endswith('z') and float(quantity.replace(',', '')) > 1
    return '%s %s%s' % (quantity, name, 's' if plural else '')


def _read_dimension(m):
    text = m.group(1).replace(' x ', ' by ').replace('x', ' by ')
    # "3m" and "3in" get their unit spelled out; "3inch" is left as written, as in 1.1.
    for unit, name in _LENGTH_UNITS.items():
        if text.endswith(unit) and text[-len(unit) - 1].isdigit():
            return '%s %s' % (text[:-len(unit)], name)
    return text


def expand_units(text):
    return _DIMENSION_RE.sub(_read_dimension, _UNIT_RE.sub(_read_unit, text))
