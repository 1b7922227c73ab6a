"""FastPitch 1.0 against the NVIDIA reference (DLE 6d72839a): golden outputs, checkpoint layout, default config.

Run with -s to see the largest absolute difference of every golden output.
"""
import argparse
import functools
import json

import pytest
import torch

from common.data_args import add_audio_args
from fastpitch.arg_parser import add_model_args, model_config
from fastpitch.loss_function import FastPitchLoss
from fastpitch.model import FastPitch
from tests.reference_layout import assert_state_dict_layout, check_golden_output

ATOL, RTOL = 1e-5, 1e-4  # GOLDEN.md, FastPitch 1.0 (fp32, CPU)


def parse(argv):
    parser = argparse.ArgumentParser()
    add_audio_args(parser)
    add_model_args(parser)
    return parser.parse_args(argv)


check = functools.partial(check_golden_output, atol=ATOL, rtol=RTOL)


@pytest.fixture(scope='module')
def golden(load_reference):
    return load_reference('golden_fastpitch10.pt')


@pytest.fixture(scope='module')
def golden_model(load_reference):
    ckpt = load_reference('golden_fastpitch10_ckpt.pt')
    model = FastPitch(**ckpt['config'])
    model.load_state_dict(ckpt['state_dict'])  # strict
    return model.eval()


@pytest.fixture(scope='module')
def default_model():
    # on the meta device: names, shapes and dtypes without allocating or initialising 45 M weights
    with torch.device('meta'):
        return FastPitch(**model_config(parse([])))


def test_state_dict_layout_matches_reference(reference_dir, default_model):
    assert_state_dict_layout(default_model, reference_dir / 'fastpitch10_state_dict.tsv')


def test_default_flags_give_reference_config(reference_dir):
    reference = json.loads((reference_dir / 'fastpitch10_config.json').read_text())['config']
    assert model_config(parse([])) == reference


def test_every_config_key_has_its_flag(golden):
    argv = []
    for key, value in golden['config'].items():
        argv += [f'--{key.replace("_", "-")}', str(value)]
    assert model_config(parse(argv)) == golden['config']


def test_golden_checkpoint_config_is_the_golden_config(load_reference, golden):
    assert load_reference('golden_fastpitch10_ckpt.pt')['config'] == golden['config']


def test_forward_and_loss_match_golden(golden, golden_model):
    inputs, expected = golden['inputs'], golden['outputs']['forward']
    with torch.no_grad():
        out = golden_model([inputs['text'], inputs['input_lengths'], inputs['mel'], inputs['output_lengths'],
                            inputs['dur'], inputs['dur_lens'], inputs['pitch']],
                           use_gt_durations=True, use_gt_pitch=True)
        loss, meta = FastPitchLoss()(out, [inputs['mel'], inputs['dur'], inputs['dur_lens'], inputs['pitch']])
    for name, value in zip(['mel_out', 'dec_mask', 'dur_pred', 'log_dur_pred', 'pitch_pred'], out):
        check('forward', name, value, expected[name])
    check('forward', 'loss', loss, expected['loss'])
    assert meta.keys() == expected['loss_meta'].keys()
    for name, value in meta.items():
        check('forward', f'meta.{name}', value, expected['loss_meta'][name])


@pytest.mark.parametrize('call', ['infer', 'infer_pace1.5', 'infer_gt'])
def test_infer_matches_golden(golden, golden_model, call):
    inputs = golden['inputs']
    kwargs = {'infer': {}, 'infer_pace1.5': {'pace': 1.5},
              'infer_gt': {'dur_tgt': inputs['dur'], 'pitch_tgt': inputs['pitch']}}[call]
    with torch.no_grad():
        out = golden_model.infer(inputs['text'], inputs['input_lengths'], **kwargs)
    for name, value in zip(['mel_out', 'dec_lens', 'dur_pred', 'pitch_pred'], out):
        check(call, name, value, golden['outputs'][call][name])
