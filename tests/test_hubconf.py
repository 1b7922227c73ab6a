"""hubconf.py through torch.hub (source='local'): NVIDIA's published snippets with local checkpoints, the reference's
return shapes, pretrained=True's download (simulated: tests never touch the network), fresh models, errors."""
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch

import hubconf
import models
from common.checkpoint import CheckpointError
from tests.tiny_configs import tiny_config

REPO = Path(__file__).resolve().parents[1]


def hub_load(entry_point, **kwargs):
    return torch.hub.load(str(REPO), entry_point, source='local', **kwargs)


@pytest.fixture
def no_network(monkeypatch, tmp_path):
    """torch.hub's cache in a fresh folder and every download failing as it does without a network."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.setattr(torch.hub, '_hub_dir', None)
    calls = []

    def unreachable(url, destination, *args, **kwargs):
        calls.append(url)
        raise urllib.error.URLError('[Errno -3] Temporary failure in name resolution')
    monkeypatch.setattr(torch.hub, 'download_url_to_file', unreachable)
    return calls


def tiny_waveglow_checkpoint(folder):
    """A tiny 80-band WaveGlow in the reference training format (the golden WaveGlow takes 8 bands)."""
    config = tiny_config('WaveGlow')
    path = folder / 'waveglow.pt'
    torch.save({'state_dict': models.get_model('WaveGlow', config, 'cpu').state_dict(), 'config': config}, path)
    return path


@pytest.mark.filterwarnings('ignore:Tacotron2.*max_decoder_steps')
def test_nvidia_tacotron2_waveglow_snippet_runs_with_local_checkpoints(reference_dir, tmp_path):
    """NVIDIA's snippet for Tacotron 2 + WaveGlow, with checkpoint= in place of the download and the CPU in place of
    'cuda'."""
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    tacotron2 = hub_load('nvidia_tacotron2', model_math='fp16',
                         checkpoint=str(reference_dir / 'golden_tacotron2_ckpt.pt'))
    tacotron2 = tacotron2.to(device)
    tacotron2.eval()

    waveglow = hub_load('nvidia_waveglow', model_math='fp16', checkpoint=str(tiny_waveglow_checkpoint(tmp_path)))
    waveglow = waveglow.remove_weightnorm(waveglow)
    waveglow = waveglow.to(device)
    waveglow.eval()

    text = "Hello world, I missed you so much."
    utils = hub_load('nvidia_tts_utils')
    sequences, lengths = utils.prepare_input_sequence([text])

    with torch.no_grad():
        mel, _, _ = tacotron2.infer(sequences, lengths)
        audio = waveglow.infer(mel)
    audio_numpy = audio[0].data.cpu().numpy()
    rate = 22050

    from scipy.io.wavfile import write
    write(tmp_path / "audio.wav", rate, audio_numpy)
    assert audio_numpy.shape == (mel.shape[2] * 256,) and np.isfinite(audio_numpy).all()
    assert (tmp_path / 'audio.wav').stat().st_size > audio_numpy.size


def test_nvidia_fastpitch_hifigan_snippet_runs_with_local_checkpoints(reference_dir):
    """NVIDIA's FastPitch + HiFi-GAN snippet (the reference's return shapes), with local checkpoints."""
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    hifigan, vocoder_train_setup, denoiser = hub_load('nvidia_hifigan',
                                                      checkpoint=str(reference_dir / 'golden_hifigan_gen_ckpt.pt'))
    fastpitch, generator_train_setup = hub_load('nvidia_fastpitch',
                                                checkpoint=str(reference_dir / 'golden_fastpitch11_ckpt.pt'))
    CHECKPOINT_SPECIFIC_ARGS = ['sampling_rate', 'hop_length', 'win_length', 'p_arpabet', 'text_cleaners',
                                'symbol_set', 'max_wav_value', 'prepend_space_to_text', 'append_space_to_text']
    for k in CHECKPOINT_SPECIFIC_ARGS:
        v1 = generator_train_setup.get(k, None)
        v2 = vocoder_train_setup.get(k, None)
        assert v1 is None or v2 is None or v1 == v2, f'{k} mismatch in spectrogram generator and vocoder'
    fastpitch.to(device)
    hifigan.to(device)
    denoiser.to(device)

    tp = hub_load('nvidia_textprocessing_utils', cmudict_path=None, heteronyms_path=None)
    text = "Say this smoothly, to prove you are not a robot."
    batches = tp.prepare_input_sequence([text], batch_size=1)
    gen_kw = {'pace': 1.0, 'speaker': 0, 'pitch_tgt': None, 'pitch_transform': None}
    denoising_strength = 0.005
    for batch in batches:
        with torch.no_grad():
            mel, mel_lens, *_ = fastpitch(batch['text'].to(device), **gen_kw)
            audios = hifigan(mel).float()
            audios = denoiser(audios.squeeze(1), denoising_strength)
            audios = audios.squeeze(1) * vocoder_train_setup.get('max_wav_value', 32768.0)
    assert audios.shape == (1, int(mel_lens[0]) * 256) and torch.isfinite(audios).all()


def test_tts_utils_pad_sort_and_place_the_ids():
    utils = hubconf.nvidia_tts_utils()
    ids, lengths = utils.prepare_input_sequence(['Hi.', 'A longer sentence.'], cpu_run=True)
    assert lengths.tolist() == [18, 3] and ids.shape == (2, 18) and ids.dtype == torch.long
    assert ids[1, 3:].eq(0).all() and ids.device.type == 'cpu'
    batches = hubconf.nvidia_textprocessing_utils().prepare_input_sequence(['a b', 'a longer one', 'c'], batch_size=2)
    lengths = [length for batch in batches for length in batch['text_lens'].tolist()]
    assert [len(batch['text']) for batch in batches] == [2, 1] and lengths == sorted(lengths, reverse=True)
    assert [batch['text'].shape[1] for batch in batches] == [lengths[0], lengths[2]]


def test_pretrained_without_network_says_what_to_do(no_network):
    with pytest.raises(hubconf.HubDownloadError) as error:
        hubconf.nvidia_waveglow(model_math='fp16')
    url = ('https://api.ngc.nvidia.com/v2/models/nvidia/waveglow_ckpt_amp/versions/19.09.0/files/'
           'nvidia_waveglowpyt_fp16_20190427')
    assert no_network == [url]
    cache = Path(torch.hub.get_dir()) / 'checkpoints' / 'nvidia_waveglowpyt_fp16_20190427'
    assert str(error.value) == (f'WaveGlow: pretrained=True could not download {url} ([Errno -3] Temporary failure in '
                                'name resolution); where there is no network, download that file elsewhere and pass '
                                f'checkpoint=PATH, or copy it to {cache}')


def test_pretrained_uses_the_cached_file_without_downloading(no_network, reference_dir):
    """NGC's file put where pretrained=True looks (here a golden checkpoint under the fp32 file's name)."""
    cache = Path(torch.hub.get_dir()) / 'checkpoints' / 'hifigan_gen_checkpoint_10000_ft.pt'
    cache.parent.mkdir(parents=True)
    cache.write_bytes((reference_dir / 'golden_hifigan_gen_ckpt.pt').read_bytes())
    hifigan, train_setup, denoiser = hubconf.nvidia_hifigan()
    assert no_network == [] and hifigan(torch.zeros(1, 80, 3)).shape == (1, 3 * 256)
    assert isinstance(train_setup, dict) and denoiser is not None


@pytest.mark.parametrize('entry_point, golden', [('nvidia_fastpitch', 'golden_fastpitch10.pt'),
                                                 ('nvidia_waveglow', 'golden_waveglow.pt')])
def test_local_checkpoints_reproduce_the_golden_outputs(load_reference, reference_dir, entry_point, golden):
    reference = load_reference(golden)
    loaded = hub_load(entry_point, checkpoint=str(reference_dir / reference['checkpoint_file']))
    inputs = reference['inputs']
    with torch.no_grad():
        if entry_point == 'nvidia_fastpitch':  # forward() is infer()
            model, _ = loaded
            assert not model.training
            mel, dec_lens, _, _ = model(inputs['text'], inputs['input_lengths'])
            expected = reference['outputs']['infer']
            assert torch.equal(dec_lens, expected['dec_lens'])
            torch.testing.assert_close(mel, expected['mel_out'], atol=1e-5, rtol=1e-4)
        else:
            assert not loaded.training
            audio = loaded(inputs['mel'], sigma=0.0)
            torch.testing.assert_close(audio, reference['outputs']['infer_sigma0_after_remove_weightnorm'],
                                       atol=1e-4, rtol=1e-4)


def test_fresh_models_with_overrides():
    waveglow = hub_load('nvidia_waveglow', pretrained=False, n_mel_channels=8, n_flows=2, n_early_every=4,
                        WN_config={'n_layers': 2, 'n_channels': 16})
    assert len(waveglow.WN) == 2 and waveglow.WN[0].n_channels == 16 and waveglow.n_mel_channels == 8
    assert waveglow.WN[0].in_layers[0].kernel_size == (3,)  # the default kernel size was kept
    assert waveglow(torch.zeros(1, 8, 3), sigma=0.0).shape == (1, 3 * 256)

    fastpitch, train_setup = hub_load('nvidia_fastpitch', pretrained=False, symbols_embedding_dim=32,
                                      in_fft_n_layers=1, out_fft_n_layers=1, in_fft_output_size=32,
                                      out_fft_output_size=32, in_fft_conv1d_filter_size=16,
                                      out_fft_conv1d_filter_size=16)
    assert fastpitch.proj.in_features == 32 and fastpitch.proj.out_features == 80  # the default mel size
    assert not fastpitch.training and train_setup == {}


def test_default_tacotron2_has_the_reference_layout(reference_dir):
    rows = [line.split('\t') for line in (reference_dir / 'tacotron2_state_dict.tsv').read_text().splitlines()
            if line and not line.startswith('#')]
    reference_shapes = {name: [int(size) for size in shape.strip('[]').split(', ') if size] for name, shape, _ in rows}
    model = hubconf.nvidia_tacotron2(pretrained=False)
    assert {name: list(tensor.shape) for name, tensor in model.state_dict().items()} == reference_shapes


def test_errors_name_the_problem(reference_dir):
    with pytest.raises(ValueError, match='FastPitch has no config entry n_flows'):
        hubconf.nvidia_fastpitch(pretrained=False, n_flows=3)
    with pytest.raises(ValueError, match='n_flows build a fresh model: pass pretrained=False'):
        hubconf.nvidia_waveglow(n_flows=3)
    with pytest.raises(ValueError, match="model_math='fp8'; choose one of fp32, fp16"):
        hubconf.nvidia_waveglow(model_math='fp8')
    with pytest.raises(ValueError, match='WaveGlow WN_config has no config entry n_chanels'):
        hubconf.nvidia_waveglow(pretrained=False, WN_config={'n_chanels': 3})
    with pytest.raises(ValueError, match='the size comes from the checkpoint'):
        hubconf.nvidia_waveglow(checkpoint=str(reference_dir / 'golden_waveglow_ckpt.pt'), n_flows=2)
    with pytest.raises(CheckpointError, match='holds a WaveGlow checkpoint, not Tacotron2'):
        hubconf.nvidia_tacotron2(checkpoint=str(reference_dir / 'golden_waveglow_ckpt.pt'))
