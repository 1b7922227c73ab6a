"""Text front end: symbol table, cleaners, number and abbreviation reading, ids and back."""
import ast
import warnings

import pytest
import torch

from common.text import PAD_ID, UnknownSymbolWarning, sequence_to_text, symbols, text_to_sequence
from common.text.cleaners import basic_cleaners, clean_text, english_cleaners, transliteration_cleaners

ENGLISH = ['english_cleaners']

# Golden texts where we read differently from the reference on purpose. The first two are the mistakes listed
# in GOLDEN.md ("£1,250" read as the year "twelve fifty", "2.5%" keeping the sign, "$1 million" read as
# "one dollar million"). The third comes from the reference's own transliteration table (it turns "ö" into
# "oe" and drops the dash and the ellipsis); we transliterate with unidecode, which keeps "--" and "...".
CORRECTED_GOLDEN = {
    'Dr. Jones owes £1,250 and earned 2.5% more than Mrs. Brown.':
        'doctor jones owes one thousand, two hundred fifty pounds and earned two point five percent more than '
        'misess brown.',
    'It cost $1 million; the 21st and 102nd items were missing!':
        'it cost one million dollars; the twenty-first and one hundred and second items were missing!',
    'Café déjà vu — naïve coöperation, “quoted” text…':
        'cafe deja vu -- naive cooperation, "quoted" text...',
}


def ids_of(text):
    return [symbols.index(char) for char in text]


def sequence_quietly(text, cleaner_names=ENGLISH):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UnknownSymbolWarning)
        return text_to_sequence(text, cleaner_names)


# --- symbol table -------------------------------------------------------------------------------------------

def test_symbols_match_reference_file_index_for_index(reference_dir):
    lines = (reference_dir / 'symbols_english_basic.txt').read_text().splitlines()
    rows = [line.split('\t', 1) for line in lines if line and not line.startswith('#')]
    assert [int(index) for index, _ in rows] == list(range(len(rows)))
    assert symbols == [ast.literal_eval(symbol) for _, symbol in rows]
    assert len(symbols) == 148


def test_symbol_table_layout():
    assert len(symbols) == len(set(symbols)) == 148
    assert symbols[PAD_ID] == '_' and PAD_ID == 0
    assert symbols[1:12] == list("-!'(),.:;? ")
    assert symbols[12:64] == [chr(c) for c in range(ord('A'), ord('Z') + 1)] + \
        [chr(c) for c in range(ord('a'), ord('z') + 1)]
    assert len([s for s in symbols if s.startswith('@')]) == 84
    assert '~' not in symbols


# --- golden parity ------------------------------------------------------------------------------------------

def test_golden_front_end(load_reference):
    """Every golden text matches the reference exactly, except the readings corrected on purpose (see above)."""
    golden = load_reference('golden_text.pt')
    assert set(CORRECTED_GOLDEN) <= set(golden['texts'])
    for text, cleaned, expected_ids in zip(golden['texts'], golden['cleaned'], golden['sequences']):
        ids = sequence_quietly(text)
        if text in CORRECTED_GOLDEN:
            ours = CORRECTED_GOLDEN[text]
            assert english_cleaners(text) == ours
            assert ids != expected_ids.tolist()
            assert sequence_to_text(ids) == ours.replace('"', '')
        else:
            if cleaned is not None:
                assert english_cleaners(text) == cleaned, text
            assert ids == expected_ids.tolist(), text


@pytest.mark.parametrize('text, reading', [
    ('Jones owes £1,250.', 'jones owes one thousand, two hundred fifty pounds.'),
    ('Jones owes $1,250.', 'jones owes one thousand, two hundred fifty dollars.'),
    ('It rose 2.5% today.', 'it rose two point five percent today.'),
    ('It cost $1 million.', 'it cost one million dollars.'),
    ('Pi is 3.14159.', 'pi is three point one four one five nine.'),
])
def test_readings_the_reference_gets_wrong(text, reading):
    """These differ from the reference front end on purpose: money is never read as a year, the percent sign
    is spoken, the currency unit follows its scale word and decimals are read digit by digit."""
    assert english_cleaners(text) == reading
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert sequence_to_text(text_to_sequence(text, ENGLISH)) == reading


# --- sequences ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize('text', [
    'Hello, world!',
    "Mr. O'Neil paid $3.50 on the 3rd of May, 1999; didn't he?",
    '  Tabs\tand\nnewlines (collapse).  ',
])
def test_round_trip_gives_the_cleaned_text(text):
    ids = text_to_sequence(text, ENGLISH)
    assert all(isinstance(i, int) for i in ids)
    assert sequence_to_text(ids) == english_cleaners(text)
    assert sequence_to_text(torch.tensor(ids)) == english_cleaners(text)


