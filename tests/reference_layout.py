"""Checks against the reference facts: the state-dict listings (`../shared/reference/*_state_dict.tsv`) and golden outputs."""
import json


def read_state_dict_tsv(path):
    """([(name, shape tuple, dtype str)] in state-dict order, {'n_state_dict_entries': ..., 'total_...': ...})."""
    entries, totals = [], {}
    for line in path.read_text().splitlines():
        if line.startswith('# ') and '\t' in line:
            key, value = line[2:].split('\t')
            totals[key] = int(value)
        elif line and not line.startswith('#'):
            name, shape, dtype = line.split('\t')
            entries.append((name, tuple(json.loads(shape)), dtype))
    return entries, totals


def assert_state_dict_layout(model, tsv_path, frozen=()):
    """Names, shapes, dtypes and order of the state dict, its element count and the parameter counts; `frozen`
    names the submodules we deliberately do not train where the reference does (trainable counts exclude them)."""
    entries, totals = read_state_dict_tsv(tsv_path)
    state = model.state_dict()
    ours = [(name, tuple(t.shape), str(t.dtype).removeprefix('torch.')) for name, t in state.items()]
    assert ours == entries
    assert len(state) == totals['n_state_dict_entries']
    assert sum(t.numel() for t in state.values()) == totals['total_state_dict_elements']
    assert sum(p.numel() for p in model.parameters()) == totals['total_parameters']
    frozen_count = sum(p.numel() for name in frozen for p in model.get_submodule(name).parameters())
    assert all(not p.requires_grad for name in frozen for p in model.get_submodule(name).parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert trainable == totals['total_trainable_parameters'] - frozen_count


def check_golden_output(call, name, actual, expected, atol, rtol):
    """Integer and boolean outputs must match exactly, float ones within the golden tolerance; the largest
    absolute difference is printed (pytest -s shows the table the issue notes quote)."""
    import torch
    assert actual.shape == expected.shape, f'{call}.{name}: shape {tuple(actual.shape)} != {tuple(expected.shape)}'
    assert actual.dtype == expected.dtype, f'{call}.{name}: dtype {actual.dtype} != {expected.dtype}'
    if expected.is_floating_point():
        diff = (actual - expected).abs().max().item() if expected.numel() else 0.0
        print(f'\n{call:22s} {name:28s} max abs diff {diff:.3g}', end='')
        torch.testing.assert_close(actual, expected, atol=atol, rtol=rtol, msg=lambda m: f'{call}.{name}: {m}')
    else:
        mismatches = (actual != expected).sum().item()
        print(f'\n{call:22s} {name:28s} mismatches {mismatches} (exact)', end='')
        assert mismatches == 0, f'{call}.{name}: {mismatches} elements differ'
