"""The int8 matrix product every int8 layer uses (common/precision.py, common/lstm_cells.py): weights packed for
fbgemm with a symmetric scale per output row, activations quantized per call, products accumulated in int32.

Without VNNI instructions (AVX2 CPUs, AVX-512 ones before Cascade Lake) fbgemm adds pairs of u8 x s8 products in
16 bits, which saturate for full-range activations (a tested layer fell from 42 to 22 dB SNR); 7-bit activations
(reduce_range) cannot saturate there and cost about 6 dB of resolution, so they are used only on such CPUs.
"""
import contextlib
import warnings
from pathlib import Path

import torch


def cpu_has_vnni(cpuinfo=Path('/proc/cpuinfo')):
    """Whether the CPU has VNNI (avx512_vnni or avx_vnni); False where it cannot be told."""
    try:
        flags = set(cpuinfo.read_text().split())
    except OSError:
        return False
    return bool(flags & {'avx512_vnni', 'avx_vnni'})


REDUCE_RANGE = not cpu_has_vnni()


@contextlib.contextmanager
def quiet_quantization():
    """torch.ao.quantization announces its move to torchao; the eager API still works in this torch."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        warnings.simplefilter('ignore', UserWarning)
        yield


def pack_int8(weight, bias):
    """fbgemm-packed int8 weight (out, in) with a symmetric scale per output row, and the fp32 bias."""
    scales = (weight.abs().amax(dim=1).clamp_min(1e-12) / 127).double()
    zero_points = torch.zeros(weight.size(0), dtype=torch.long)
    with quiet_quantization():
        qweight = torch.quantize_per_channel(weight.float(), scales, zero_points, 0, torch.qint8)
        return torch.ops.quantized.linear_prepack(qweight, None if bias is None else bias.float())


def int8_product(x, packed):
    """x (N, in) @ W^T + b with W packed by pack_int8: x quantized per tensor for this call."""
    return torch.ops.quantized.linear_dynamic(x.float(), packed, REDUCE_RANGE)
