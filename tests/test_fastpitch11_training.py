"""FastPitch 1.1 through the recipe on the embedded corpus, with no durations at all: train.py trains it with a
falling loss and the binarization loss ramped in by epoch, resumes exactly, refuses the other version's data or
checkpoint in one line; the checkpoint loads back (and so do the reference's training file and a bare state dict
without the aligner) and synthesizes through inference.py, hubconf.py and evaluate.py."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import evaluate
import hubconf
import models
import train
from common.logger import read_json_log
from fastpitch.model_v11 import FastPitch11
from tests.test_train import (assert_same_losses, epoch_values, fastpitch_argv, iteration_losses,  # noqa: F401
                              one_thread, run_train)
from tests.commands import run_main
from tests.tiny_configs import TINY_FLAGS, tiny_model

REPO_ROOT = Path(__file__).resolve().parents[1]
V11_FLAGS = ['--fastpitch-version', '1.1', '--energy-conditioning', '--energy-predictor-filter-size', '16',
             '--text-cleaners', 'english_cleaners_v2', '--kl-loss-start-epoch', '1', '--kl-loss-warmup-epochs', '2']


def fastpitch11_argv(corpus, output, *extra):
    lists = corpus / 'filelists'
    return ['-m', 'FastPitch', '-o', str(output), '-d', str(corpus),
            '--training-files', str(lists / 'espeak_mel_pitch_text_train_filelist.txt'),
            '--validation-files', str(lists / 'espeak_mel_pitch_text_val_filelist.txt'),
            '--pitch-mean-std-file', str(corpus / 'pitch_stats__espeak_audio_text_train_filelist.json'),
            '-lr', '0.1', '-bs', '2', '--epochs', '3', '--warmup-steps', '3', '--workers', '0', '--no-tensorboard',
            *TINY_FLAGS['FastPitch'], *V11_FLAGS, *extra]


@pytest.fixture(scope='module')
def fastpitch11_run(prepared_corpus, tmp_path_factory):
    """Three uninterrupted epochs of the tiny FastPitch 1.1, the reference for the resume test."""
    output = tmp_path_factory.mktemp('fastpitch11_uninterrupted')
    run_train(fastpitch11_argv(prepared_corpus, output))
    return output


def kl_weights(output):
    return [record['data']['train_kl_weight'] for record in read_json_log(output / 'nvlog.json')
            if 'train_kl_weight' in record['data']]


def test_fastpitch11_trains_with_a_falling_loss_and_loads_back(fastpitch11_run):
    first, *_, last = epoch_values(fastpitch11_run, 'train_epoch_loss')
    assert last < first
    first, *_, last = epoch_values(fastpitch11_run, 'val_loss')
    assert last < first
    # the binarization loss is off in epoch 1 (start epoch 1: weight 0) and ramps to 0.5 in epoch 2, 1 in epoch 3
    assert sorted(set(kl_weights(fastpitch11_run))) == [0.0, 0.5, 1.0]
    model = models.load_model_from_checkpoint('FastPitch', fastpitch11_run / 'checkpoint_FastPitch_last.pt')
    assert isinstance(model, FastPitch11) and model.energy_conditioning and not model.training


def test_fastpitch11_resumes_exactly(fastpitch11_run, prepared_corpus, tmp_path):
    run_train(fastpitch11_argv(prepared_corpus, tmp_path, '--epochs', '1'))
    run_train(fastpitch11_argv(prepared_corpus, tmp_path, '--resume-from-last'))
    assert_same_losses(iteration_losses(tmp_path), iteration_losses(fastpitch11_run), 1e-6)


def test_two_ranks_train_fastpitch11(prepared_corpus, tmp_path):
    """DistributedDataParallel needs every trainable parameter to get a gradient each step (the aligner's unused
    projection is frozen for that)."""
    result = subprocess.run([sys.executable, '-m', 'multiproc', '--nproc', '2', 'train.py',
                             *fastpitch11_argv(prepared_corpus, tmp_path, '--epochs', '1', '-bs', '1')],
                            cwd=REPO_ROOT, capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert (tmp_path / 'checkpoint_FastPitch_last.pt').is_file()


def test_the_other_versions_checkpoint_is_refused_in_one_line(fastpitch11_run, prepared_corpus, tmp_path, capfd):
    checkpoint = str(fastpitch11_run / 'checkpoint_FastPitch_last.pt')
    assert train_exit(fastpitch_argv(prepared_corpus, tmp_path / 'a', '--checkpoint-path', checkpoint)) == 1
    assert 'the model to train is FastPitch 1.1' in capfd.readouterr().err
    run_train(fastpitch_argv(prepared_corpus, tmp_path / 'v10', '--epochs', '1'))
    checkpoint = str(tmp_path / 'v10' / 'checkpoint_FastPitch_last.pt')
    assert train_exit(fastpitch11_argv(prepared_corpus, tmp_path / 'b', '--checkpoint-path', checkpoint)) == 1
    assert 'the model to train is FastPitch 1.0' in capfd.readouterr().err


def train_exit(argv):
    try:
        return train.main(argv)
    except SystemExit as error:
        return error.code if isinstance(error.code, int) else 1


def test_fastpitch11_synthesizes_through_inference_hub_and_evaluate(fastpitch11_run, prepared_corpus, tmp_path):
    checkpoint = fastpitch11_run / 'checkpoint_FastPitch_last.pt'
    phrases = tmp_path / 'phrases.txt'
    phrases.write_text('Hello world.\nThe GPU costs $5.\n')
    result = subprocess.run([sys.executable, 'inference.py', '--fastpitch', str(checkpoint), '-i', str(phrases),
                             '-o', str(tmp_path / 'wavs'), '--pace', '1.2', '--pitch-transform-shift', '20'],
                            cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert 'FastPitch 1.1' in result.stdout + result.stderr
    assert len(list((tmp_path / 'wavs').glob('*.wav'))) == 2

    model, _ = hubconf.nvidia_fastpitch(checkpoint=str(checkpoint))  # (model, train setup), as NVIDIA's
    mel, lengths, durations, pitch, energy = model(torch.tensor([[30, 40, 11, 50]]))
    assert mel.shape == (1, 80, int(lengths[0])) and energy.shape == (1, 4)
    fresh, _ = hubconf.nvidia_fastpitch(pretrained=False,
                                        flags=['--fastpitch-version', '1.1', '--energy-conditioning'])
    assert isinstance(fresh, FastPitch11) and fresh.energy_conditioning

    val_filelist = prepared_corpus / 'filelists' / 'espeak_mel_pitch_text_val_filelist.txt'
    scores = evaluate.evaluate(evaluate.parse_args([
        '-m', 'FastPitch', '--checkpoint', str(checkpoint), '-d', str(prepared_corpus), '--filelist', str(val_filelist),
        '--text-cleaners', 'english_cleaners_v2']))
    assert scores['frames'] > 0 and scores['mel_l1'] > 0


def test_the_reference_training_file_loads_as_1_1(reference_dir):
    model = models.load_model_from_checkpoint('FastPitch', reference_dir / 'golden_fastpitch11_ckpt.pt')
    assert isinstance(model, FastPitch11) and model.energy_conditioning


def test_a_bare_1_1_state_dict_without_the_aligner_loads(tmp_path):
    """NVIDIA's inference files may leave out the aligner; the rest must fit strictly, at the default sizes."""
    config = models.model_spec('FastPitch').default_config(['--fastpitch-version', '1.1', '--energy-conditioning'])
    state_dict = models.get_model('FastPitch', config, 'cpu').state_dict()
    bare = {key: value for key, value in state_dict.items() if not key.startswith('attention.')}
    torch.save(bare, tmp_path / 'bare.pt')
    model = models.load_model_from_checkpoint('FastPitch', tmp_path / 'bare.pt')
    assert isinstance(model, FastPitch11) and model.energy_conditioning
    for key, value in bare.items():
        assert torch.equal(model.state_dict()[key], value), key
    with pytest.raises(ValueError, match='has no aligner .* need its training checkpoint'):
        models.model_spec('FastPitch').teacher_forced_alignment(model, torch.tensor([[5, 6]]), torch.tensor([2]),
                                                                torch.zeros(1, 80, 4), torch.tensor([4]))
    del bare['energy_emb.bias']
    torch.save(bare, tmp_path / 'broken.pt')
    with pytest.raises(ValueError, match='broken.pt: does not fit a FastPitch'):
        models.load_model_from_checkpoint('FastPitch', tmp_path / 'broken.pt')


