"""Tacotron 2 behaviour on a tiny model: stopping, masks, batching, training mode, flags."""
import argparse
import warnings

import pytest
import torch

from common.data_args import add_audio_args
from tacotron2.arg_parser import add_model_args, model_config
from tacotron2.loss_function import Tacotron2Loss
from tacotron2.model import Tacotron2
from tests.tiny_configs import tiny_config, tiny_model

LENGTHS = [15, 9]
OUTPUT_LENGTHS = [11, 6]
ATOL = 1e-5


def deterministic(model):
    """Eval mode with the (always-on) prenet dropout switched off, so repeated calls give the same numbers."""
    model.eval()
    model.decoder.prenet.p_dropout = 0.0
    return model


@pytest.fixture
def batch():
    generator = torch.Generator().manual_seed(7)
    lengths = torch.tensor(LENGTHS)
    text = torch.randint(1, 148, (len(LENGTHS), max(LENGTHS)), generator=generator)
    text[torch.arange(max(LENGTHS)) >= lengths.unsqueeze(1)] = 0
    output_lengths = torch.tensor(OUTPUT_LENGTHS)
    mel = torch.randn(len(LENGTHS), 80, max(OUTPUT_LENGTHS), generator=generator)
    mel[(torch.arange(max(OUTPUT_LENGTHS)) >= output_lengths.unsqueeze(1)).unsqueeze(1).expand_as(mel)] = 0
    return text, lengths, mel, output_lengths


def forward(model, text, lengths, mel, output_lengths):
    return model((text, lengths, mel, lengths.max().item(), output_lengths))


def set_gate_bias(model, value):
    with torch.no_grad():
        model.decoder.gate_layer.linear_layer.bias.fill_(value)


def test_gate_firing_at_once_stops_after_one_step(batch):
    model = deterministic(tiny_model('Tacotron2'))
    set_gate_bias(model, 30.0)
    text, lengths, _, _ = batch
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        mel, mel_lengths, alignments = model.infer(text, lengths)
    assert mel.shape == (2, 80, 1) and alignments.shape == (2, 1, max(LENGTHS))
    assert mel_lengths.dtype == torch.int32 and mel_lengths.tolist() == [0, 0]
    assert model.reached_max_decoder_steps.tolist() == [False, False]


def test_gate_that_never_fires_runs_max_decoder_steps_and_warns(batch):
    model = deterministic(tiny_model('Tacotron2', ['--max-decoder-steps', '7']))
    set_gate_bias(model, -30.0)
    text, lengths, _, _ = batch
    with pytest.warns(UserWarning, match='2 of 2 inputs reached max_decoder_steps=7'):
        mel, mel_lengths, alignments = model.infer(text, lengths)
    assert mel.shape == (2, 80, 7) and alignments.shape == (2, 7, max(LENGTHS))
    assert mel_lengths.tolist() == [7, 7]
    assert model.reached_max_decoder_steps.tolist() == [True, True]


def test_no_early_stopping_runs_max_decoder_steps_without_warning_when_all_stopped(batch):
    model = deterministic(tiny_model('Tacotron2', ['--max-decoder-steps', '7', '--decoder-no-early-stopping']))
    set_gate_bias(model, 30.0)
    text, lengths, _, _ = batch
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        mel, mel_lengths, _ = model.infer(text, lengths)
    assert mel.shape == (2, 80, 7)
    assert mel_lengths.tolist() == [0, 0]


def first_crossings(gate_probabilities, threshold):
    """Per item, the index of the first step whose stop probability exceeds the threshold (or the step count)."""
    above = gate_probabilities > threshold
    steps = gate_probabilities.size(1)
    return [row.nonzero()[0].item() if row.any() else steps for row in above]


def test_mel_lengths_count_steps_before_each_items_gate_first_fires(batch):
    steps = 30
    model = deterministic(tiny_model('Tacotron2', ['--max-decoder-steps', str(steps), '--decoder-no-early-stopping']))
    text, lengths, _, _ = batch
    with torch.no_grad():
        memory = model.encode(text, lengths)
        full_mel, gate, _, _, _ = model.decoder.infer(memory, lengths)
    probabilities = torch.sigmoid(gate)
    # a threshold at which the two items stop at different steps, both before the end
    candidates = probabilities.flatten().sort(descending=True).values.tolist()
    threshold, expected_lengths = next((t, crossings) for t in candidates
                                       for crossings in [first_crossings(probabilities, t)]
                                       if len(set(crossings)) == 2 and max(crossings) < steps)

    model.decoder.gate_threshold = threshold
    model.decoder.early_stopping = True
    with torch.no_grad():
        mel, _, _, mel_lengths, unfinished = model.decoder.infer(memory, lengths)
    assert mel_lengths.tolist() == expected_lengths
    assert mel.size(2) == max(expected_lengths) + 1  # the step on which the last item's gate fired is kept
    assert torch.equal(mel, full_mel[:, :, :mel.size(2)])
    assert unfinished.tolist() == [False, False]


