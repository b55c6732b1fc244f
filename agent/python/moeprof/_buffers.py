"""Numbers from Python, NumPy or PyTorch as contiguous C arrays the agent can read.

Each helper returns (address, length, keepalive): the address stays valid while `keepalive`
is referenced. Tensors are never changed: a detached CPU copy is made where the dtype,
device or layout differ, and nothing here records autograd history."""

import array
import sys

_TYPECODES = {"int32": "i", "uint32": "I", "float32": "f"}


def _torch_buffer(tensor, dtype_name):
    import torch

    dtype = getattr(torch, dtype_name) if dtype_name != "uint32" else torch.int32  # same bits for counts < 2^31
    t = tensor.detach()  # no autograd history from here on
    if t.device.type != "cpu":
        t = t.cpu()
    if t.dtype != dtype:
        t = t.to(dtype)
    if not t.is_contiguous():
        t = t.contiguous()
    return t.data_ptr(), t.numel(), t


def _numpy_buffer(values, dtype_name):
    import numpy

    a = numpy.ascontiguousarray(values, dtype=dtype_name).reshape(-1)
    return a.ctypes.data, a.size, a


def flatten(values):
    """The numbers of a nested sequence, in order."""
    for v in values:
        if isinstance(v, (list, tuple)):
            yield from flatten(v)
        else:
            yield v


def buffer(values, dtype_name):
    """values: a tensor, an ndarray, or a (nested) sequence of numbers."""
    module = type(values).__module__.split(".")[0]
    if module == "torch" and "torch" in sys.modules:
        return _torch_buffer(values, dtype_name)
    if module == "numpy" and "numpy" in sys.modules:
        return _numpy_buffer(values, dtype_name)
    a = array.array(_TYPECODES[dtype_name], flatten(values))
    address, length = a.buffer_info()
    return address, length, a


def rows(values):
    """The number of rows of a 2-D tensor, ndarray or sequence of sequences (tokens of top-k ids)."""
    shape = getattr(values, "shape", None)
    if shape is not None:
        return int(shape[0]) if len(shape) >= 1 else 1
    return len(values)
