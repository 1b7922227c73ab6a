"""export.py and the ONNX Runtime path: every model exports to ONNX and TorchScript within its tolerance (tiny
configs and the golden checkpoints), the exported files synthesize through common/onnx_runtime.py as the PyTorch
models do, that runtime works with torch not importable, and a bad export or input is an error."""
import argparse
import json
import math
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

# before the imports that need them: a machine without them (a GPU image without the wheels) skips this file
pytest.importorskip('onnx', reason='the ONNX tests need onnx and onnxruntime (requirements.txt)')
pytest.importorskip('onnxruntime', reason='the ONNX tests need onnx and onnxruntime (requirements.txt)')

import export
import inference
import models
from common import onnx_runtime
from common.checkpoint import save_checkpoint
from common.export import (ExportError, ExportPlan, Graph, export_onnx, export_torchscript, onnx_paths,
                           quantize_onnx_int8)
from common.export_format import MEL_TO_AUDIO, METADATA_KEY
from tacotron2.synthesis import prenet_dropout_off
from tests.tiny_configs import tiny_config, tiny_model


REPO = Path(__file__).resolve().parents[1]
GOLDEN = {  # (model, checkpoint)
    'tacotron2': ('Tacotron2', 'golden_tacotron2_ckpt.pt'),
    'waveglow': ('WaveGlow', 'golden_waveglow_ckpt.pt'),
    'fastpitch10': ('FastPitch', 'golden_fastpitch10_ckpt.pt'),
    'fastpitch11': ('FastPitch', 'golden_fastpitch11_ckpt.pt'),
    'hifigan': ('HiFiGAN', 'golden_hifigan_gen_ckpt.pt'),
}
TEXTS = ['Printing, in the only sense with which we are at present concerned.', 'Hello there.']
NO_TEXT_FLAGS = argparse.Namespace(text_cleaners=None)


def _lively(name, model):
    """Tiny models whose outputs depend on every layer: FastPitch symbols last about 3 frames, WaveGlow's coupling
    layers (zero at initialisation) are not the identity; Tacotron 2 decodes at most 30 steps (time)."""
    with torch.no_grad():
        if name == 'Tacotron2':
            model.decoder.max_decoder_steps = 30
        if name == 'FastPitch':
            model.duration_predictor.fc.bias.fill_(math.log(4))
        if name == 'WaveGlow':
            for wn in model.WN:
                torch.nn.init.normal_(wn.end.weight, std=0.05)
    return model


@pytest.mark.parametrize('name, extra', [('Tacotron2', []), ('WaveGlow', []), ('FastPitch', []),
                                         ('FastPitch', ['--fastpitch-version', '1.1', '--n-speakers', '3']),
                                         ('HiFiGAN', [])])
def test_tiny_models_export_to_onnx_and_torchscript_within_tolerance(tmp_path, name, extra):
    spec = models.model_spec(name)
    model = spec.prepare_for_inference(_lively(name, tiny_model(name, extra))).eval()
    plan = spec.export_plan(model, NO_TEXT_FLAGS)
    for results in (export_onnx(plan, tmp_path / 'model.onnx'), export_torchscript(plan, tmp_path / 'model.ts')):
        for differences in results.values():
            assert differences and all(value <= plan.tolerance for value in differences.values()), differences
    extra_files = {METADATA_KEY: ''}
    torch.jit.load(str(tmp_path / 'model.ts'), _extra_files=extra_files)
    assert json.loads(extra_files[METADATA_KEY])['runtime'] == plan.runtime
    assert all(path.is_file() for path in onnx_paths(plan, tmp_path / 'model.onnx').values())
    if name == 'FastPitch':  # the check saw real lengths: the example's frames follow the pinned durations
        mel, lengths = plan.graphs[0].module(*plan.graphs[0].example(11))
        assert lengths.tolist()[0] >= 20


def test_int8_quantizes_an_untrained_model_whose_equal_weights_the_exporter_shares(tmp_path):
    """A fresh WaveGlow's coupling outputs start at zero: equal weights, which the exporter stores once."""
    spec = models.model_spec('WaveGlow')
    plan = spec.export_plan(spec.prepare_for_inference(tiny_model('WaveGlow')).eval(), NO_TEXT_FLAGS)
    export_onnx(plan, tmp_path / 'model.onnx')
    differences = quantize_onnx_int8(plan, tmp_path / 'model.onnx')['']
    assert 0 < differences['audio'] < 1  # quantized: no longer exact, still the same audio to a small error
    runtime = onnx_runtime.load(tmp_path / 'model.onnx')
    assert runtime(np.zeros((1, 80, 5), dtype=np.float32)).shape == (1, 5 * 256)


