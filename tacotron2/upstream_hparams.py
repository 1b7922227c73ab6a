"""NVIDIA/tacotron2's `--hparams=name=value,...` overrides, read with the rules of the TensorFlow 1.x HParams
parser that repository uses: values typed by the default (int, float, str, bool, list), lists in brackets,
spaces around '=' and after commas, and an error for an unknown name, a bad value, a repeated name or a malformed
clause.
"""
import re

# name = scalar (up to the next comma, no '[') | [comma-separated list]; then the end or a comma
_CLAUSE = re.compile(r'\s*(?P<name>[a-zA-Z][\w.]*)\s*=\s*(?:\[(?P<list>[^\]]*)\]|(?P<scalar>[^,\[]*))\s*(?:$|,)')


class HParamsError(ValueError):
    """A --hparams string that does not parse; the message names the clause or the key."""


def parse_hparams(text, defaults):
    """{name: typed value} of the names the string sets; `defaults` gives the names and their types."""
    values, position = {}, 0
    while position < len(text.rstrip()):
        match = _CLAUSE.match(text, position)
        if match is None or match.end() == position:
            raise HParamsError(f'--hparams: malformed clause {text[position:].split(",")[0].strip()!r} '
                               '(expected name=value or name=[a,b])')
        name = match['name']
        if name not in defaults:
            raise HParamsError(f'--hparams: unknown hyperparameter {name!r}')
        if name in values:
            raise HParamsError(f'--hparams: {name} is set twice')
        values[name] = _typed(name, match['list'], match['scalar'], defaults[name])
        position = match.end()
    return values


def _typed(name, list_text, scalar_text, default):
    if isinstance(default, list):
        if list_text is None:
            raise HParamsError(f'--hparams: {name} takes a list in brackets, e.g. {name}=[a,b]')
        items = [item.strip() for item in list_text.split(',') if item.strip()]
        kind = type(default[0]) if default else str
        return [_scalar(name, item, kind) for item in items]
    if list_text is not None:
        raise HParamsError(f'--hparams: {name} takes one value, not a list')
    return _scalar(name, scalar_text.strip(), type(default))


def _scalar(name, text, kind):
    if kind is bool:
        if text in ('true', 'True'):
            return True
        if text in ('false', 'False'):
            return False
        try:
            return bool(int(text))
        except ValueError:
            raise HParamsError(f'--hparams: {name}={text!r} is not a boolean (true/false)') from None
    try:
        return kind(text)
    except ValueError:
        raise HParamsError(f'--hparams: {name}={text!r} is not {"an int" if kind is int else "a float"}') from None
