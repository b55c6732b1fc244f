"""fairscale's MOELayer across CPU processes on gloo: the all-to-alls really move tokens.

    BUILD_DIR/pyenv/bin/python tests/python/fairscale_gloo_smoke.py [--world-size N]

starts N ranks (default 2) with torch.multiprocessing.spawn and a file:// store (gloo_ranks.py).
Started by a launcher that sets RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT it joins with
env:// instead.
torchrun (torch.distributed.run) of Debian's torch 1.13 does not start on Python 3.11: its
Std.from_str("0") returns None there (IntFlag iteration changed in 3.11; fixed upstream after 1.13),
so it dies with "'NoneType' object has no attribute 'get'" unless that method is patched.

Every rank holds 2 experts; expert g multiplies its tokens by a learnable scalar g + 1, so the
output of each token is sum over its top-2 experts e of combine[e] * (e + 1) * x, computed
locally from the gate alone and compared with what came back through the two all-to-alls. The
backward all-to-all is checked too: the gradient of expert g's scalar gathers the tokens that
every rank routed to g. Exits non-zero on failure.
"""

import argparse
import os
import sys
import time

import gloo_ranks  # first: it sets GLOO_SOCKET_IFNAME before torch is imported

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402

LOCAL_EXPERTS = 2
MODEL_DIM = 16


class Scale(torch.nn.Module):
    def __init__(self, factor):
        super().__init__()
        self.factor = torch.nn.Parameter(torch.tensor(float(factor)))

    def forward(self, x):
        return x * self.factor


def run(rank, world_size, init_method):
    from fairscale.nn.moe import MOELayer, Top2Gate

    gloo_ranks.init(rank, world_size, init_method)
    try:
        num_experts = world_size * LOCAL_EXPERTS
        torch.manual_seed(1000 + rank)
        first = rank * LOCAL_EXPERTS
        experts = torch.nn.ModuleList([Scale(first + j + 1) for j in range(LOCAL_EXPERTS)])
        moe = MOELayer(Top2Gate(MODEL_DIM, num_experts), experts)
        x = torch.randn(4, 8, MODEL_DIM)  # (sequences, tokens, model)
        tokens = x.reshape(-1, MODEL_DIM)

        # The gate samples Gumbel noise: the same seed gives the same routing twice.
        torch.manual_seed(2000 + rank)
        _, combine, dispatch = moe.gate(tokens)
        torch.manual_seed(2000 + rank)
        y = moe(x)

        factors = torch.arange(1, num_experts + 1, dtype=x.dtype)
        expected = torch.einsum("sec,e->s", combine, factors)[:, None] * tokens
        assert torch.allclose(y.reshape(-1, MODEL_DIM), expected, atol=1e-5), f"rank {rank}: forward mismatch"

        y.sum().backward()
        local = torch.einsum("sec,s->e", combine.detach(), tokens.sum(dim=1))
        dist.all_reduce(local)  # per expert, over every rank's tokens
        for j, expert in enumerate(experts):
            want = local[first + j]
            assert torch.allclose(expert.factor.grad, want, rtol=1e-4, atol=1e-4), (
                f"rank {rank}: expert {first + j} grad {float(expert.factor.grad)} != {float(want)}")

        counts = dispatch.sum(dim=(0, 2)).to(torch.int64)
        dist.all_reduce(counts)
        if rank == 0:
            print(f"fairscale_gloo_smoke: world size {world_size}, {num_experts} experts, "
                  f"tokens per expert {counts.tolist()}: forward and backward all-to-alls OK")
        dist.barrier()
    finally:
        dist.destroy_process_group()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--world-size", type=int, default=2)
    args = parser.parse_args()
    start = time.monotonic()
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ:  # under torchrun
        run(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), "env://")
    else:
        gloo_ranks.spawn(run, args.world_size)
    if int(os.environ.get("RANK", "0")) == 0:
        print(f"fairscale_gloo_smoke: OK in {time.monotonic() - start:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