def test_int8_export_quantizes_every_weight_product_of_tacotron2(tmp_path):
    """Each product by a weight, the decoder's LSTM cells' included, runs in int8 after export.py --int8: ONNX
    Runtime's quantizer leaves a product in float32 where the weight is its first factor, as a cell traced under
    autograd or at a batch of several rows (the example's) computes it for MKL."""
    import onnx
    spec = models.model_spec('Tacotron2')
    plan = spec.export_plan(spec.prepare_for_inference(tiny_model('Tacotron2')).eval(), NO_TEXT_FLAGS)
    export_onnx(plan, tmp_path / 'model.onnx')
    quantize_onnx_int8(plan, tmp_path / 'model.onnx')
    for name, path in onnx_paths(plan, tmp_path / 'model.onnx').items():
        graph = onnx.load(str(path)).graph
        weights = {tensor.name for tensor in graph.initializer}
        float_products = [node.name for node in graph.node
                          if node.op_type in ('MatMul', 'Gemm', 'Conv') and weights & set(node.input)]
        assert not float_products, f'{name}: float32 weight products {float_products}'
    assert sum(node.op_type == 'MatMulInteger' for node in onnx.load(
        str(onnx_paths(plan, tmp_path / 'model.onnx')['decoder_step'])).graph.node) >= 2  # the two cells at least


@pytest.fixture(scope='module')
def golden_exports(reference_dir, tmp_path_factory):
    """{key: ONNX path} of every golden checkpoint, exported through export.py's command line."""
    folder = tmp_path_factory.mktemp('exports')
    paths = {}
    for key, (name, checkpoint) in GOLDEN.items():
        output = folder / (key if name == 'Tacotron2' else f'{key}.onnx')
        assert export.main(['-m', name, '--checkpoint', str(reference_dir / checkpoint), '--format', 'onnx',
                            '-o', str(output)]) == 0
        paths[key] = output
    return paths


def _golden_model(reference_dir, key):
    name, checkpoint = GOLDEN[key]
    return models.load_model_from_checkpoint(name, reference_dir / checkpoint)


@pytest.mark.parametrize('key', ['fastpitch10', 'fastpitch11'])
def test_fastpitch_onnx_synthesizes_as_pytorch_with_the_controls(reference_dir, golden_exports, key):
    model = _golden_model(reference_dir, key)
    controls = {'pace': 1.3, 'pitch_flatten': 0.0, 'pitch_invert': 1.0, 'pitch_amplify': 1.5, 'pitch_shift_hz': 25.0}
    runtime = onnx_runtime.load(golden_exports[key], **controls)
    text, lengths = runtime.encode(TEXTS)
    mel, mel_lengths = runtime(text, lengths)

    def transform(pitch, _lengths, _mean, std):
        return (-pitch) * 1.5 + 25.0 / std
    keywords = {'pace': 1.3, 'pitch_transform': transform}
    with torch.no_grad():
        if key == 'fastpitch10':
            expected, expected_lengths, *_ = model.infer(torch.from_numpy(text), None, **keywords)
        else:
            expected, expected_lengths, *_ = model.infer(torch.from_numpy(text), **keywords)
    assert mel_lengths.tolist() == expected_lengths.tolist()
    assert np.abs(mel - expected.numpy()).max() < 1e-4


def test_tacotron2_onnx_folder_decodes_as_pytorch(reference_dir, golden_exports):
    model = _golden_model(reference_dir, 'tacotron2')
    runtime = onnx_runtime.load(golden_exports['tacotron2'], prenet_dropout=0.0)
    text, lengths = runtime.encode(TEXTS)
    mel, mel_lengths, unfinished = runtime(text, lengths)
    with torch.no_grad(), prenet_dropout_off(model):
        expected, expected_lengths, _ = model.infer(torch.from_numpy(text), torch.from_numpy(lengths))
    assert mel_lengths.tolist() == expected_lengths.tolist()
    assert unfinished.tolist() == model.reached_max_decoder_steps.tolist()
    assert np.abs(mel - expected.numpy()).max() < 1e-4


@pytest.mark.parametrize('key', ['hifigan', 'waveglow'])
def test_vocoder_onnx_vocodes_as_pytorch(reference_dir, golden_exports, key):
    model = _golden_model(reference_dir, key)
    runtime = onnx_runtime.load(golden_exports[key])  # sigma 0
    mel = torch.randn(2, model.n_mel_channels, 33) - 4
    audio = runtime(mel.numpy())
    with torch.no_grad():
        expected = model.infer(mel, sigma=0.0) if key == 'waveglow' else model.infer(mel)
    assert audio.shape == tuple(expected.shape)
    assert np.abs(audio - expected.numpy()).max() < 1e-3
    noisy = onnx_runtime.load(golden_exports[key], sigma=0.6)(mel.numpy(), rng=np.random.default_rng(0))
    assert (np.abs(noisy - audio).max() > 1e-3) == (key == 'waveglow')  # only a flow takes noise


