"""Monotonic alignment search (MAS): the hard alignment of mel frames to text symbols hidden in a soft attention.

Given a soft attention of T mel frames over L symbols, find the path of highest total log-probability that starts
on the first symbol at the first frame, ends on the last symbol at the last frame, and at each frame either stays
on its symbol or moves to the next one (`mas_width1` of the reference aligners, FastPitch 1.1's among them). A
symbol's duration is the number of frames the path spends on it, so an item's durations sum to its frame count.

The search is a dynamic programme of T x L steps per item, sequential over frames; it runs compiled by numba on
the CPU whatever device the attention is on: about 4 ms of search for a 16 x 800 x 150 batch, 8 to 10 ms per call
with the log and the copies on an idle CPU core (python -m benchmarks.alignment_search), where a search vectorised
over the batch in torch takes 90 to 130 ms (two loops of 800 steps of small operations; as many kernel launches on
a GPU).
No on-disk cache: the repository may be read-only, and compiling takes 2 to 3 seconds once per process.
"""
import numba
import numpy as np
import torch


# nogil: a data loader's threads keep running during the search
@numba.njit(nogil=True)
def _search_item(log_attn, n_frames, n_symbols, hard):
    """Writes the best path through log_attn[:n_frames, :n_symbols] (float32) as ones into hard."""
    # log_p[i, j]: best total log-probability of a path from (0, 0) to (i, j); float32 sums, as the reference
    log_p = log_attn[:n_frames, :n_symbols].copy()
    log_p[0, 1:] = -np.inf
    for i in range(1, n_frames):
        for j in range(1, n_symbols):
            log_p[i, j] += max(log_p[i - 1, j - 1], log_p[i - 1, j])
        log_p[i, 0] += log_p[i - 1, 0]
    # back from the last cell; a tie goes to the earlier symbol (the reference's >=)
    i, j = n_frames - 1, n_symbols - 1
    while i > 0 and j > 0:
        hard[i, j] = 1.0
        if log_p[i - 1, j - 1] >= log_p[i - 1, j]:
            j -= 1
        i -= 1
    hard[:i + 1, j] = 1.0  # the frames before, on the symbol reached (the first one, unless L > T)


@numba.njit(nogil=True)
def _search_batch(log_attn, frame_lens, symbol_lens):
    hard = np.zeros(log_attn.shape, dtype=np.float32)
    for b in range(log_attn.shape[0]):
        _search_item(log_attn[b], frame_lens[b], symbol_lens[b], hard[b])
    return hard


def binarize_attention(attn_soft, symbol_lens, frame_lens):
    """The hard alignment of a batch, and its durations.

    attn_soft (B, 1, T_mel, T_text) on any device, each item searched within (frame_lens[b], symbol_lens[b]).
    Returns (attn_hard: 0/1, same shape, dtype and device as attn_soft; durations (B, T_text) in frames, the
    same dtype, summing to frame_lens). No gradient flows through either.
    """
    frame_lens, symbol_lens = frame_lens.cpu().long(), symbol_lens.cpu().long()
    # the compiled search does not check its indices
    for name, lens, size in (('frame', frame_lens, attn_soft.size(2)), ('symbol', symbol_lens, attn_soft.size(3))):
        if bool(((lens < 1) | (lens > size)).any()):
            raise ValueError(f'{name} lengths {lens.tolist()} must lie in 1..{size}, the attention\'s {name} axis')
    with torch.no_grad():
        log_attn = torch.log(attn_soft[:, 0]).to(device='cpu', dtype=torch.float32).contiguous()
        hard = _search_batch(log_attn.numpy(), frame_lens.numpy(), symbol_lens.numpy())
        attn_hard = torch.from_numpy(hard).unsqueeze(1).to(device=attn_soft.device, dtype=attn_soft.dtype)
    return attn_hard, attn_hard.sum(2)[:, 0]
