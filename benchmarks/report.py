"""A Markdown table from reports of benchmarks.speed: per case the figure of each report, the reference's figure
and the ratios, and the floor distance of the first report.

    python -m benchmarks.report fast.json [plain.json ...] [--names fast plain]

The first report is the one compared: its ratio to the reference and, for every further report, its ratio to that
report's figure for the same case (a like-for-like comparison when they were taken in one session).
"""
import json
import sys

from common.cli import ArgumentParser, command


def load(path):
    with open(path) as f:
        return json.load(f)


def table(reports, names):
    """Markdown lines comparing reports[0] with the reference and with every other report."""
    first = reports[0]['cases']
    header = (['case', 'unit', 'reference'] + [f'{name}' for name in names] + ['vs reference']
              + [f'vs {name}' for name in names[1:]] + ['floor (s)', 'x floor'])
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    for key, record in first.items():
        others = [report['cases'].get(key) for report in reports[1:]]
        reference = record.get('reference')
        cells = [f"{key.split('/')[0]} ({record['precision']})", record['unit'],
                 f'{reference:,.0f}' if reference else '-']
        cells += [f"{record['figure']:,.0f}"] + [f"{other['figure']:,.0f}" if other else '-' for other in others]
        cells += [f"{record['ratio']:.2f}x" if 'ratio' in record else '-']
        cells += [f"{record['figure'] / other['figure']:.2f}x" if other else '-' for other in others]
        cells += [f"{record['floor_seconds']:.2f}", f"{record['floor_distance']:.1f}x"]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return lines


@command('python -m benchmarks.report')
def main(argv=None):
    parser = ArgumentParser(prog='python -m benchmarks.report', description=__doc__.split('\n')[0])
    parser.add_argument('reports', nargs='+', help='JSON files written by python -m benchmarks.speed --json')
    parser.add_argument('--names', nargs='+', help='column names, one per report (default: the file names)')
    args = parser.parse_args(argv)
    names = args.names or args.reports
    if len(names) != len(args.reports):
        parser.error(f'--names: {len(names)} names for {len(args.reports)} reports')
    print('\n'.join(table([load(path) for path in args.reports], names)))


if __name__ == '__main__':
    sys.exit(main())
