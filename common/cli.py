"""Command-line pieces every entry point shares: a parser whose errors are one line, and checked number types."""
import argparse
import math


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message):
        """One line, not the usage block: the flag and what is wrong with it."""
        self.exit(2, f'{self.prog}: error: {message} (see --help)\n')


def _checked(kind, valid, requirement):
    def convert(text):
        value = kind(text)
        if not valid(value):
            raise argparse.ArgumentTypeError(f'{text} is not {requirement}')
        return value
    convert.__name__ = kind.__name__  # argparse names it in "invalid int value"
    return convert


positive_int = _checked(int, lambda v: v >= 1, 'a positive integer')
non_negative_int = _checked(int, lambda v: v >= 0, 'a non-negative integer')
positive_float = _checked(float, lambda v: v > 0 and math.isfinite(v), 'a positive number')
non_negative_float = _checked(float, lambda v: v >= 0 and math.isfinite(v), 'a non-negative number')
