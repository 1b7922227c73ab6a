"""Tacotron 2 against the NVIDIA reference (DLE HEAD): golden outputs, checkpoint layout, default config.

Run with -s to see the largest absolute difference of every golden output.
"""
import argparse
import functools
import json

import pytest
import torch

from common.data_args import add_audio_args
from tacotron2.arg_parser import add_model_args, model_config
from tacotron2.loss_function import Tacotron2Loss
from tacotron2.model import Tacotron2
from tests.reference_layout import assert_state_dict_layout, check_golden_output

ATOL, RTOL = 1e-5, 1e-4  # GOLDEN.md, Tacotron2 mel/gate/alignments (fp32, CPU)
LOSS_RTOL = 1e-5
FORWARD_SEED, INFER_SEED = 1235, 1236  # GOLDEN.md: seeds set right before the calls (prenet dropout masks)
FORWARD_OUTPUTS = ['mel_out', 'mel_out_postnet', 'gate_out', 'alignments']
INFER_OUTPUTS = ['mel_out_postnet', 'mel_lengths', 'alignments']


def parse(argv):
    parser = argparse.ArgumentParser()
    add_audio_args(parser)
    add_model_args(parser)
    return parser.parse_args(argv)


check = functools.partial(check_golden_output, atol=ATOL, rtol=RTOL)


@pytest.fixture(scope='module')
def golden(load_reference):
    return load_reference('golden_tacotron2.pt')


@pytest.fixture(scope='module')
def golden_model(load_reference):
    ckpt = load_reference('golden_tacotron2_ckpt.pt')
    model = Tacotron2(**ckpt['config'])
    model.load_state_dict(ckpt['state_dict'])  # strict
    return model.eval()


@pytest.fixture(params=[True, False], ids=['prenet_dropout', 'noprenetdrop'])
def prenet_dropout(request, golden_model):
    """Runs a test with the reference's always-on prenet dropout and, for the *_noprenetdrop outputs, without it."""
    golden_model.decoder.prenet.p_dropout = 0.5 if request.param else 0.0
    yield '' if request.param else '_noprenetdrop'
    golden_model.decoder.prenet.p_dropout = 0.5


@pytest.fixture(scope='module')
def default_model():
    # on the meta device: names, shapes and dtypes without allocating 28 M weights
    with torch.device('meta'):
        return Tacotron2(**model_config(parse([])))


def test_state_dict_layout_matches_reference(reference_dir, default_model):
    assert_state_dict_layout(default_model, reference_dir / 'tacotron2_state_dict.tsv')


def test_default_flags_give_reference_config(reference_dir):
    reference = json.loads((reference_dir / 'tacotron2_config.json').read_text())['config']
    assert model_config(parse([])) == reference


def test_every_config_key_has_its_flag(golden):
    argv = []
    for key, value in golden['config'].items():
        flag = f'--{key.replace("_", "-")}'
        if isinstance(value, bool):
            argv += [flag] if value else []
        else:
            argv += [flag, str(value)]
    assert model_config(parse(argv)) == golden['config']


def test_golden_checkpoint_config_is_the_golden_config(load_reference, golden):
    assert load_reference('golden_tacotron2_ckpt.pt')['config'] == golden['config']


def test_encoder_outputs_match_golden(golden, golden_model):
    inputs = golden['inputs']
    with torch.no_grad():
        out = golden_model.encoder(golden_model.embedding(inputs['text']).transpose(1, 2), inputs['input_lengths'])
    check('encoder_outputs', 'encoder_outputs', out, golden['outputs']['encoder_outputs'])


def test_forward_and_loss_match_golden(golden, golden_model, prenet_dropout):
    inputs = golden['inputs']
    call = 'forward' + prenet_dropout
    expected = golden['outputs'][call]
    torch.manual_seed(FORWARD_SEED)
    with torch.no_grad():
        out = golden_model((inputs['text'], inputs['input_lengths'], inputs['mel'], inputs['max_len'],
                            inputs['output_lengths']))
        loss = Tacotron2Loss()(out, (inputs['mel'], inputs['gate']))
    for name, value in zip(FORWARD_OUTPUTS, out):
        check(call, name, value, expected[name])
    if 'loss' in expected:  # GOLDEN.md gives the loss of the seeded forward only
        check(call, 'loss', loss, expected['loss'], atol=0.0, rtol=LOSS_RTOL)


def test_infer_matches_golden(golden, golden_model, prenet_dropout):
    inputs = golden['inputs']
    call = 'infer' + prenet_dropout
    torch.manual_seed(INFER_SEED)
    with pytest.warns(UserWarning, match='max_decoder_steps=40'):  # the golden gate never fires
        out = golden_model.infer(inputs['text'], inputs['input_lengths'])
    for name, value in zip(INFER_OUTPUTS, out):
        check(call, name, value, golden['outputs'][call][name])
    assert golden_model.reached_max_decoder_steps.tolist() == [True, True]
