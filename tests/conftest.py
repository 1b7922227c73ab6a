"""Shared fixtures: the reference folder (skipped with a reason where absent)."""
from pathlib import Path

import pytest
import torch

REFERENCE_DIR = Path(__file__).resolve().parents[1].parent / 'shared' / 'reference'


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
