"""The reference state-dict listings (`../shared/reference/*_state_dict.tsv`) and the check our models pass."""
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


def assert_state_dict_layout(model, tsv_path):
    """Names, shapes, dtypes and order of the state dict, its element count and the parameter counts."""
    entries, totals = read_state_dict_tsv(tsv_path)
    state = model.state_dict()
    ours = [(name, tuple(t.shape), str(t.dtype).removeprefix('torch.')) for name, t in state.items()]
    assert ours == entries
    assert len(state) == totals['n_state_dict_entries']
    assert sum(t.numel() for t in state.values()) == totals['total_state_dict_elements']
    assert sum(p.numel() for p in model.parameters()) == totals['total_parameters']
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == totals['total_trainable_parameters']
