"""Our own English sentences for the embedded corpus, made from templates and word lists.

`sentence(seed, clip_number, attempt)` depends on nothing but its arguments, so clip N of a corpus always gets the
same text whatever else was built before it. The templates exercise what the text front end must normalise:
cardinals, thousands, decimals, money, percentages, years, ordinals, times of day, abbreviations (Dr., Mr., St., ...),
punctuation , ; : ? ! ( ) and single quotes (double quotes are not in the symbol table), short and long sentences.
"""
import random
import re

FIRST_NAMES = ['Anna', 'Ben', 'Clara', 'David', 'Edith', 'Frank', 'Grace', 'Henry', 'Iris', 'James', 'Katherine',
               'Leo', 'Martha', 'Nora', 'Oscar', 'Paul', 'Rose', 'Samuel', 'Thomas', 'Vera', 'Walter', 'Ruth']
SURNAMES = ['Adams', 'Baker', 'Carter', 'Dawson', 'Ellis', 'Fisher', 'Graham', 'Harper', 'Irving', 'Jenkins',
            'Keller', 'Lawson', 'Morgan', 'Norton', 'Parker', 'Quinn', 'Russell', 'Shaw', 'Turner', 'Webb']
TITLES = ['Dr.', 'Mr.', 'Mrs.', 'Capt.', 'Lt.', 'Gen.', 'Col.', 'Sgt.', 'Rev.', 'Maj.']
PLACES = ['Boston', 'Chicago', 'Denver', 'St. Louis', 'St. Paul', 'Ft. Worth', 'Portland', 'Savannah', 'Memphis',
          'Albany', 'Richmond', 'Omaha', 'Tucson', 'Baltimore', 'Cleveland', 'Dayton']
COMPANIES = ['Baker and Co.', 'Webb Brothers Ltd.', 'Norton and Co.', 'the Harbor Trust', 'Shaw Mills Ltd.']
NOUNS = ['lamp', 'letter', 'parcel', 'ladder', 'garden', 'bridge', 'carriage', 'clock', 'window', 'harbor',
         'kettle', 'ledger', 'map', 'engine', 'orchard', 'cabinet', 'violin', 'telegram', 'lantern', 'barrel']
PLURALS = ['apples', 'boxes', 'chairs', 'horses', 'pages', 'barrels', 'tickets', 'stones', 'candles', 'coins',
           'letters', 'sheep', 'bottles', 'windows', 'lanterns', 'rooms']
ADJECTIVES = ['old', 'quiet', 'heavy', 'narrow', 'bright', 'broken', 'crowded', 'famous', 'strange', 'careful',
              'simple', 'dusty', 'golden', 'empty', 'curious', 'well-known']
VERBS_PAST = ['repaired', 'painted', 'found', 'sold', 'carried', 'measured', 'opened', 'cleaned', 'described',
              'borrowed', 'inspected', 'delivered']
MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October',
          'November', 'December']
WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday']
WEIGHTS = ['kilograms', 'pounds', 'tons', 'ounces']
DISTANCES = ['miles', 'feet', 'meters', 'kilometers']


def _ordinal(number):
    suffix = 'th' if 10 <= number % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th')
    return f'{number}{suffix}'


def _money(rng):
    amount = rng.choice([rng.randint(1, 99), rng.randint(100, 9999)])
    if rng.random() < 0.2:
        return f'\u00a3{amount:,}'
    if rng.random() < 0.5:
        return f'${amount:,}.{rng.randint(1, 99):02d}'
    return f'${amount:,}'


def _time(rng):
    # Clock times like 7:30 are left out: the cleaner keeps their colon (as the reference does), and eSpeak
    # then says "seven colon thirty".
    hour = rng.randint(1, 12)
    return rng.choice([f"{hour} o'clock", f'half past {hour}', f'a quarter to {hour}',
                       f'{rng.randint(2, 29)} minutes past {hour}'])


# Each slot is filled independently at every occurrence.
SLOTS = {
    'first': lambda rng: rng.choice(FIRST_NAMES),
    'surname': lambda rng: rng.choice(SURNAMES),
    'title': lambda rng: rng.choice(TITLES),
    'place': lambda rng: rng.choice(PLACES),
    'company': lambda rng: rng.choice(COMPANIES),
    'noun': lambda rng: rng.choice(NOUNS),
    'plural': lambda rng: rng.choice(PLURALS),
    'adj': lambda rng: rng.choice(ADJECTIVES),
    'verbed': lambda rng: rng.choice(VERBS_PAST),
    'month': lambda rng: rng.choice(MONTHS),
    'weekday': lambda rng: rng.choice(WEEKDAYS),
    'weight': lambda rng: rng.choice(WEIGHTS),
    'distance': lambda rng: rng.choice(DISTANCES),
    'small': lambda rng: str(rng.randint(2, 60)),
    'count': lambda rng: str(rng.randint(100, 999)),
    'big': lambda rng: f'{rng.randint(1000, 250000):,}',
    'decimal': lambda rng: f'{rng.randint(0, 99)}.{rng.randint(1, 9)}',
    'percent': lambda rng: rng.choice([f'{rng.randint(2, 95)}%', f'{rng.randint(1, 20)}.5%']),
    'money': _money,
    'year': lambda rng: str(rng.randint(1820, 2024)),
    'ordinal': lambda rng: _ordinal(rng.randint(1, 31)),
    'time': _time,
}