def test_arpabet_in_braces():
    ids = text_to_sequence('{HH AH0 L OW1} world {W ER1 L D}.', ENGLISH)
    hello = [symbols.index('@' + p) for p in ('HH', 'AH0', 'L', 'OW1')]
    world = [symbols.index('@' + p) for p in ('W', 'ER1', 'L', 'D')]
    assert ids == hello + ids_of(' world ') + world + ids_of('.')
    assert sequence_to_text(ids) == '{HH AH0 L OW1} world {W ER1 L D}.'


def test_text_outside_braces_is_cleaned_and_inside_is_not():
    ids = text_to_sequence('Dr. {D AA1 K T ER0} 2', ENGLISH)
    assert sequence_to_text(ids) == 'doctor {D AA1 K T ER0} two'


def test_unknown_characters_are_dropped_with_one_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        ids = text_to_sequence('a#b & c~d_e {XX} #', ['basic_cleaners'])
    assert len(caught) == 1 and issubclass(caught[0].category, UnknownSymbolWarning)
    message = str(caught[0].message)
    assert message.startswith('dropping symbols not in the table:')
    for shown in ("'#'", "'&'", "'~'", "'_'", "'{XX}'"):
        assert shown in message
    assert message.count("'#'") == 1
    assert ids == ids_of('ab  cde  ')
    assert PAD_ID not in ids


def test_clean_text_warns_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        text_to_sequence('The 2nd test, at 4:05 pm, costs $5.', ENGLISH)


def test_unknown_cleaner_names_it_and_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"'no_such_cleaner'.*basic_cleaners.*english_cleaners"):
        text_to_sequence('hello', ['english_cleaners', 'no_such_cleaner'])


def test_out_of_range_id_is_an_error():
    with pytest.raises(ValueError, match='148'):
        sequence_to_text([12, 148])


# --- cleaners -----------------------------------------------------------------------------------------------

def test_basic_and_transliteration_cleaners():
    assert basic_cleaners('  Héllo \t WORLD 12 ') == ' héllo world 12 '
    assert transliteration_cleaners('  Héllo \t WORLD 12 ') == ' hello world 12 '
    assert clean_text('Dr.  Who', 'basic_cleaners') == 'dr. who'


@pytest.mark.parametrize('abbreviation, expansion', [
    ('mr', 'mister'), ('mrs', 'misess'), ('dr', 'doctor'), ('st', 'saint'), ('co', 'company'), ('jr', 'junior'),
    ('maj', 'major'), ('gen', 'general'), ('drs', 'doctors'), ('rev', 'reverend'), ('lt', 'lieutenant'),
    ('hon', 'honorable'), ('sgt', 'sergeant'), ('capt', 'captain'), ('esq', 'esquire'), ('ltd', 'limited'),
    ('col', 'colonel'), ('ft', 'fort'),
])
def test_each_abbreviation(abbreviation, expansion):
    assert english_cleaners('Ask %s. Smith' % abbreviation.title()) == 'ask %s smith' % expansion
    assert english_cleaners('ASK %s. SMITH' % abbreviation.upper()) == 'ask %s smith' % expansion
    # Without the period, or inside a longer word, it is an ordinary word.
    assert english_cleaners('Ask %s Smith' % abbreviation) == 'ask %s smith' % abbreviation
    assert english_cleaners('Ask x%s. Smith' % abbreviation) == 'ask x%s. smith' % abbreviation


@pytest.mark.parametrize('text, reading', [
    ('12 apples', 'twelve apples'),
    ('0 and 7', 'zero and seven'),
    ('1,000 and 2,000,000', 'one thousand and two million'),
    ('1,999 people', 'one thousand, nine hundred ninety-nine people'),
    ('the 1st, 22nd and 103rd', 'the first, twenty-second and one hundred and third'),
    ('in 1999', 'in nineteen ninety-nine'),
    ('in 2000', 'in two thousand'),
    ('in 2005', 'in two thousand five'),
    ('in 1905', 'in nineteen oh five'),
    ('in 1800', 'in eighteen hundred'),
    ('in 2015', 'in twenty fifteen'),
    ('1000 or 3000', 'one thousand or three thousand'),
    ('0.5 or 1.05', 'zero point five or one point zero five'),
    ('$3.50', 'three dollars, fifty cents'),
    ('$1', 'one dollar'),
    ('$0.01', 'one cent'),
    ('$2.5', 'two dollars, fifty cents'),
    ('$0', 'zero dollars'),
    ('$0.125', 'zero point one two five dollars'),
    ('£3.50', 'three pounds, fifty pence'),
    ('£1', 'one pound'),
    ('€2.5 billion', 'two point five billion euros'),
    ('50%', 'fifty percent'),
    ('at 7:30.', 'at seven:thirty.'),
    ('4:05 pm', 'four:oh five p m'),
    ('9:15 A.M. sharp', 'nine:fifteen a m. sharp'),
    ('10:00', "ten o'clock"),
    ('1' + '0' * 36, 'one' + ' zero' * 36),
])
def test_number_forms(text, reading):
    assert english_cleaners(text) == reading
