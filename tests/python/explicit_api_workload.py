"""A hand-written expert-parallel MoE in plain torch (no transformers, no fairscale) on CPU
processes (gloo), instrumented with moeprof's explicit API only, writing per rank the ground
truth a profiler of it must reproduce.

    BUILD_DIR/pyenv/bin/python tests/python/explicit_api_workload.py [--steps S] [--truth-dir DIR]

starts WORLD_SIZE ranks with torch.multiprocessing.spawn and a file:// store (gloo_ranks.py, as
fairscale_workload.py does). Each rank holds LOCAL_EXPERTS of the NUM_EXPERTS Linear experts
of every layer (rank r: experts r*L .. r*L+L-1). Every step begins with moeprof.step() and
runs a batch of tokens (a count that differs per rank and per step) through NUM_LAYERS layers,
each inside `with moeprof.layer(i):`, each doing, in this order:

  routing   random logits, top-k, softmax of the top-k values; reported with
            moeprof.record_routing(i, ids, weights, num_experts=NUM_EXPERTS)
  counts    a small all_to_all_single of the int64 tokens per global expert (equal splits:
            LOCAL_EXPERTS * 8 bytes per peer), under `with moeprof.phase("other")`: the trace
            must record it as phase "other", and because an explicit phase does not count in
            the adapter's order guess, the next all-to-all is still guessed "dispatch"
  dispatch  all_to_all_single of the token rows sorted by expert, with the uneven split sizes
            the routing implies (input: rows to each peer; output: rows from each peer, from
            the counts exchange); no moeprof context, so its phase is guessed: "dispatch".
            In layer ASYNC_LAYER it is issued with async_op=True and its work waited on
  expert    the local experts over the received rows, inside `with moeprof.compute("expert")`
  combine   layer 0: dist.all_to_all (list form) of the expert outputs back to their tokens'
            ranks, no moeprof context: guessed "combine". Gloo has no list all-to-all, so this
            one goes to a process group of ranks 0..N-1 of this script's (ListAllToAllGroup).
            Other layers: two all_to_all_single calls (the output rows, then a float32 score
            per row) inside ONE `with moeprof.all_to_all(phase="combine")` block: the trace must
            hold one all-to-all for the block, its bytes per peer the sum of the two calls'

In step/layer SKEWED every token of every rank picks rank 1's experts: rank 0 receives no row
(its dispatch output and combine input have 0 rows) and sends none back, so its split sizes and
bytes to and from some peers are 0.

The output of every layer is checked against a dense computation on this rank (expert weights
are seeded by global expert, so every rank can build all of them): the split sizes are right.

With --truth-dir every rank writes DIR/rank<R>.json, computed by this script alone from the
tensors and split sizes, so that it holds with or without moeprof:

  routing     per (step, layer): the top-k ids and weights of each token, and the tokens per
              expert (counted from the ids by a Python loop)
  all_to_all  per (step, layer), in issue order: phase, kind (counts, dispatch, combine_list,
              combine_gathered), async, send_bytes and recv_bytes per peer (0..N-1: rows times
              row bytes); a gathered block also lists its parts
  compute     per (step, layer): one expert compute span

Exits non-zero when a rank fails (a failed sanity check included).
"""

import argparse
import json
import math
import os
import sys
import time

import gloo_ranks  # first: it sets GLOO_SOCKET_IFNAME before torch is imported

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402

try:
    import moeprof  # noqa: E402  (on the path under `moeprof run`; does nothing when not recorded)
except ImportError:  # run on its own: the package's sources, which do nothing without the agent
    sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "agent", "python"))
    import moeprof  # noqa: E402

WORLD_SIZE = 2
LOCAL_EXPERTS = 2
NUM_EXPERTS = WORLD_SIZE * LOCAL_EXPERTS
NUM_LAYERS = 2
TOP_K = 2
HIDDEN = 4
ASYNC_LAYER = 1  # its dispatch is async_op=True
SKEWED = (2, 1)  # (step, layer) routed to rank 1's experts only: rank 0 receives and returns 0 rows
MODEL_NAME = "explicit-api toy MoE"
FLOAT_BYTES, INT64_BYTES = 4, 8


def tokens_of(rank, step):
    """Batch sizes differ per rank and step: the all-to-alls are uneven."""
    return 5 + 2 * rank + step


def make_experts(layer):
    """All NUM_EXPERTS experts of `layer`, identical on every rank (seeded by global expert)."""
    experts = []
    for e in range(NUM_EXPERTS):
        torch.manual_seed(1000 * (layer + 1) + e)
        experts.append(torch.nn.Linear(HIDDEN, HIDDEN))
    return experts


def row_bytes(t):
    """Bytes of one row (along dim 0) of t, from its shape: a split of n rows moves n of them."""
    return math.prod(t.shape[1:]) * t.element_size()