def test_mask_padding_fills_padded_frames(batch):
    model = deterministic(tiny_model('Tacotron2', ['--mask-padding']))
    assert model.mask_padding
    text, lengths, mel, output_lengths = batch
    with torch.no_grad():
        masked = forward(model, text, lengths, mel, output_lengths)
        model.mask_padding = False
        plain = forward(model, text, lengths, mel, output_lengths)
    short, full = OUTPUT_LENGTHS[1], max(OUTPUT_LENGTHS)
    for name, fill, masked_out, plain_out in zip(['mel_out', 'mel_out_postnet'], [0.0, 0.0], masked, plain):
        assert torch.equal(masked_out[0], plain_out[0]), name
        assert torch.equal(masked_out[1, :, :short], plain_out[1, :, :short]), name
        assert (masked_out[1, :, short:] == fill).all(), name
    gate_masked, gate_plain = masked[2], plain[2]
    assert torch.equal(gate_masked[0], gate_plain[0])
    assert torch.equal(gate_masked[1, :short], gate_plain[1, :short])
    assert (gate_masked[1, short:full] == 1e3).all()
    assert torch.equal(masked[3], plain[3])  # alignments are never masked


def test_encoder_outputs_are_zero_past_each_length_and_unsorted_batches_work(batch):
    model = deterministic(tiny_model('Tacotron2'))
    text, lengths, _, _ = batch
    with torch.no_grad():
        memory = model.encode(text, lengths)
        reversed_memory = model.encode(text.flip(0), lengths.flip(0))  # shortest first
    assert memory.shape == (2, max(LENGTHS), 32)
    assert (memory[1, LENGTHS[1]:] == 0).all() and (memory[1, :LENGTHS[1]] != 0).any()
    torch.testing.assert_close(reversed_memory, memory.flip(0), atol=ATOL, rtol=0)


@pytest.mark.filterwarnings('ignore:Tacotron2.*reached max_decoder_steps')
def test_batched_infer_equals_each_item_alone(batch):
    """No item sees another: each one run alone (with its own padded text row, as the convolutions see padding
    symbols, see the report) gives the same frames, lengths and alignments."""
    model = deterministic(tiny_model('Tacotron2', ['--max-decoder-steps', '12', '--decoder-no-early-stopping']))
    text, lengths, _, _ = batch
    mel, mel_lengths, alignments = model.infer(text, lengths)
    for b, length in enumerate(LENGTHS):
        mel_alone, mel_lengths_alone, alignments_alone = model.infer(text[b:b + 1], lengths[b:b + 1])
        torch.testing.assert_close(mel[b:b + 1], mel_alone, atol=ATOL, rtol=0)
        assert mel_lengths[b] == mel_lengths_alone[0]
        torch.testing.assert_close(alignments[b:b + 1, :, :length], alignments_alone, atol=ATOL, rtol=0)
        assert (alignments[b, :, length:] == 0).all()  # no attention on padding


def test_decoder_infer_of_a_batch_equals_each_item_alone(batch):
    """Given the encoder outputs, batching changes nothing, also with the padding cut off."""
    model = deterministic(tiny_model('Tacotron2', ['--max-decoder-steps', '12', '--decoder-no-early-stopping']))
    text, lengths, _, _ = batch
    with torch.no_grad():
        memory = model.encode(text, lengths)
        mel, gate, alignments, _, _ = model.decoder.infer(memory, lengths)
        for b, length in enumerate(LENGTHS):
            mel_alone, gate_alone, alignments_alone, _, _ = model.decoder.infer(memory[b:b + 1, :length],
                                                                                 lengths[b:b + 1])
            torch.testing.assert_close(mel[b:b + 1], mel_alone, atol=ATOL, rtol=0)
            torch.testing.assert_close(gate[b:b + 1], gate_alone, atol=ATOL, rtol=0)
            torch.testing.assert_close(alignments[b:b + 1, :, :length], alignments_alone, atol=ATOL, rtol=0)


def test_teacher_forced_frames_depend_only_on_their_own_item_and_earlier_frames(batch):
    model = deterministic(tiny_model('Tacotron2'))
    text, lengths, mel, output_lengths = batch
    with torch.no_grad():
        mel_out, _, gate_out, alignments = forward(model, text, lengths, mel, output_lengths)
        for b, (length, frames) in enumerate(zip(LENGTHS, OUTPUT_LENGTHS)):
            mel_alone, _, gate_alone, alignments_alone = forward(
                model, text[b:b + 1], lengths[b:b + 1], mel[b:b + 1, :, :frames], output_lengths[b:b + 1])
            torch.testing.assert_close(mel_out[b:b + 1, :, :frames], mel_alone, atol=ATOL, rtol=0)
            torch.testing.assert_close(gate_out[b:b + 1, :frames], gate_alone, atol=ATOL, rtol=0)
            torch.testing.assert_close(alignments[b:b + 1, :frames, :length], alignments_alone, atol=ATOL, rtol=0)


