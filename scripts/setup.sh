#!/usr/bin/env bash
# Installs everything the recipe needs on a fresh machine. Idempotent, and quick when all is already there.
#   bash scripts/setup.sh          # runtime dependencies
#   bash scripts/setup.sh --test   # and the test runner
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
TORCH_VERSION=2.13.0

wanted=(requirements.txt)
[[ "${1:-}" == "--test" ]] && wanted+=(requirements-test.txt)
stamp=".setup-stamp"
fingerprint=$(cat "${wanted[@]}" | sha256sum | cut -c1-16)

export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
# find_spec looks for a package without importing it (importing torch alone takes seconds).
has_module() { "$PYTHON" -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('$1') is None)"; }
have_torch() { has_module torch; }
have_espeak() { has_module espeakng_loader || ldconfig -p 2>/dev/null | grep -q 'libespeak-ng.so'; }

if [[ -f "$stamp" ]] && grep -qx "$fingerprint" "$stamp" && have_torch && have_espeak; then
    exit 0  # everything was installed by an earlier run
fi

if ! have_torch; then
    echo "setup: installing torch==$TORCH_VERSION (no torch found)"
    "$PYTHON" -m pip install --quiet "torch==$TORCH_VERSION"
fi
for file in "${wanted[@]}"; do
    echo "setup: installing $file"
    "$PYTHON" -m pip install --quiet -r "$file"
done
if ! have_espeak; then
    echo "setup: espeakng-loader unavailable; installing Debian's libespeak-ng1"
    apt-get update -qq && apt-get install -y -qq libespeak-ng1
fi
echo "$fingerprint" >> "$stamp"