class Truth:
    def __init__(self, rank):
        self.rank = rank
        self.step = -1
        self.routing = []
        self.all_to_all = []
        self.compute = []
        self.uneven = 0  # dispatches whose split sizes differ between peers

    def add_routing(self, layer, ids, weights):
        counts = [0] * NUM_EXPERTS
        for row in ids.tolist():
            for expert in row:
                counts[expert] += 1
        self.routing.append({"step": self.step, "layer": layer, "ids": ids.tolist(), "weights": weights.tolist(),
                             "counts": counts})

    def add_all_to_all(self, layer, phase, kind, send_bytes, recv_bytes, is_async=False, parts=None):
        entry = {"step": self.step, "layer": layer, "phase": phase, "kind": kind, "async": is_async,
                 "send_bytes": [int(b) for b in send_bytes], "recv_bytes": [int(b) for b in recv_bytes]}
        if parts is not None:
            entry["parts"] = parts
        self.all_to_all.append(entry)

    def write(self, directory, steps):
        path = os.path.join(directory, f"rank{self.rank}.json")
        with open(path + ".tmp", "w") as f:
            json.dump({"rank": self.rank, "world_size": WORLD_SIZE, "steps": steps, "num_layers": NUM_LAYERS,
                       "num_experts": NUM_EXPERTS, "top_k": TOP_K, "hidden_size": HIDDEN, "model_name": MODEL_NAME,
                       "routing": self.routing, "all_to_all": self.all_to_all, "compute": self.compute}, f)
        os.replace(path + ".tmp", path)


def moe_layer(rank, layer, x, experts, list_group, truth):
    """One expert-parallel MoE layer over this rank's tokens x [T, HIDDEN]; returns [T, HIDDEN]."""
    num_tokens = x.shape[0]
    first_local = rank * LOCAL_EXPERTS

    # Routing.
    logits = torch.randn(num_tokens, NUM_EXPERTS)
    if (truth.step, layer) == SKEWED:  # no token of any rank for rank 0's experts: empty tensors
        logits[:, :LOCAL_EXPERTS] -= 100.0
    values, ids = logits.topk(TOP_K, dim=1)
    weights = torch.softmax(values, dim=1)
    moeprof.record_routing(layer, ids, weights, num_experts=NUM_EXPERTS)
    truth.add_routing(layer, ids, weights)

    # Rows (token, slot) sorted by expert: grouped by destination rank, then its local expert.
    flat = ids.reshape(-1)
    order = torch.sort(flat, stable=True).indices
    rows = x.repeat_interleave(TOP_K, dim=0)[order].contiguous()
    send_counts = torch.bincount(flat, minlength=NUM_EXPERTS).to(torch.int64)  # per global expert
    recv_counts = torch.empty_like(send_counts)  # [peer p's tokens for my local expert j] at p*L+j

    # Counts exchange: explicitly phase "other" (it does not take the "dispatch" guess).
    with moeprof.phase("other"):
        dist.all_to_all_single(recv_counts, send_counts)
    per_peer = LOCAL_EXPERTS * INT64_BYTES
    truth.add_all_to_all(layer, "other", "counts", [per_peer] * WORLD_SIZE, [per_peer] * WORLD_SIZE)

    in_splits = send_counts.view(WORLD_SIZE, LOCAL_EXPERTS).sum(dim=1).tolist()
    out_splits = recv_counts.view(WORLD_SIZE, LOCAL_EXPERTS).sum(dim=1).tolist()
    assert sum(in_splits) == num_tokens * TOP_K
    if len(set(in_splits)) > 1 or len(set(out_splits)) > 1:
        truth.uneven += 1

    # Dispatch: guessed "dispatch" (the first all-to-all of the layer without an explicit phase).
    received = torch.empty(sum(out_splits), HIDDEN)
    is_async = layer == ASYNC_LAYER
    if is_async:
        work = dist.all_to_all_single(received, rows, out_splits, in_splits, async_op=True)
        work.wait()
    else:
        dist.all_to_all_single(received, rows, out_splits, in_splits)
    truth.add_all_to_all(layer, "dispatch", "dispatch", [n * row_bytes(rows) for n in in_splits],
                         [n * row_bytes(received) for n in out_splits], is_async=is_async)

    # Expert compute: received rows come by source peer, then by local expert.
    with moeprof.compute("expert"):
        out = torch.empty_like(received)
        offset = 0
        grid = recv_counts.view(WORLD_SIZE, LOCAL_EXPERTS).tolist()
        with torch.no_grad():
            for p in range(WORLD_SIZE):
                for j in range(LOCAL_EXPERTS):
                    n = grid[p][j]
                    out[offset:offset + n] = experts[first_local + j](received[offset:offset + n])
                    offset += n
    truth.compute.append({"step": truth.step, "layer": layer})

    # Combine: the expert outputs go back to their tokens' ranks (splits reversed).
    if layer == 0:
        send_list = list(out.split(out_splits))
        back_list = [torch.empty(n, HIDDEN) for n in in_splits]
        dist.all_to_all(back_list, send_list, group=list_group)  # guessed "combine": the second of the layer
        back = torch.cat(back_list)
        truth.add_all_to_all(layer, "combine", "combine_list", [t.numel() * t.element_size() for t in send_list],
                             [t.numel() * t.element_size() for t in back_list])
    else:
        scores = out.norm(dim=1, keepdim=True)
        back = torch.empty(sum(in_splits), HIDDEN)
        back_scores = torch.empty(sum(in_splits), 1)
        with moeprof.all_to_all(phase="combine"):
            dist.all_to_all_single(back, out, in_splits, out_splits)
            dist.all_to_all_single(back_scores, scores, in_splits, out_splits)
        parts = [{"send_bytes": [n * row_bytes(out) for n in out_splits],
                  "recv_bytes": [n * row_bytes(back) for n in in_splits]},
                 {"send_bytes": [n * row_bytes(scores) for n in out_splits],
                  "recv_bytes": [n * row_bytes(back_scores) for n in in_splits]}]
        truth.add_all_to_all(layer, "combine", "combine_gathered",
                             [a + b for a, b in zip(parts[0]["send_bytes"], parts[1]["send_bytes"])],
                             [a + b for a, b in zip(parts[0]["recv_bytes"], parts[1]["recv_bytes"])], parts=parts)
        back = back * torch.sigmoid(back_scores)

    # Back into token order, weighted by the gates.
    unsorted = torch.empty_like(back)
    unsorted[order] = back
    y = (unsorted.view(num_tokens, TOP_K, HIDDEN) * weights.unsqueeze(-1)).sum(dim=1)

    # The same layer computed densely on this rank: the all-to-alls moved the right rows.
    with torch.no_grad():
        want = torch.zeros_like(x)
        for t in range(num_tokens):
            for k in range(TOP_K):
                e = int(ids[t, k])
                f = experts[e](x[t])
                if layer != 0:
                    f = f * torch.sigmoid(f.norm())
                want[t] += weights[t, k] * f
    assert torch.allclose(y, want, atol=1e-5), f"rank {rank} layer {layer}: distributed != dense"
    return y