def test_the_aligner_aligns_a_padded_batch_as_prepare_dataset_gives_it():
    """--durations-from fastpitch aligns clips in padded batches: each clip gets one symbol per frame, monotonic,
    from its first symbol to its last, nothing in the padding; the batch's longest clip gets what it gets alone."""
    model = tiny_model('FastPitch', ['--fastpitch-version', '1.1']).eval()
    spec = models.model_spec('FastPitch')
    symbols, frames = [7, 4], [15, 9]
    generator = torch.Generator().manual_seed(3)
    text = torch.zeros(2, max(symbols), dtype=torch.long)
    mel = torch.zeros(2, 80, max(frames))
    for item, (n_symbols, n_frames) in enumerate(zip(symbols, frames)):
        text[item, :n_symbols] = torch.randint(1, 100, (n_symbols,), generator=generator)
        mel[item, :, :n_frames] = torch.randn(80, n_frames, generator=generator)
    with torch.no_grad():
        alignments = spec.teacher_forced_alignment(model, text, torch.tensor(symbols), mel, torch.tensor(frames))
        alone = spec.teacher_forced_alignment(model, text[:1], torch.tensor(symbols[:1]), mel[:1],
                                              torch.tensor(frames[:1]))
    assert alignments.shape == (2, max(frames), max(symbols))
    for item, (n_symbols, n_frames) in enumerate(zip(symbols, frames)):
        hard = alignments[item]
        assert hard.sum() == n_frames and hard[:n_frames, :n_symbols].sum() == n_frames
        assert (hard[:n_frames].sum(1) == 1).all()
        path = hard[:n_frames].argmax(1)
        assert path[0] == 0 and path[-1] == n_symbols - 1 and set(path.diff().tolist()) <= {0, 1}
    assert torch.equal(alignments[:1], alone)


