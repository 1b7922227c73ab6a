"""hubconf.py through torch.hub (source='local'): default configs with overrides, local checkpoints, errors."""
from pathlib import Path

import pytest
import torch

import hubconf
from common.checkpoint import CheckpointError

REPO = Path(__file__).resolve().parents[1]


def hub_load(entry_point, **kwargs):
    return torch.hub.load(str(REPO), entry_point, source='local', **kwargs)


@pytest.mark.parametrize('entry_point, golden', [('nvidia_fastpitch', 'golden_fastpitch10.pt'),
                                                 ('nvidia_waveglow', 'golden_waveglow.pt')])
def test_local_checkpoints_reproduce_the_golden_outputs(load_reference, reference_dir, entry_point, golden):
    reference = load_reference(golden)
    model = hub_load(entry_point, checkpoint=str(reference_dir / reference['checkpoint_file']))
    assert not model.training
    inputs = reference['inputs']
    with torch.no_grad():
        if entry_point == 'nvidia_fastpitch':  # forward() is infer()
            mel, dec_lens, _, _ = model(inputs['text'], inputs['input_lengths'])
            expected = reference['outputs']['infer']
            assert torch.equal(dec_lens, expected['dec_lens'])
            torch.testing.assert_close(mel, expected['mel_out'], atol=1e-5, rtol=1e-4)
        else:
            audio = model(inputs['mel'], sigma=0.0)
            torch.testing.assert_close(audio, reference['outputs']['infer_sigma0_after_remove_weightnorm'],
                                       atol=1e-4, rtol=1e-4)


@pytest.mark.filterwarnings('ignore:Tacotron2.*max_decoder_steps')
def test_tacotron2_from_a_local_checkpoint_synthesizes(reference_dir):
    model = hub_load('nvidia_tacotron2', checkpoint=str(reference_dir / 'golden_tacotron2_ckpt.pt'))
    text = torch.randint(1, 148, (1, 20))
    mel, mel_lengths, alignments = model(text, torch.tensor([20]))
    assert mel.shape[:2] == (1, 80) and alignments.shape[2] == 20 and 0 < int(mel_lengths[0]) <= mel.shape[2]


def test_default_config_with_overrides():
    waveglow = hub_load('nvidia_waveglow', n_mel_channels=8, n_flows=2, n_early_every=4,
                        WN_config={'n_layers': 2, 'n_channels': 16})
    assert len(waveglow.WN) == 2 and waveglow.WN[0].n_channels == 16 and waveglow.n_mel_channels == 8
    assert waveglow.WN[0].in_layers[0].kernel_size == (3,)  # the default kernel size was kept
    assert waveglow(torch.zeros(1, 8, 3), sigma=0.0).shape == (1, 3 * 256)

    fastpitch = hub_load('nvidia_fastpitch', symbols_embedding_dim=32, in_fft_n_layers=1, out_fft_n_layers=1,
                         in_fft_output_size=32, out_fft_output_size=32, in_fft_conv1d_filter_size=16,
                         out_fft_conv1d_filter_size=16)
    assert fastpitch.proj.in_features == 32 and fastpitch.proj.out_features == 80  # the default mel size
    assert not fastpitch.training


def test_default_tacotron2_has_the_reference_layout(reference_dir):
    rows = [line.split('\t') for line in (reference_dir / 'tacotron2_state_dict.tsv').read_text().splitlines()
            if line and not line.startswith('#')]
    reference_shapes = {name: [int(size) for size in shape.strip('[]').split(', ') if size] for name, shape, _ in rows}
    model = hubconf.nvidia_tacotron2()
    assert {name: list(tensor.shape) for name, tensor in model.state_dict().items()} == reference_shapes


def test_errors_name_the_problem(reference_dir):
    with pytest.raises(ValueError, match='NGC, which is not reachable here'):
        hubconf.nvidia_fastpitch(pretrained=True)
    with pytest.raises(ValueError, match='FastPitch has no config entry n_flows'):
        hubconf.nvidia_fastpitch(n_flows=3)
    with pytest.raises(ValueError, match='WaveGlow WN_config has no config entry n_chanels'):
        hubconf.nvidia_waveglow(WN_config={'n_chanels': 3})
    with pytest.raises(ValueError, match='the size comes from the checkpoint'):
        hubconf.nvidia_waveglow(checkpoint=str(reference_dir / 'golden_waveglow_ckpt.pt'), n_flows=2)
    with pytest.raises(CheckpointError, match='holds a WaveGlow checkpoint, not Tacotron2'):
        hubconf.nvidia_tacotron2(checkpoint=str(reference_dir / 'golden_waveglow_ckpt.pt'))
