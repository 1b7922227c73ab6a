"""Export a trained model to ONNX or TorchScript, checked against PyTorch on the spot.

    python export.py -m NAME --checkpoint CKPT --format onnx|ts -o OUT

Every checkpoint format inference.py loads is accepted. ONNX: one file OUT with dynamic batch and length axes (a
Tacotron 2 is three graphs, as the reference exports it: OUT is then a folder of encoder.onnx, decoder_step.onnx
and postnet.onnx); the synthesis controls are graph inputs (FastPitch's pace and pitch shift, amplify, flatten and
invert, and speaker; WaveGlow's noise), and each file's metadata says how to run it (common/onnx_runtime.py runs
them without PyTorch; inference.py --backend onnxruntime). TorchScript: the whole model in one file OUT, for
libtorch. Each export is run on random inputs of two lengths next to the PyTorch model; the largest difference
per output is printed, and one beyond the model's tolerance is an error (nothing is left under OUT).

--int8 (ONNX): the checked export is then quantized by ONNX Runtime's dynamic quantization (int8 weights, per
channel), and its largest difference from the float32 graph on the same inputs is printed: the quality cost,
measured on real inputs by `python -m benchmarks.quality --precisions onnx-int8`.
"""
import sys

import models
from common.cli import ArgumentParser, command
from common.data_args import add_text_args
from common.export import ExportError, export_onnx, export_torchscript, onnx_paths, quantize_onnx_int8

FORMATS = {'onnx': export_onnx, 'ts': export_torchscript}


def build_parser():
    parser = ArgumentParser(prog='export.py', description=__doc__.split('\n')[0])
    parser.add_argument('-m', '--model-name', required=True,
                        choices=[name for name, spec in models.MODELS.items() if spec.export_plan is not None])
    parser.add_argument('--checkpoint', required=True, help='Checkpoint of the model (any format inference.py reads)')
    parser.add_argument('--format', required=True, choices=FORMATS, help='onnx, or ts (TorchScript)')
    parser.add_argument('-o', '--output', required=True,
                        help='Output file (a folder for a Tacotron 2 in ONNX: one file per graph)')
    parser.add_argument('--int8', action='store_true',
                        help='ONNX only: quantize the export to int8 (ONNX Runtime dynamic quantization)')
    parser.add_argument('--allow-pickle', action='store_true',
                        help='Read checkpoints that hold pickled objects (of the original NVIDIA repositories); '
                             'trusted files only')
    add_text_args(parser)
    parser.set_defaults(text_cleaners=None)  # the model's own: each model knows the cleaners it was trained with
    return parser


def describe(results):
    """One line per graph: its outputs' largest differences from PyTorch."""
    for graph, differences in results.items():
        label = f'{graph}: ' if graph else ''
        print(f'  {label}' + ', '.join(f'{name} {difference:.2e}' for name, difference in differences.items()))


def run(args):
    if args.int8 and args.format != 'onnx':
        raise ExportError('--int8 quantizes ONNX exports: use it with --format onnx')
    spec = models.model_spec(args.model_name)
    model = models.load_model_from_checkpoint(spec.name, args.checkpoint, allow_pickle=args.allow_pickle)
    plan = spec.export_plan(model, args)
    results = FORMATS[args.format](plan, args.output)
    written = [args.output] if args.format == 'ts' else list(onnx_paths(plan, args.output).values())
    print(f'{spec.name} -> {", ".join(map(str, written))}')
    print(f'largest difference from PyTorch on random inputs of two lengths (tolerance {plan.tolerance:g}):')
    describe(results)
    if args.int8:
        print('quantized to int8; largest difference from the float32 export on the same inputs:')
        describe(quantize_onnx_int8(plan, args.output))
    return 0


@command('export.py')
def main(argv=None):
    return run(build_parser().parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
