"""Quality cost of the reduced-precision paths: each model's output at bf16 and int8 against its fp32 output.

    python -m benchmarks.quality [--precisions int8 bf16] [--fastpitch CKPT] [--waveglow CKPT] [--json out.json]

Measures mel L1 (log-mel units) for Tacotron 2 and FastPitch and the SNR of the waveform for WaveGlow at sigma 0,
each against the same model in fp32 on the same input (the 128-symbol sentence of benchmarks/speed.py; for
WaveGlow, a mel of 200 frames). Two kinds of model:
* default sizes with random weights, as in benchmarks/speed.py. A fresh WaveGlow's coupling layers are the
  identity (WN.end starts at zero), which would hide any error, so its WN.end weights are drawn from
  N(0, 0.01^2) here instead;
* trained checkpoints, when given (`make demo` leaves them in output/demo/): these say what a listener gets.
  The demo sizes are small, so fewer of their layers reach INT8_MIN_WEIGHTS and are quantized.
Tacotron 2's prenet dropout stays on at inference, so both runs draw the same masks (same seed).
"""
import argparse
import json

import torch

import models
from benchmarks.speed import N_SYMBOLS, sentence_ids
from common import precision as precisions

WAVEGLOW_FRAMES = 200
TACOTRON2_STEPS = 200
SEED = 0


def _outputs(model, run, precision):
    """run(model) at `precision`, seeded, without gradients."""
    model = precisions.for_inference(model, precision)
    torch.manual_seed(SEED)
    with torch.no_grad(), precisions.autocast(precision):
        return run(model).float()


def _mel_l1(reference, output):
    return {'metric': 'mel L1', 'value': precisions.mel_l1(reference, output), 'scale': reference.abs().mean().item()}


def _snr(reference, output):
    return {'metric': 'SNR dB', 'value': precisions.snr_db(reference, output)}


def tacotron2_run(text, lengths):
    return lambda model: model.infer(text, lengths)[0]


def fastpitch_run(model, text, lengths, durations=None):
    """FastPitch synthesis with the same durations at every precision (the fp32 model's prediction unless given), so
    that the frames line up: a duration rounded the other way would shift every later frame."""
    if durations is None:
        with torch.no_grad():
            durations = model.eval().infer(text, lengths)[2]
    return lambda m: m.infer(text, lengths, dur_tgt=durations)[0]


def waveglow_run(mel):
    return lambda model: model.infer(mel, sigma=0.0)


def _default_models():
    """Default-size models with random weights (seed 0), WaveGlow's WN.end made non-zero (see the docstring)."""
    torch.manual_seed(SEED)
    config = models.default_model_config('Tacotron2')
    config.update(max_decoder_steps=TACOTRON2_STEPS, decoder_no_early_stopping=True)
    tacotron2 = models.get_model('Tacotron2', config, 'cpu')
    fastpitch = models.get_model('FastPitch', models.default_model_config('FastPitch'), 'cpu')
    waveglow = models.get_model('WaveGlow', models.default_model_config('WaveGlow'), 'cpu')
    with torch.no_grad():
        for wn in waveglow.WN:
            wn.end.weight.normal_(std=0.01)
    return tacotron2, fastpitch, waveglow.remove_weightnorm(waveglow)


def measure(precision_list, fastpitch_path=None, waveglow_path=None):
    """{case: {precision: cost}} for the default-size models and the given checkpoints; each case's fp32 output is
    computed once and compared with each precision's."""
    tacotron2, fastpitch, waveglow = _default_models()
    text, lengths = sentence_ids(torch.device('cpu'))
    mel = torch.randn(1, waveglow.n_mel_channels, WAVEGLOW_FRAMES, generator=torch.Generator().manual_seed(SEED))
    cases = {  # name: (model, run, cost)
        'tacotron2 (default size, random)': (tacotron2, tacotron2_run(text, lengths), _mel_l1),
        'fastpitch (default size, random)': (
            fastpitch, fastpitch_run(fastpitch, text, lengths, torch.full((1, N_SYMBOLS), 5)), _mel_l1),
        'waveglow 512 (default size, random)': (waveglow, waveglow_run(mel), _snr)}
    if fastpitch_path:
        trained_fastpitch = models.load_model_from_checkpoint('FastPitch', fastpitch_path, 'cpu')
        cases[f'fastpitch ({fastpitch_path})'] = (
            trained_fastpitch, fastpitch_run(trained_fastpitch, text, lengths), _mel_l1)
    if waveglow_path:
        trained_waveglow = models.load_model_from_checkpoint('WaveGlow', waveglow_path, 'cpu')
        source = (_outputs(trained_fastpitch, lambda m: m.infer(text, lengths)[0], 'fp32') if fastpitch_path
                  else torch.randn(1, trained_waveglow.n_mel_channels, WAVEGLOW_FRAMES))
        cases[f'waveglow ({waveglow_path})'] = (trained_waveglow, waveglow_run(source), _snr)
    results = {}
    for name, (model, run, cost) in cases.items():
        reference = _outputs(model, run, 'fp32')
        results[name] = {p: cost(reference, _outputs(model, run, p)) for p in precision_list}
        for p, r in results[name].items():
            scale = f" (mean |mel| {r['scale']:.3f})" if 'scale' in r else ''
            print(f"{name:<60} {p:<5} {r['metric']} {r['value']:.4g}{scale}", flush=True)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--precisions', nargs='+', default=['int8', 'bf16'], choices=('int8', 'bf16'))
    parser.add_argument('--fastpitch', help='a trained FastPitch checkpoint (e.g. from make demo)')
    parser.add_argument('--waveglow', help='a trained WaveGlow checkpoint (e.g. from make demo)')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--json', help='also write the results to this JSON file')
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    results = measure(args.precisions, args.fastpitch, args.waveglow)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=1)


if __name__ == '__main__':
    main()
