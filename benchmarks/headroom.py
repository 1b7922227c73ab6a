"""Headroom: how far any code doing the models' arithmetic could beat the reference on a given machine.

For every speed case with a reference figure for the processor, the reference's time is divided by the case's
floor time at the given ceilings (benchmarks/floors.py): no implementation of the same arithmetic can pass that
ratio there. Below 1, the reference was measured on a faster machine than the ceilings describe. Nothing is
timed, so it answers for machines other than this one, e.g. a speed target set on a processor measured earlier:

    python -m benchmarks.headroom --ceilings intel.json --processor "Intel(R) Xeon(R) Processor"
"""
import sys

import torch

from benchmarks.speed import CASES, case_names, cpu_name, load_ceilings, load_reference
from benchmarks import floors
from common.cli import ArgumentParser, command
from common.precision import Precision


def headroom(names, machine_ceilings, reference):
    """[(case, floor seconds, reference seconds, reference / floor)] for the named cases with a reference figure."""
    rows = []
    for name in names:
        spec, case = CASES[name]
        if name not in reference:
            continue
        workload = case.build(spec, torch.device('cpu'), Precision('cpu', 'fp32'), False)
        floor = floors.floor_seconds(case.floor(workload.config, 'fp32', **workload.sizes), machine_ceilings)
        reference_per_second = reference[name][case.reference_field]
        rows.append((name, floor, workload.items / reference_per_second,
                     floors.reference_over_floor(workload.items, reference_per_second, floor)))
        del workload  # the default-size models of the next case need the memory
    return rows


@command('python -m benchmarks.headroom')
def main(argv=None):
    parser = ArgumentParser(prog='python -m benchmarks.headroom', description=__doc__.split('\n')[0])
    parser.add_argument('--ceilings', required=True,
                        help='JSON of `python -m benchmarks.ceilings --json` (or a report of benchmarks.speed) '
                             'describing the machine')
    parser.add_argument('--processor', default=None,
                        help='whose reference figures to use (a key of by_processor; default: this machine\'s)')
    parser.add_argument('--cases', default=','.join(CASES), help='comma-separated subset of the speed cases')
    args = parser.parse_args(argv)
    names = case_names(parser, args.cases)
    reference = load_reference(args.processor or cpu_name())
    if reference is None:
        return 1
    machine_ceilings = load_ceilings(args.ceilings, 'cpu')
    print(f"{'case':<15} {'floor s':>8} {'reference s':>11} {'most any code can reach':>24}")
    for name, floor, reference_seconds, ratio in headroom(names, machine_ceilings, reference):
        print(f'{name:<15} {floor:>8.3f} {reference_seconds:>11.3f} {ratio:>23.2f}x')
    return 0


if __name__ == '__main__':
    sys.exit(main())
