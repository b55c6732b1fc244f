"""A small training loop over fairscale MOELayers on CPU processes (gloo), writing per rank the
ground truth a profiler of it must reproduce.

    BUILD_DIR/pyenv/bin/python tests/python/fairscale_workload.py [--world-size N] [--steps S]
                                                                   [--truth-dir DIR]

starts N ranks (default 2) with torch.multiprocessing.spawn and a file:// store (gloo_ranks.py;
torchrun of Debian's torch 1.13 does not start on Python 3.11: see fairscale_gloo_smoke.py).
The model is an input projection, then two MOELayers (Top2Gate, LOCAL_EXPERTS Linear experts
per rank) with residual connections; every step is a forward, a backward, an all-reduce of the
replicated parameters' gradients (as data parallelism would keep them equal) and SGD's step().

With --truth-dir every rank writes DIR/rank<R>.json, computed by this script alone, so that it
holds with or without moeprof:

  expert_load  per (step, layer): the tokens of this rank each global expert really gets, read
               from the gate's dispatch mask by a forward hook of this script (a token holds
               at most one capacity slot of an expert: the number of tokens with any slot)
  all_to_all   per (step, layer), in issue order: the forward's dispatch and combine, then the
               two of the backward (phase "other"; the projection makes every layer's input
               need a gradient, so the dispatch all-to-all has a backward too). Each moves
               the [E, C, M] float32 tensor of the gate's E experts times its capacity C times
               the model width M, split equally over the ranks, so every peer is sent and sends
               back numel * 4 / N bytes.

Layers are numbered in construction order from 0, steps from 0 in loop order. Exits non-zero
when a rank fails (a failed sanity check included).
"""

import argparse
import json
import os
import sys
import time

import gloo_ranks  # first: it sets GLOO_SOCKET_IFNAME before torch is imported

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402

LOCAL_EXPERTS = 2
NUM_LAYERS = 2
MODEL_DIM = 8
SEQUENCES, TOKENS = 4, 8  # a batch of 32 tokens per rank: a multiple of every expert count used
FLOAT_BYTES = 4


class Truth:
    """What this rank's gates decided and what its all-to-alls must move, step by step."""

    def __init__(self, rank, world_size):
        self.rank = rank
        self.world_size = world_size
        self.step = -1
        self.expert_load = []
        self.all_to_all = []
        self.forward_bytes = {}  # layer -> bytes of each all-to-all of its forward, this step

    def gate_hook(self, layer):
        def hook(gate, inputs, output):
            tokens = inputs[0]
            # Else autograd would skip the dispatch all-to-all's backward: one fewer all-to-all.
            assert tokens.requires_grad, "the layer's input needs no gradient"
            dispatch_mask = output[2]  # [tokens S, experts E, capacity C]
            num_tokens, num_experts, capacity = dispatch_mask.shape
            counts = dispatch_mask.any(dim=2).sum(dim=0)
            assert int(counts.max()) <= capacity, f"an expert got more tokens than its capacity {capacity}"
            assert int(counts.sum()) <= 2 * num_tokens, "more than two experts per token"
            self.expert_load.append({"step": self.step, "layer": layer, "counts": counts.tolist()})
            total = num_experts * capacity * tokens.shape[-1] * FLOAT_BYTES
            assert total % self.world_size == 0, "the all-to-all does not split equally"
            self.forward_bytes[layer] = total
            for phase in ("dispatch", "combine"):
                self.add_all_to_all(layer, phase, total)
        return hook

    def backward_done(self):
        """The backward ran, last layer first: each layer's two all-to-alls carried gradients
        of the shapes of their forward."""
        for layer, total in sorted(self.forward_bytes.items(), reverse=True):
            for _ in range(2):
                self.add_all_to_all(layer, "other", total)
        self.forward_bytes = {}

    def add_all_to_all(self, layer, phase, total):
        per_peer = [total // self.world_size] * self.world_size
        self.all_to_all.append({"step": self.step, "layer": layer, "phase": phase,
                                "send_bytes": per_peer, "recv_bytes": per_peer})

    def write(self, directory):
        path = os.path.join(directory, f"rank{self.rank}.json")
        with open(path + ".tmp", "w") as f:
            json.dump({"rank": self.rank, "world_size": self.world_size, "num_layers": NUM_LAYERS,
                       "num_experts": self.world_size * LOCAL_EXPERTS, "model_dim": MODEL_DIM,
                       "steps": self.step + 1,
                       "expert_load": self.expert_load, "all_to_all": self.all_to_all}, f, indent=1)
        os.replace(path + ".tmp", path)


class Model(torch.nn.Module):
    def __init__(self, rank, world_size):
        super().__init__()
        from fairscale.nn.moe import MOELayer, Top2Gate

        num_experts = world_size * LOCAL_EXPERTS
        torch.manual_seed(100)  # the replicated parameters are the same on every rank
        self.projection = torch.nn.Linear(MODEL_DIM, MODEL_DIM)
        layers = []
        for i in range(NUM_LAYERS):
            torch.manual_seed(101 + i)
            gate = Top2Gate(MODEL_DIM, num_experts)
            torch.manual_seed(1000 * (i + 1) + rank)  # this rank's own experts
            experts = torch.nn.ModuleList([torch.nn.Linear(MODEL_DIM, MODEL_DIM) for _ in range(LOCAL_EXPERTS)])
            layers.append(MOELayer(gate, experts))
        self.layers = torch.nn.ModuleList(layers)

    def replicated_parameters(self):
        return list(self.projection.parameters()) + [p for moe in self.layers for p in moe.gate.parameters()]

    def forward(self, x):
        x = self.projection(x)
        aux = 0.0
        for moe in self.layers:
            x = x + moe(x)
            aux = aux + moe.l_aux
        return x, aux


def run(rank, world_size, init_method, steps, truth_dir):
    gloo_ranks.init(rank, world_size, init_method)
    try:
        model = Model(rank, world_size)
        truth = Truth(rank, world_size)
        for layer, moe in enumerate(model.layers):
            moe.gate.register_forward_hook(truth.gate_hook(layer))
        replicated = model.replicated_parameters()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05)

        torch.manual_seed(5000 + rank)  # this rank's data and gate noise
        for step in range(steps):
            truth.step = step
            x = torch.randn(SEQUENCES, TOKENS, MODEL_DIM)
            target = torch.randn(SEQUENCES, TOKENS, MODEL_DIM)
            optimizer.zero_grad()
            y, aux = model(x)
            loss = torch.nn.functional.mse_loss(y, target) + 0.01 * aux
            loss.backward()
            truth.backward_done()
            for p in replicated:
                dist.all_reduce(p.grad)
                p.grad /= world_size
            optimizer.step()
            assert torch.isfinite(loss), f"rank {rank}: loss {float(loss)} at step {step}"
            if rank == 0:
                print(f"fairscale_workload: step {step} loss {float(loss):.4f}", flush=True)
        if truth_dir:
            truth.write(truth_dir)
        dist.barrier()
    finally:
        dist.destroy_process_group()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--world-size", type=int, default=2)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--truth-dir", help="write rank<R>.json (the ground truth of rank R) here")
    args = parser.parse_args()
    if args.truth_dir:
        os.makedirs(args.truth_dir, exist_ok=True)
    start = time.monotonic()
    gloo_ranks.spawn(run, args.world_size, args.steps, args.truth_dir)
    print(f"fairscale_workload: {args.world_size} ranks, {args.steps} steps OK in {time.monotonic() - start:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
