"""Expansion of English abbreviations written with a trailing period ("Dr." -> "doctor")."""
import re

ABBREVIATIONS = {
    'mrs': 'misess', 'mr': 'mister', 'dr': 'doctor', 'st': 'saint', 'co': 'company', 'jr': 'junior',
    'maj': 'major', 'gen': 'general', 'drs': 'doctors', 'rev': 'reverend', 'lt': 'lieutenant',
    'hon': 'honorable', 'sgt': 'sergeant', 'capt': 'captain', 'esq': 'esquire', 'ltd': 'limited',
    'col': 'colonel', 'ft': 'fort',
}

# Only whole words: "rd." in "3rd." or "Rd." is left alone, and the period is what marks an abbreviation.
_ABBREVIATION_RE = re.compile(r'\b(%s)\.' % '|'.join(ABBREVIATIONS), re.IGNORECASE)


def expand_abbreviations(text):
    return _ABBREVIATION_RE.sub(lambda m: ABBREVIATIONS[m.group(1).lower()], text)
