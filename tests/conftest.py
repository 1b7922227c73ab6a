"""Shared fixtures: the reference folder (skipped with a reason where absent), the embedded corpus, and the device:
every test runs on the CPU, where its tolerances hold, even on a GPU machine, except those marked `cuda`."""
from pathlib import Path

import pytest
import torch

REFERENCE_DIR = Path(__file__).resolve().parents[1].parent / 'shared' / 'reference'


@pytest.fixture(autouse=True)
def device_for_the_test(request, monkeypatch):
    """GPUs are hidden from an unmarked test and from the processes it starts (train.py picks a GPU when it sees
    one); a test marked `cuda` sees them, and is skipped without one."""
    if request.node.get_closest_marker('cuda'):
        if not torch.cuda.is_available():
            pytest.skip('needs a CUDA GPU')
        return
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setenv('CUDA_VISIBLE_DEVICES', '')


@pytest.fixture(scope='session')
def reference_dir():
    if not REFERENCE_DIR.is_dir():
        pytest.skip(f'reference data not found at {REFERENCE_DIR} (it sits beside the checkout as ../shared/reference)')
    return REFERENCE_DIR


@pytest.fixture(scope='session')
def load_reference(reference_dir):
    """Load a golden file by name with weights_only=True."""
    def load(name):
        return torch.load(reference_dir / name, map_location='cpu', weights_only=True)
    return load


TINY_CORPUS_CLIPS = 8


@pytest.fixture(scope='session')
def espeak_backend():
    from common.corpus import espeak
    try:
        return espeak.find_backend()
    except espeak.EspeakError as error:
        pytest.skip(str(error))


@pytest.fixture(scope='session')
def corpus_dir(espeak_backend, tmp_path_factory):
    """A tiny embedded corpus (eSpeak NG), built once per test session with the command line (wavs/, metadata.csv,
    timings/), and filelists/espeak_audio_text_{train,val,test}_filelist.txt: its metadata.csv split by
    common/splits.py as scripts/prepare_dataset.sh splits it for the demo."""
    from common.corpus.build import main as build_corpus
    from common.splits import write_split_filelists
    folder = tmp_path_factory.mktemp('espeak_corpus')
    assert build_corpus(['--output', str(folder), '--num-clips', str(TINY_CORPUS_CLIPS)]) == 0
    write_split_filelists(folder / 'metadata.csv', folder / 'filelists', 'espeak')
    return folder


@pytest.fixture(scope='session')
def prepared_corpus(corpus_dir, tmp_path_factory):
    """A copy of the tiny corpus after prepare_dataset.py: mels/, durations/ (from the eSpeak timings), pitch_char/,
    pitch_char_stats__espeak_audio_text_train_filelist.json and, in filelists/, the derived
    espeak_mel_text_* and espeak_mel_dur_pitch_text_* filelists."""
    import shutil

    import prepare_dataset
    root = tmp_path_factory.mktemp('prepared_corpus')
    shutil.copytree(corpus_dir, root, dirs_exist_ok=True)
    audio_filelists = sorted((root / 'filelists').glob('espeak_audio_text_*_filelist.txt'))
    assert prepare_dataset.main(['--dataset-path', str(root), '--wav-text-filelist', *map(str, audio_filelists),
                                 '--extract-mels', '--extract-durations', '--extract-pitch',
                                 '--extract-frame-pitch']) == 0
    return root