class _Done:
    """The work of a list all-to-all that ListAllToAllGroup already completed."""

    def wait(self, timeout=None):
        return True

    def is_completed(self):
        return True


class ListAllToAllGroup(dist.ProcessGroup):
    """Gloo of torch 1.13 has no list-form all-to-all (dist.all_to_all raises "ProcessGroup
    gloo does not support alltoall"): this process group, made by dist.new_group(backend=
    LIST_BACKEND), does it over a gloo group's alltoall_base (the op behind all_to_all_single),
    called on the group directly so that only the dist.all_to_all call is seen by moeprof."""

    def __init__(self, store, rank, size, timeout):
        super().__init__(rank, size)
        self.gloo = dist.ProcessGroupGloo(store, rank, size, timeout)

    def getBackendName(self):
        return LIST_BACKEND

    def alltoall(self, outputs, inputs, opts):
        send = torch.cat([t.reshape(-1) for t in inputs])
        recv = torch.empty(sum(t.numel() for t in outputs), dtype=send.dtype)
        self.gloo.alltoall_base(recv, send, [t.numel() for t in outputs], [t.numel() for t in inputs],
                                dist.AllToAllOptions()).wait()
        for out, chunk in zip(outputs, recv.split([t.numel() for t in outputs])):
            out.copy_(chunk.view_as(out))
        return _Done()


LIST_BACKEND = "list_a2a_gloo"
dist.Backend.register_backend(LIST_BACKEND, ListAllToAllGroup)


def run(rank, world_size, init_method, steps, truth_dir):
    gloo_ranks.init(rank, world_size, init_method)
    try:
        moeprof.topology(rank=rank, world_size=WORLD_SIZE, ep_size=WORLD_SIZE, num_layers=NUM_LAYERS,
                         num_experts=NUM_EXPERTS, top_k=TOP_K, hidden_size=HIDDEN, model_name=MODEL_NAME)
        list_group = dist.new_group(backend=LIST_BACKEND)  # ranks 0..N-1, for the list all-to-all
        experts = [make_experts(layer) for layer in range(NUM_LAYERS)]
        truth = Truth(rank)
        torch.manual_seed(7000 + rank)  # this rank's tokens and router logits
        for step in range(steps):
            moeprof.step()
            truth.step = step
            x = torch.randn(tokens_of(rank, step), HIDDEN)
            for layer in range(NUM_LAYERS):
                with moeprof.layer(layer):
                    x = x + moe_layer(rank, layer, x, experts[layer], list_group, truth)
            assert torch.isfinite(x).all(), f"rank {rank}: step {step} diverged"
        assert truth.uneven > 0, f"rank {rank}: every dispatch split evenly; the test wants uneven splits"
        if truth_dir:
            truth.write(truth_dir, steps)
        dist.barrier()
    finally:
        dist.destroy_process_group()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--truth-dir", help="write rank<R>.json (the ground truth of rank R) here")
    args = parser.parse_args()
    if args.truth_dir:
        os.makedirs(args.truth_dir, exist_ok=True)
    start = time.monotonic()
    gloo_ranks.spawn(run, WORLD_SIZE, args.steps, args.truth_dir)
    print(f"explicit_api_workload: {WORLD_SIZE} ranks, {args.steps} steps OK in {time.monotonic() - start:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