# Clauses: no closing punctuation, lower case first letter unless a name.
CLAUSES = [
    '{title} {surname} arrived in {place} on {month} {ordinal}, {year}',
    'the train to {place} leaves at {time} from platform {small}',
    'a ticket costs {money}, and the return fare is {money}',
    'about {percent} of the {plural} were sold by {weekday}',
    '{first} read {small} pages of the {adj} book before supper',
    'the {noun} was built in {year} and {verbed} again in {year}',
    '{count} {plural} were counted along the river',
    'the committee met on the {ordinal} floor of the {adj} hall',
    '{title} {surname} paid {money} for a {adj} {noun}',
    'the town had grown to {big} people by {year}',
    '{first} finished {ordinal} out of {small} runners',
    'the meeting begins at {time} on {weekday}',
    '{first} and {first} walked all the way to {place}',
    'it rained for {small} days without a pause',
    'the {adj} {noun} (the one from {place}) was sold for {money}',
    '{first} {surname} Jr. wrote to {company} {small} times',
    'the report, dated {month} {ordinal}, {year}, was {adj} and long',
    'nobody expected the {noun} to weigh {decimal} {weight}',
    'the road climbs {decimal} {distance} in a single stretch',
    'our {noun} is {adj}',
    '{title} {surname} {verbed} the {noun} at {time}',
    'the {plural} cost {money} each in {year}',
    'she kept {big} {plural} in the cellar',
    'the firm of {company} hired {small} clerks',
    'prices rose by {percent} during the {ordinal} week',
    'the {noun}, the {noun} and the {noun} were {verbed} on {weekday}',
    'he left {place} at {time} and reached {place} by dark',
    '{first} noted that the {noun} was {adj}',
]
QUESTIONS = [
    'did {first} really pay {money} for that {noun}?',
    'when does the last train to {place} leave?',
    'is it true that {title} {surname} was born in {year}?',
    'how many {plural} did you count, {first}?',
    'why was the {noun} so {adj}?',
    'who {verbed} the {noun} on the {ordinal} of {month}?',
    'could we meet at {time} on {weekday}?',
]
EXCLAMATIONS = [
    'what a {adj} {noun}!',
    'watch out for the {noun}, {first}!',
    'the {plural} are gone!',
    'that {noun} costs {money}!',
    'we won by {small} points!',
]
CONNECTORS = [', and ', '; ', ': ', ', but ', ' because ', ', while ']
SPEAKING_VERBS = ['said', 'asked', 'replied', 'whispered', 'added']

_SLOT = re.compile(r'\{(\w+)\}')


def _fill(template, rng):
    return _SLOT.sub(lambda match: SLOTS[match.group(1)](rng), template)


def _capitalize(text):
    return text[:1].upper() + text[1:]


def _close(clause, mark):
    """End a clause with `mark`, without doubling the period of a closing abbreviation (Co., Ltd.)."""
    return clause if mark == '.' and clause.endswith('.') else clause + mark


def _statement(rng):
    clauses = [_fill(rng.choice(CLAUSES), rng)]
    if rng.random() < 0.35:
        clauses.append(_fill(rng.choice(CLAUSES), rng))
        return _close(rng.choice(CONNECTORS).join(clauses), '.')
    return _close(clauses[0], '.')


def _quoted(rng):
    speaker = _fill(rng.choice(['{title} {surname}', '{first}', '{first} {surname}']), rng)
    inner = _fill(rng.choice(QUESTIONS + EXCLAMATIONS + CLAUSES), rng)
    verb = rng.choice(SPEAKING_VERBS)
    if inner[-1] in '?!':
        return f"'{_capitalize(inner)}' {verb} {speaker}."
    return f"{speaker} {verb}: '{_close(_capitalize(inner), '.')}'"


def make_sentence(rng):
    """One sentence drawn with `rng` (a random.Random)."""
    draw = rng.random()
    if draw < 0.55:
        text = _statement(rng)
    elif draw < 0.7:
        text = _fill(rng.choice(QUESTIONS), rng)
    elif draw < 0.8:
        text = _fill(rng.choice(EXCLAMATIONS), rng)
    else:
        text = _quoted(rng)
    return _capitalize(text)


def sentence(seed, clip_number, attempt):
    """The sentence tried for clip `clip_number` at its `attempt`-th try (tries replace rejected sentences)."""
    return make_sentence(random.Random(f'{seed}:{clip_number}:{attempt}'))
