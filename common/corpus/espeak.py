"""A minimal ctypes binding to the eSpeak NG shared library: one utterance, its audio and its timing events.

The library is found at run time (it is GPL-3 and never copied into the project), preferring PyPI's
`espeakng-loader` wheel (libespeak-ng 1.52 with its data) over Debian's `libespeak-ng.so.1` (1.51). The two give
different audio for the same text, so a corpus records which backend made it.

The library keeps state between calls inside one process and hangs when re-initialised, so `synthesize` may run
only once per process: callers run it in a fresh process per clip (see common.corpus.build).

This module imports nothing beyond the standard library so that worker processes start fast.
"""
import ctypes
import ctypes.util
import importlib.util
from dataclasses import dataclass

INSTALL_HINT = 'install one with `pip install espeakng-loader` or `apt-get install espeak-ng`'

# Constants from espeak-ng's speak_lib.h.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 1
_POS_CHARACTER = 1
_END_PAUSE = 0x1000  # a pause after the last sentence, as the command-line tool adds
_PARAM_RATE = 1
_PARAM_PITCH = 3
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1
_EVENT_PHONEME = 7
_NOISE_SEED = 1


class EspeakError(RuntimeError):
    """The eSpeak NG library is missing or refused a request."""


@dataclass(frozen=True)
class Backend:
    name: str                # 'espeakng_loader' (PyPI) or 'system' (Debian's libespeak-ng)
    library_path: str
    data_path: str | None    # None: the library's compiled-in data folder


@dataclass(frozen=True)
class Synthesis:
    sampling_rate: int
    samples: bytes           # int16, native byte order (little-endian on every machine we use)
    words: list              # [{'text_position' (0-based), 'length', 'start_sample'}]
    phonemes: list           # [{'name' (eSpeak's own symbol), 'start_sample'}]
    version: str

    @property
    def num_samples(self):
        return len(self.samples) // 2


def find_backend():
    """The eSpeak NG library to use, or EspeakError saying how to install one."""
    if importlib.util.find_spec('espeakng_loader') is not None:
        import espeakng_loader
        return Backend('espeakng_loader', espeakng_loader.get_library_path(), espeakng_loader.get_data_path())
    system_library = ctypes.util.find_library('espeak-ng')
    if system_library is not None:
        return Backend('system', system_library, None)
    raise EspeakError(f'eSpeak NG library not found: {INSTALL_HINT}')


class _EventId(ctypes.Union):
    _fields_ = [('number', ctypes.c_int), ('name', ctypes.c_char_p), ('string', ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [('type', ctypes.c_int), ('unique_identifier', ctypes.c_uint), ('text_position', ctypes.c_int),
                ('length', ctypes.c_int), ('audio_position', ctypes.c_int), ('sample', ctypes.c_int),
                ('user_data', ctypes.c_void_p), ('id', _EventId)]


_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                                  ctypes.POINTER(_Event))
_already_synthesized = False


def synthesize(backend, text, voice, rate, pitch):
    """Speak `text` (ASCII) once with eSpeak NG and return the audio and the word and phoneme events.

    Phoneme events that start at or after the last sample (the zero-length closing pause) are dropped, so every
    start_sample lies in [0, num_samples). The first phoneme may start after sample 0 (leading silence). Empty
    word events are dropped too.
    """
    global _already_synthesized
    if _already_synthesized:
        raise EspeakError('eSpeak NG can synthesize only one clip per process (its state carries over)')
    _already_synthesized = True

    library = ctypes.CDLL(backend.library_path)
    library.espeak_Info.restype = ctypes.c_char_p
    data_path = backend.data_path.encode() if backend.data_path else None
    sampling_rate = library.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, _INITIALIZE_PHONEME_EVENTS)
    if sampling_rate <= 0:
        raise EspeakError(f'eSpeak NG failed to initialise from {backend.library_path}')
    version = library.espeak_Info(None).decode()
    # Noise (breath, fricatives) must not vary between runs: 1.52 seeds its generator from the clock unless told
    # otherwise, and older versions use the C library's rand(), whose state a forked worker inherits.
    if hasattr(library, 'espeak_ng_SetRandSeed'):
        library.espeak_ng_SetRandSeed(ctypes.c_long(_NOISE_SEED))
    ctypes.CDLL(None).srand(_NOISE_SEED)
    if library.espeak_SetVoiceByName(voice.encode()) != 0:
        raise EspeakError(f'eSpeak NG has no voice {voice!r}')
    library.espeak_SetParameter(_PARAM_RATE, rate, 0)
    library.espeak_SetParameter(_PARAM_PITCH, pitch, 0)

    chunks, words, phonemes = [], [], []

    def on_audio(wav, num_samples, events):
        if wav and num_samples > 0:
            chunks.append(ctypes.string_at(wav, num_samples * ctypes.sizeof(ctypes.c_short)))
        index = 0
        while events[index].type != _EVENT_LIST_TERMINATED:
            event = events[index]
            if event.type == _EVENT_WORD and event.length > 0:  # 1.51 adds empty words at stale positions
                words.append({'text_position': event.text_position - 1, 'length': event.length,
                              'start_sample': event.sample})
            elif event.type == _EVENT_PHONEME:
                phonemes.append({'name': event.id.string.decode('ascii', 'replace'),
                                 'start_sample': event.sample})
            index += 1
        return 0  # 0 = carry on

    callback = _SynthCallback(on_audio)  # kept referenced until synthesis ends
    library.espeak_SetSynthCallback(callback)
    encoded = text.encode()
    status = library.espeak_Synth(encoded, len(encoded) + 1, 0, _POS_CHARACTER, 0, _END_PAUSE, None, None)
    library.espeak_Synchronize()
    if status != 0:
        raise EspeakError(f'eSpeak NG failed to synthesize {text!r} (error {status})')

    samples = b''.join(chunks)
    num_samples = len(samples) // 2
    phonemes = [phoneme for phoneme in phonemes if phoneme['start_sample'] < num_samples]
    return Synthesis(sampling_rate, samples, words, phonemes, version)
