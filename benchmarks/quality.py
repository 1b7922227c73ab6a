"""Quality cost of the reduced-precision paths: each model's output at bf16 and int8 against its fp32 output.

    python -m benchmarks.quality [--precisions int8 bf16] [--<model> CKPT ...] [--json out.json]

The runs are the QualityCases of the model specs (common/benchmarking.py; each model package's benchmark.py), each
against the same model in fp32 on the same input: a generator's mel by mel L1 (log-mel units) on the 128-symbol
sentence of the speed cases, a vocoder's waveform by its SNR on a mel of VOCODER_FRAMES random frames. Two kinds
of model:
* default sizes with random weights, as in benchmarks/speed.py (a package may adjust them so that errors show);
* trained checkpoints, one flag per model named as inference.py names it (`make demo` leaves some in
  output/demo/): these say what a listener gets. A trained vocoder vocodes the fp32 mel of the first trained
  generator given instead of random frames. The demo sizes are small, so fewer of their layers reach
  INT8_MIN_WEIGHTS and are quantized.
Every run starts from the same seed, so that a model that draws random numbers at inference draws the same ones.
--precisions onnx onnx-int8 measure the model exported (export.py) and run by ONNX Runtime, float32 and int8
(export.py --int8), against the same PyTorch fp32 output, for the cases that have an ONNX form (QualityCase.onnx).
"""
import json
import sys
from dataclasses import dataclass

import torch

import models
from common.cli import ArgumentParser, command
from common.benchmarking import SEED, QualityCase, cases_of_kind, inference_call, onnx_call, sentence_ids
from common.model_spec import GENERATOR
from common.precision import Precision
from common.quality import mel_l1, snr_db

VOCODER_FRAMES = 200
ONNX_PRECISIONS = {'onnx': False, 'onnx-int8': True}  # through ONNX Runtime: name -> int8-quantized
CHOICES = ('int8', 'bf16', *ONNX_PRECISIONS)
DEFAULT_CHOICES = ('int8', 'bf16')


def quality_cases():
    """(spec, case) of every spec, generators first: a trained vocoder needs a trained generator's output."""
    return sorted(cases_of_kind(models.MODELS.values(), QualityCase), key=lambda pair: pair[0].role != GENERATOR)


def _output(run, precision_name):
    """The run's output at the precision, from the same seed every time."""
    if precision_name in ONNX_PRECISIONS:
        call = onnx_call(run.spec, run.onnx, ONNX_PRECISIONS[precision_name], torch.get_num_threads())
        return torch.from_numpy(call()).float()
    call = inference_call(run.model, Precision('cpu', precision_name), run.call)
    call()  # a prepared model may calibrate on its first call (a static int8 one does)
    torch.manual_seed(SEED)
    return call().float()


def _cost(role, reference, output):
    """mel L1 or SNR against the fp32 output; a mel of another length (an int8 graph that predicts its own
    durations may round one the other way) is compared over the frames both have, and its length reported."""
    if role == GENERATOR:
        frames = min(reference.size(-1), output.size(-1))
        cost = {'metric': 'mel L1', 'value': mel_l1(reference[..., :frames], output[..., :frames]),
                'scale': reference.abs().mean().item()}
        if output.size(-1) != reference.size(-1):
            cost['frames'] = (reference.size(-1), output.size(-1))
        return cost
    return {'metric': 'SNR dB', 'value': snr_db(reference, output)}


@dataclass(frozen=True)
class QualityRun:
    """One model on one input: the PyTorch call, and the same through ONNX Runtime (None: it has none)."""
    spec: object
    model: torch.nn.Module
    call: object
    onnx: object


def _random_mel(n_mel_channels):
    return torch.randn(1, n_mel_channels, VOCODER_FRAMES, generator=torch.Generator().manual_seed(SEED))


def compare(name, run, precision_list):
    """(fp32 output, {precision: cost}) of one run; prints a line per precision (the ONNX ones where the run has
    an ONNX form)."""
    reference = _output(run, 'fp32')
    usable = [p for p in precision_list if p not in ONNX_PRECISIONS or run.onnx is not None]
    costs = {p: _cost(run.spec.role, reference, _output(run, p)) for p in usable}
    for p, r in costs.items():
        scale = f" (mean |mel| {r['scale']:.3f})" if 'scale' in r else ''
        frames = f" over {min(r['frames'])} frames ({r['frames'][1]} against {r['frames'][0]})" if 'frames' in r else ''
        print(f"{name:<60} {p:<9} {r['metric']} {r['value']:.4g}{scale}{frames}", flush=True)
    return reference, costs


def quality_run(spec, case, model, call_of, inputs):
    """The QualityRun of a case's call (call_of: its default_call or trained_call) on these inputs."""
    onnx = case.onnx(model, *inputs) if case.onnx is not None else None
    return QualityRun(spec, model, call_of(model, *inputs), onnx)


def measure(precision_list, checkpoints):
    """{run: {precision: cost}} for the default-size models and the trained checkpoints ({model name: path})."""
    text = sentence_ids(torch.device('cpu'))
    results = {}
    for spec, case in quality_cases():
        model = case.default_model(spec)
        inputs = text if spec.role == GENERATOR else (_random_mel(model.n_mel_channels),)
        label = f'{case.name} (default size, random)'
        _, results[label] = compare(label, quality_run(spec, case, model, case.default_call, inputs), precision_list)
    trained_mel = None
    for spec, case in quality_cases():
        path = checkpoints.get(spec.name)
        if not path:
            continue
        model = models.load_model_from_checkpoint(spec.name, path, 'cpu')
        if spec.role == GENERATOR:
            inputs = text
        else:
            inputs = (trained_mel if trained_mel is not None else _random_mel(model.n_mel_channels),)
        label = f'{spec.cli_name} ({path})'
        output, results[label] = compare(label, quality_run(spec, case, model, case.trained_call, inputs),
                                         precision_list)
        if spec.role == GENERATOR and trained_mel is None:
            trained_mel = output
    return results


@command('python -m benchmarks.quality')
def main(argv=None):
    parser = ArgumentParser(prog='python -m benchmarks.quality', description=__doc__.split('\n')[0])
    parser.add_argument('--precisions', nargs='+', default=list(DEFAULT_CHOICES), choices=CHOICES,
                        help='onnx, onnx-int8: the model exported and run by ONNX Runtime, float32 or int8')
    for spec, _ in quality_cases():
        parser.add_argument(spec.inference_flag, dest=spec.name, metavar='CKPT',
                            help=f'a trained {spec.name} checkpoint to compare as well')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--json', help='also write the results to this JSON file')
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    checkpoints = {spec.name: getattr(args, spec.name) for spec, _ in quality_cases()}
    results = measure(args.precisions, checkpoints)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=1)


if __name__ == '__main__':
    sys.exit(main())