def test_the_runtime_needs_no_torch(reference_dir, golden_exports, tmp_path):
    phrases = tmp_path / 'in.txt'
    phrases.write_text(f'{TEXTS[0]}\n\n{TEXTS[1]}\n', encoding='utf-8')
    code = ('import sys; sys.modules["torch"] = None\n'  # any import of torch now fails
            'from common import onnx_runtime\n'
            'sys.exit(onnx_runtime.main(sys.argv[1:]))')
    result = subprocess.run([sys.executable, '-c', code, '--generator', str(golden_exports['fastpitch11']),
                             '--vocoder', str(golden_exports['hifigan']), '-i', str(phrases), '-o',
                             str(tmp_path / 'out')], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in (tmp_path / 'out').iterdir()) == ['audio_0.wav', 'audio_2.wav']
    runtime = onnx_runtime.load(golden_exports['fastpitch11'])
    _, mel_lengths = runtime(*runtime.encode([TEXTS[1]]))
    with wave.open(str(tmp_path / 'out' / 'audio_2.wav')) as file:
        assert (file.getnchannels(), file.getsampwidth(), file.getframerate()) == (1, 2, 22050)
        assert file.getnframes() == int(mel_lengths[0]) * 256


def test_metadata_says_how_to_run_each_file(golden_exports):
    assert json.loads(_metadata(golden_exports['hifigan']))['runtime'] == MEL_TO_AUDIO
    assert sorted(path.name for path in golden_exports['tacotron2'].iterdir()) == [
        'decoder_step.onnx', 'encoder.onnx', 'postnet.onnx']


class _DataDependent(torch.nn.Module):
    """A module a trace cannot follow: how much it returns depends on its input's values."""

    def forward(self, x):
        return x.flatten()[:int((x > 0).sum())]


def test_an_export_that_differs_from_pytorch_is_an_error_and_writes_nothing(tmp_path):
    graph = Graph(name='', module=_DataDependent(), inputs=('x',), outputs=('y',), dynamic_axes={'x': {1: 'n'}},
                  example=lambda length: (torch.randn(2, length),))
    plan = ExportPlan(runtime=MEL_TO_AUDIO, graphs=(graph,), metadata={}, tolerance=1e-4)
    for export_format, path in ((export_onnx, tmp_path / 'x.onnx'), (export_torchscript, tmp_path / 'x.ts')):
        with pytest.raises(ExportError, match="output 'y' has shape"):
            export_format(plan, path)
    assert list(tmp_path.iterdir()) == []


