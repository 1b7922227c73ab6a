"""What an exported file says about itself, shared by the exporter (common/export.py, which needs torch) and the
runtime (common/onnx_runtime.py, which must not): where the metadata is kept, and how a runtime runs the graphs."""
METADATA_KEY = 'tts_export'  # the ONNX metadata_props key / TorchScript extra file holding the export's metadata

TEXT_TO_MEL = 'text_to_mel'                                # one graph: symbol ids and controls -> mel, mel lengths
AUTOREGRESSIVE_TEXT_TO_MEL = 'autoregressive_text_to_mel'  # encoder, one decoder step run in a loop, postnet
MEL_TO_AUDIO = 'mel_to_audio'                              # one graph: mel (and noise z) -> audio
AUTOREGRESSIVE_GRAPHS = ('encoder', 'decoder_step', 'postnet')  # the files of a folder export, in running order