def test_teacher_forced_alignment_is_deterministic_and_leaves_the_model_as_it_was(batch):
    model = tiny_model('Tacotron2').train()
    text, lengths, mel, output_lengths = batch
    alignment = model.teacher_forced_alignment(text, lengths, mel)
    assert model.training and model.decoder.prenet.p_dropout > 0, 'mode and prenet dropout must be restored'
    assert alignment.shape == (len(LENGTHS), max(OUTPUT_LENGTHS), max(LENGTHS)) and not alignment.requires_grad
    assert torch.equal(alignment, model.teacher_forced_alignment(text, lengths, mel))
    with torch.no_grad():  # the batch in eval mode without prenet dropout
        expected = forward(deterministic(model), text, lengths, mel, output_lengths)[3]
    assert torch.equal(alignment, expected)


def test_teacher_forced_alignment_of_a_batch_is_each_clips_alone(batch):
    """prepare_dataset.py aligns clips in padded batches: the frames after a clip's own change nothing. (The
    padding after its text does, through the encoder's convolutions, as in training.)"""
    model = tiny_model('Tacotron2')
    text, lengths, mel, _ = batch
    alignment = model.teacher_forced_alignment(text, lengths, mel)
    for b, (length, frames) in enumerate(zip(LENGTHS, OUTPUT_LENGTHS)):
        alone = model.teacher_forced_alignment(text[b:b + 1], lengths[b:b + 1], mel[b:b + 1, :, :frames])
        torch.testing.assert_close(alignment[b:b + 1, :frames, :length], alone, atol=ATOL, rtol=0)
        assert (alignment[b, :frames, length:] == 0).all()


def test_training_mode_is_random_and_every_parameter_gets_a_gradient(batch):
    model = tiny_model('Tacotron2').train()
    text, lengths, mel, output_lengths = batch
    gate = (torch.arange(mel.size(2)) >= output_lengths.unsqueeze(1) - 1).float()
    loss = Tacotron2Loss()(forward(model, text, lengths, mel, output_lengths), (mel, gate))
    loss.backward()
    missing = [name for name, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing
    with torch.no_grad():
        again = forward(model, text, lengths, mel, output_lengths)
        once_more = forward(model, text, lengths, mel, output_lengths)
    assert not torch.equal(again[0], once_more[0])  # dropouts are active in training


def test_loss_is_zero_for_perfect_predictions(batch):
    _, _, mel, output_lengths = batch
    gate = (torch.arange(mel.size(2)) >= output_lengths.unsqueeze(1) - 1).float()
    perfect_gate_logits = (gate * 2 - 1) * 100.0
    assert Tacotron2Loss()((mel, mel, perfect_gate_logits, None), (mel, gate)).item() == pytest.approx(0.0, abs=1e-6)


def test_loss_sends_gradients_to_the_predictions_only(batch):
    _, _, mel, output_lengths = batch
    gate = (torch.arange(mel.size(2)) >= output_lengths.unsqueeze(1) - 1).float()
    prediction = torch.zeros_like(mel, requires_grad=True)
    gate_logits = torch.zeros_like(gate, requires_grad=True)
    mel_target, gate_target = mel.clone().requires_grad_(), gate.clone().requires_grad_()
    Tacotron2Loss()((prediction, prediction, gate_logits, None), (mel_target, gate_target)).backward()
    assert prediction.grad.abs().sum() > 0 and gate_logits.grad.abs().sum() > 0
    assert mel_target.grad is None and gate_target.grad is None


def test_multi_frame_steps_are_rejected():
    with pytest.raises(ValueError, match='n_frames_per_step must be 1'):
        Tacotron2(**tiny_config('Tacotron2', ['--n-frames-per-step', '2']))


def parse(argv):
    return add_model_args(add_audio_args(argparse.ArgumentParser())).parse_args(argv)


@pytest.mark.parametrize('argv, expected', [([], False), (['--mask-padding'], True),
                                            (['--mask-padding', 'true'], True), (['--mask-padding', 'False'], False)])
def test_mask_padding_flag_takes_an_optional_boolean(argv, expected):
    assert model_config(parse(argv))['mask_padding'] is expected


def test_bad_mask_padding_value_is_a_usage_error(capsys):
    with pytest.raises(SystemExit):
        parse(['--mask-padding', 'maybe'])
    assert "argument --mask-padding: expected true/false, got 'maybe'" in capsys.readouterr().err


def test_n_mel_channels_comes_from_the_audio_flags():
    assert model_config(parse(['--n-mel-channels', '8', '--decoder-no-early-stopping']))['n_mel_channels'] == 8
