"""Clock times with am/pm as FastPitch 1.1's english_cleaners_v2 reads them: "10:05am" -> "10 05 a.m.".

Only a time written with am/pm is rewritten (the number rules then read the digits: "ten five a.m."); "7:30"
alone keeps its colon. The pattern has no word boundary in front, as in 1.1, so "100pm" reads "1 p.m.".
"""
import re

_AM_PM_RE = re.compile(r'([0-9]|0[0-9]|1[0-9]|2[0-3]):?([0-5][0-9])?\s*([AaPp][Mm]\b)')


def _read_time(m):
    hour, minutes, half = m.groups()
    words = hour if minutes is None or int(minutes) == 0 else '%s %s' % (hour, minutes)
    return words + (' a.m.' if half[0] in 'Aa' else ' p.m.')


def expand_am_pm(text):
    return _AM_PM_RE.sub(_read_time, text)