@pytest.mark.parametrize('version, n_speakers, hint', [
    ('1.1', 4, 'the model has 4 speakers, ids 0 to 3 (--n-speakers)'),
    ('1.1', 1, 'the model has one speaker: a new model takes --n-speakers N for N speakers'),
    ('1.0', 1, 'FastPitch 1.0 has no speaker embedding: FastPitch 1.1 takes --n-speakers N for N speakers'),
    ('1.1', 6, None),
])
def test_unknown_speaker_ids_are_named_with_their_line_before_training(prepared_corpus, tmp_path, version,
                                                                        n_speakers, hint):
    argv = (fastpitch11_argv if version == '1.1' else fastpitch_argv)(prepared_corpus, tmp_path / 'out',
                                                                        '--epochs', '1', '--n-speakers',
                                                                        str(n_speakers))
    for flag in ('--validation-files', '--training-files'):  # the same two clips, with speakers 0 and 5
        lines = Path(argv[argv.index(flag) + 1]).read_text().splitlines()[:2]
        speakers = tmp_path / f'{flag[2:]}.txt'
        speakers.write_text(''.join(f'{line}|{speaker}\n' for speaker, line in zip((0, 5), lines)))
        argv[argv.index(flag) + 1] = str(speakers)
    code, stderr = run_main(train.main, argv)
    if hint is None:
        assert code == 0, stderr[-1:]
        return
    assert code == 1 and stderr[-1] == f'train.py: error: {speakers}:2: speaker id 5 is unknown: {hint}'
    assert not (tmp_path / 'out' / 'checkpoint_FastPitch_1.pt').exists()


def test_a_model_of_several_speakers_needs_the_speaker_column(prepared_corpus, tmp_path):
    argv = fastpitch11_argv(prepared_corpus, tmp_path / 'out', '--n-speakers', '3')
    code, stderr = run_main(train.main, argv)
    assert code == 1 and stderr[-1] == (f'train.py: error: {argv[argv.index("--training-files") + 1]}:1: no speaker '
                                         'id, but the model has 3 speakers: give every line a speaker column '
                                         '(path|...|text|speaker)')
