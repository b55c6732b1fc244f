"""The ranks of a CPU job on gloo, as the workloads of this folder start them: a process per
rank (torch.multiprocessing.spawn) meeting in a file:// store in a temporary folder. torchrun
(torch.distributed.run) of Debian's torch 1.13 does not start on Python 3.11: see
fairscale_gloo_smoke.py.

Imported before torch, this sets GLOO_SOCKET_IFNAME to lo unless it is set (the ranks are on
this machine), for this process and the ranks it starts.
"""

import datetime
import os
import tempfile

os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402


def _rank(rank, run, world_size, init_method, args):
    """The body of a spawned process: run(rank, world_size, init_method, *args)."""
    run(rank, world_size, init_method, *args)


def spawn(run, world_size, *args):
    """Runs run(rank, world_size, init_method, *args) in world_size new processes, rank 0..N-1,
    init_method a file:// store of a temporary folder, and waits for them (a failed rank raises)."""
    with tempfile.TemporaryDirectory() as d:
        mp.spawn(_rank, args=(run, world_size, f"file://{d}/store", args), nprocs=world_size, join=True)


def init(rank, world_size, init_method):
    """Joins this process to the gloo process group as `rank` of `world_size` (60 s timeout), one
    torch thread (a rank per core at most; tiny tensors)."""
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=init_method, rank=rank, world_size=world_size,
                            timeout=datetime.timedelta(seconds=60))