def test_bad_inputs_fail_with_one_line_errors(tmp_path, golden_exports):
    missing = tmp_path / 'missing.pt'
    result = subprocess.run([sys.executable, 'export.py', '-m', 'HiFiGAN', '--checkpoint', str(missing), '--format',
                             'onnx', '-o', str(tmp_path / 'x.onnx')], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 1 and result.stderr.count('\n') == 1 and str(missing) in result.stderr
    with pytest.raises(onnx_runtime.OnnxModelError, match='out of range'):
        onnx_runtime.load(golden_exports['fastpitch10'], speaker=2)
    with pytest.raises(onnx_runtime.OnnxModelError, match="unknown control 'sigma'"):
        onnx_runtime.load(golden_exports['fastpitch10'], sigma=1.0)
    not_onnx = tmp_path / 'not.onnx'
    not_onnx.write_text('hello')
    with pytest.raises(onnx_runtime.OnnxModelError, match='not an ONNX model'):
        onnx_runtime.load(not_onnx)


def _wavs(folder):
    return {path.name: sf.read(str(path), dtype='int16')[0] for path in sorted(Path(folder).glob('*.wav'))}


def test_inference_onnxruntime_backend_writes_the_pytorch_wavs(reference_dir, golden_exports, tmp_path, capsys):
    phrases = tmp_path / 'in.txt'
    phrases.write_text(f'{TEXTS[0]} {TEXTS[1]}\nA second line.\n', encoding='utf-8')
    common = ['-i', str(phrases), '--hifigan-denoising-strength', '0.05']
    assert inference.main([*common, '-o', str(tmp_path / 'pt'), '--fastpitch',
                           str(reference_dir / GOLDEN['fastpitch10'][1]), '--hifigan',
                           str(reference_dir / GOLDEN['hifigan'][1])]) == 0
    assert inference.main([*common, '-o', str(tmp_path / 'ort'), '--backend', 'onnxruntime', '--fastpitch',
                           str(golden_exports['fastpitch10']), '--hifigan', str(golden_exports['hifigan'])]) == 0
    assert 'ONNX Runtime' in capsys.readouterr().out
    pytorch, onnx = _wavs(tmp_path / 'pt'), _wavs(tmp_path / 'ort')
    assert sorted(pytorch) == sorted(onnx) == ['audio_0.wav', 'audio_1.wav']
    for name in pytorch:
        assert pytorch[name].shape == onnx[name].shape
        assert np.abs(pytorch[name].astype(int) - onnx[name]).max() <= 1  # one 16-bit step: float rounding


def test_inference_onnxruntime_backend_decodes_a_tacotron2_folder(golden_exports, tmp_path, capsys):
    phrases = tmp_path / 'in.txt'
    phrases.write_text('Hello.\n', encoding='utf-8')
    assert inference.main(['-i', str(phrases), '-o', str(tmp_path), '--backend', 'onnxruntime', '--tacotron2',
                           str(golden_exports['tacotron2']), '--hifigan', str(golden_exports['hifigan'])]) == 0
    captured = capsys.readouterr()
    limit = json.loads(_metadata(golden_exports['tacotron2'] / 'encoder.onnx'))['max_decoder_steps']
    # the golden Tacotron 2's gate never fires within its 40 steps: reported per line, as for the checkpoint
    assert f'max_decoder_steps ({limit})' in captured.err
    assert len(_wavs(tmp_path)['audio_0.wav']) == limit * 256


def _metadata(path):
    import onnx
    return {prop.key: prop.value for prop in onnx.load(str(path)).metadata_props}[METADATA_KEY]


@pytest.mark.parametrize('flags, message', [
    (['--int8', 'hifigan'], '--int8: a PyTorch flag'),
    (['--amp'], '--amp: a PyTorch flag'),
])
def test_inference_onnxruntime_backend_refuses_pytorch_flags(golden_exports, tmp_path, capsys, flags, message):
    phrases = tmp_path / 'in.txt'
    phrases.write_text('Hello.\n', encoding='utf-8')
    assert inference.main(['-i', str(phrases), '--backend', 'onnxruntime', '--fastpitch',
                           str(golden_exports['fastpitch10']), '--hifigan', str(golden_exports['hifigan']),
                           *flags]) == 1
    assert message in capsys.readouterr().err


def test_inference_onnxruntime_backend_names_a_file_of_the_wrong_model(golden_exports, tmp_path, capsys):
    phrases = tmp_path / 'in.txt'
    phrases.write_text('Hello.\n', encoding='utf-8')
    assert inference.main(['-i', str(phrases), '--backend', 'onnxruntime', '--fastpitch',
                           str(golden_exports['hifigan'])]) == 1
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and f'--fastpitch {golden_exports["hifigan"]}: the file holds a HiFiGAN export' in err


def test_inference_onnxruntime_backend_with_waveglow_at_sigma_0_writes_the_pytorch_wavs(tmp_path, capsys):
    eight_mels = ['--n-mel-channels', '8']
    paths = {}
    for name, flag in (('FastPitch', '--fastpitch'), ('WaveGlow', '--waveglow')):
        checkpoint = tmp_path / f'{name}.pt'
        save_checkpoint({'model_name': name, 'config': tiny_config(name, eight_mels),
                         'state_dict': _lively(name, tiny_model(name, eight_mels)).state_dict()}, checkpoint)
        assert export.main(['-m', name, '--checkpoint', str(checkpoint), '--format', 'onnx',
                            '-o', str(tmp_path / f'{name}.onnx')]) == 0
        paths[flag] = (checkpoint, tmp_path / f'{name}.onnx')
    phrases = tmp_path / 'in.txt'
    phrases.write_text('Hello there. How are you?\n', encoding='utf-8')
    for backend, which in (('pytorch', 0), ('onnxruntime', 1)):
        models_flags = [str(arg) for flag, files in paths.items() for arg in (flag, files[which])]
        assert inference.main(['-i', str(phrases), '-o', str(tmp_path / backend), '--backend', backend,
                               '--sigma-infer', '0', *models_flags]) == 0
    pytorch, onnx = _wavs(tmp_path / 'pytorch'), _wavs(tmp_path / 'onnxruntime')
    assert pytorch['audio_0.wav'].shape == onnx['audio_0.wav'].shape and len(onnx['audio_0.wav']) > 0
    assert np.abs(pytorch['audio_0.wav'].astype(int) - onnx['audio_0.wav']).max() <= 1
