"""A model is one spec and one entry in models.MODELS: a toy model registered in one line trains, resumes exactly
and synthesizes through the real entry points (train.py, inference.py, models.py)."""
import wave

import pytest
import torch

import inference
import models
import train
from common.logger import read_json_log
from common.model_spec import GENERATOR, ModelSpec
from tests import toy_model


@pytest.fixture
def toy_registered(monkeypatch):
    monkeypatch.setitem(models.MODELS, toy_model.SPEC.name, toy_model.SPEC)


def toy_argv(corpus, output, epochs):
    filelists = corpus / 'filelists'
    return ['-m', 'Toy', '-o', str(output), '-d', str(corpus), '--epochs', str(epochs), '-lr', '0.05', '-bs', '2',
            '--workers', '0', '--no-tensorboard', '--epochs-per-checkpoint', '1',
            '--training-files', str(filelists / 'espeak_mel_text_train_filelist.txt'),
            '--validation-files', str(filelists / 'espeak_mel_text_val_filelist.txt')]


def step_losses(output):
    return [(tuple(r['step']), r['data']['train_loss']) for r in read_json_log(output / 'nvlog.json')
            if isinstance(r['step'], list) and len(r['step']) == 2]


def test_a_registered_toy_model_trains_resumes_and_synthesizes(toy_registered, prepared_corpus, tmp_path):
    whole, resumed = tmp_path / 'whole', tmp_path / 'resumed'
    assert train.main(toy_argv(prepared_corpus, whole, epochs=3)) == 0
    epoch_losses = [r['data']['train_epoch_loss'] for r in read_json_log(whole / 'nvlog.json')
                    if 'train_epoch_loss' in r['data']]
    assert epoch_losses[-1] < epoch_losses[0]

    assert train.main(toy_argv(prepared_corpus, resumed, epochs=1)) == 0
    assert train.main(toy_argv(prepared_corpus, resumed, epochs=3) + ['--resume-from-last']) == 0
    assert step_losses(resumed) == pytest.approx(step_losses(whole), abs=1e-6)

    phrases = tmp_path / 'phrases.txt'
    phrases.write_text('A toy says hello.\n')
    out = tmp_path / 'audio'
    assert inference.main(['-i', str(phrases), '--toy', str(whole / 'checkpoint_Toy_last.pt'), '-o', str(out)]) == 0
    with wave.open(str(out / 'audio_0.wav')) as audio:
        assert audio.getnframes() > 0
    assert models.load_model_from_checkpoint('Toy', whole / 'checkpoint_Toy_3.pt').n_mel_channels == 80


def test_a_spec_names_its_role():
    with pytest.raises(ValueError, match='role must be one of generator, vocoder'):
        ModelSpec(**{**toy_model.SPEC.__dict__, 'role': 'both'})
    assert toy_model.SPEC.role == GENERATOR and toy_model.SPEC.inference_flag == '--toy'


def test_a_model_may_bring_its_own_training_step_with_several_optimizers(monkeypatch, prepared_corpus, tmp_path):
    monkeypatch.setitem(models.MODELS, 'Toy', toy_model.TWO_OPTIMIZER_SPEC)
    whole, resumed = tmp_path / 'whole', tmp_path / 'resumed'
    assert train.main(toy_argv(prepared_corpus, whole, epochs=2)) == 0
    assert train.main(toy_argv(prepared_corpus, resumed, epochs=1)) == 0
    assert train.main(toy_argv(prepared_corpus, resumed, epochs=2) + ['--resume-from-last']) == 0
    assert step_losses(resumed) == pytest.approx(step_losses(whole), abs=1e-6)
    checkpoint = torch.load(whole / 'checkpoint_Toy_2.pt', weights_only=True)
    assert checkpoint['optimizer']['state'] and checkpoint['optimizer_projection']['state']
