"""The "english_basic" symbol table shared by Tacotron 2 and FastPitch 1.0 checkpoints.

A model's embedding row i belongs to symbols[i], so the order is part of the checkpoint format:
pad, hyphen, punctuation, letters, then CMUdict's ARPAbet phonemes marked with '@' so that they never
collide with letters.
"""

PAD = '_'
PAD_ID = 0

_HYPHEN = '-'
_PUNCTUATION = "!'(),.:;? "
_LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

# CMUdict's phoneme inventory: vowels come bare and with lexical stress 0 (none), 1 (primary), 2 (secondary).
ARPABET_VOWELS = ['AA', 'AE', 'AH', 'AO', 'AW', 'AY', 'EH', 'ER', 'EY', 'IH', 'IY', 'OW', 'OY', 'UH', 'UW']
ARPABET_CONSONANTS = ['B', 'CH', 'D', 'DH', 'F', 'G', 'HH', 'JH', 'K', 'L', 'M', 'N', 'NG', 'P', 'R', 'S', 'SH',
                      'T', 'TH', 'V', 'W', 'Y', 'Z', 'ZH']
ARPABET = sorted(ARPABET_CONSONANTS + [v + stress for v in ARPABET_VOWELS for stress in ('', '0', '1', '2')])
ARPABET_MARK = '@'

symbols = [PAD, _HYPHEN] + list(_PUNCTUATION) + list(_LETTERS) + [ARPABET_MARK + p for p in ARPABET]
