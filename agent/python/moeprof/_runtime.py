"""The adapter's state in one process: the agent, the step policy, which layer each thread is
in, and the recording of counts, routing, all-to-alls and compute spans that every hook and
the explicit API share."""

import os
import threading

from . import _abi
from ._buffers import buffer, flatten, rows
from ._report import Guard, Reporter
from ._steps import Steps

# Router decisions go to the agent in batches of at most this many tokens, so that one batch
# never outgrows a thread's ring (MOEPROF_RING_KB, 1 MiB by default).
ROUTING_BATCH_TOKENS = 2048


class ThreadState(threading.local):
    def __init__(self):
        self.layer = -1            # the MoE layer this thread is in (-1: none known)
        self.explicit_layer = -1   # the layer moeprof.layer() set, current outside hooked layers
        self.a2a_in_layer = 0      # all-to-alls seen since it entered that layer
        self.phase = None          # an explicit phase for the all-to-alls from here on
        self.gatherer = None       # an explicit all_to_all span gathering the bytes inside it
        self.root_depth = 0        # nesting of attached models' forwards
        self.outermost = None      # the attached model whose forward is outermost now


class LayerShape:
    def __init__(self, num_experts, top_k):
        self.num_experts = num_experts
        self.top_k = top_k


class Runtime:
    def __init__(self, agent, settings):
        self.agent = agent
        self.settings = settings
        self.reporter = Reporter(agent)
        self.thread = ThreadState()
        self.steps = Steps(agent, settings.step_mode, settings.step_class)
        self.steps.listeners.append(lambda _: self.token_offsets.clear())
        self.token_offsets = {}  # layer -> next token offset within the open step
        self.layers = {}         # layer -> LayerShape, as discovered or declared
        self.topology = {"rank": _env_int("RANK", 0), "local_rank": _env_int("LOCAL_RANK", -1),
                         "world_size": _env_int("WORLD_SIZE", 1)}
        self.guards = {}

    def guard(self, name):
        if name not in self.guards:
            self.guards[name] = Guard(name, self.reporter)
        return self.guards[name]

    def note(self, text, once_key=None):
        self.reporter.note(text, once_key)

    # ---- topology -------------------------------------------------------------------------
    def update_topology(self, **fields):
        self.topology.update({k: v for k, v in fields.items() if v is not None})
        t = self.topology
        self.agent.set_topology(rank=t.get("rank", -1), local_rank=t.get("local_rank", -1),
                                world_size=t.get("world_size", -1), ep_size=t.get("ep_size", -1),
                                num_layers=t.get("num_layers", -1), num_experts=t.get("num_experts", -1),
                                top_k=t.get("top_k", -1), num_shared_experts=t.get("num_shared_experts", -1),
                                hidden_size=t.get("hidden_size", -1), model_name=t.get("model_name"))

    def declare_layer(self, layer, num_experts, top_k):
        self.layers[layer] = LayerShape(num_experts, top_k)

    # ---- layers and phases ----------------------------------------------------------------
    def enter_layer(self, layer):
        """A hooked MoE layer's forward begins on this thread. (Layers do not nest, and a forward
        that raised never exits: so there is no stack, the next layer simply replaces it.)"""
        state = self.thread
        state.layer, state.a2a_in_layer = layer, 0
        self.steps.layer_forward(layer)

    def exit_layer(self):
        state = self.thread
        state.layer, state.a2a_in_layer = state.explicit_layer, 0

    def set_explicit_layer(self, layer):
        """moeprof.layer(i): returns the previous explicit layer."""
        state = self.thread
        previous = state.explicit_layer
        state.explicit_layer = state.layer = layer
        state.a2a_in_layer = 0
        self.steps.layer_forward(layer)
        return previous

    def next_phase(self):
        """The phase of the next all-to-all of this thread: explicit if set, else guessed from
        the order within the layer (dispatch, then combine, then other); other outside layers."""
        state = self.thread
        if state.phase is not None:
            return state.phase
        if state.layer < 0:
            return _abi.PHASE_OTHER
        order = state.a2a_in_layer
        state.a2a_in_layer += 1
        return (_abi.PHASE_DISPATCH, _abi.PHASE_COMBINE)[order] if order < 2 else _abi.PHASE_OTHER

    def guesses_phase(self):
        """True when next_phase() would guess (and count the all-to-all in the layer's order)."""
        return self.thread.phase is None and self.thread.layer >= 0

    def take_back_phase_guess(self):
        """The last all-to-all next_phase() guessed for never happened (it raised): the next
        one gets its guess."""
        state = self.thread
        if state.a2a_in_layer > 0:
            state.a2a_in_layer -= 1

    # ---- records --------------------------------------------------------------------------
    def record_counts(self, layer, counts):
        address, length, keep = buffer(counts, "uint32")
        self.steps.before_record()
        self.agent.expert_counts(layer, length, address)
        del keep

    def record_routing(self, layer, topk_ids, topk_weights=None, num_experts=None):
        """Top-k ids (tokens x k; negative: no expert) and optional weights of one batch: its
        per-expert counts always, the decisions when the routing mode wants them."""
        self.steps.before_record()
        if num_experts is None:
            shape = self.layers.get(layer)
            num_experts = shape.num_experts if shape is not None else None
        num_tokens = rows(topk_ids)
        if num_tokens == 0:
            return
        self.record_counts(layer, counts_of_ids(topk_ids, num_experts))
        if not self.agent.routing_wanted():
            return
        ids, total, keep_ids = buffer(topk_ids, "int32")
        top_k = total // num_tokens
        weights, weight_total, keep_weights = (buffer(topk_weights, "float32") if topk_weights is not None
                                               else (None, total, None))
        if weight_total != total:
            raise ValueError(f"record_routing: {weight_total} weights for {total} expert ids")
        offset = self.token_offsets.get(layer, 0)
        for first in range(0, num_tokens, ROUTING_BATCH_TOKENS):
            n = min(ROUTING_BATCH_TOKENS, num_tokens - first)
            self.agent.router_decisions(layer, offset + first, n, top_k, ids + 4 * first * top_k,
                                        None if weights is None else weights + 4 * first * top_k)
        self.token_offsets[layer] = offset + num_tokens
        del keep_ids, keep_weights

    def issue_step(self):
        """The step an event that completes later (an async all-to-all) belongs to, taken when
        it is issued."""
        self.steps.before_record()
        return self.agent.current_step()

    def record_all_to_all(self, start_ns, end_ns, layer, phase, tid, peers, send_bytes, recv_bytes, step=None):
        if step is None:
            self.steps.before_record()
            step = _abi.STEP_CURRENT
        self.agent.all_to_all(start_ns, end_ns, step, layer, phase, tid, peers, send_bytes, recv_bytes)

    def record_compute(self, start_ns, end_ns, layer, kind, name=None):
        self.steps.before_record()
        self.agent.compute(start_ns, end_ns, _abi.STEP_CURRENT, layer, kind, 0, name)

    def record_compute_site(self, site, start_ns, end_ns):
        self.steps.before_record()
        self.agent.compute_at_site(site, start_ns, end_ns)


def counts_of_ids(topk_ids, num_experts):
    """Tokens per expert of top-k ids (negative ids count for no expert), at least num_experts
    entries: a tensor for a tensor (counted where it lies), else a list."""
    minlength = num_experts or 0
    if type(topk_ids).__module__.split(".")[0] == "torch":
        import torch

        flat = topk_ids.detach().reshape(-1)
        try:
            return torch.bincount(flat, minlength=minlength)
        except RuntimeError:  # negative ids (padding), or not integers
            flat = flat.long()
            return torch.bincount(flat[flat >= 0], minlength=minlength)
    flat = [int(i) for i in flatten(topk_ids.tolist() if hasattr(topk_ids, "tolist") else topk_ids)]
    tally = [0] * max(minlength, max(flat, default=-1) + 1)
    for expert in flat:
        if expert >= 0:
            tally[expert] += 1
    return tally


def _env_int(name, default):
    try:
        return int(os.environ[name])
    except (KeyError, ValueError):
        return default
