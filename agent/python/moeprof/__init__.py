"""moeprof's Python adapter: MoE events of Python engines into a moeprof trace.

Under `moeprof run` it loads into every Python process (through sitecustomize) and hooks
torch.distributed all-to-alls, the MoE layers of transformers and fairscale models and the
optimizer's steps on its own. The calls below are for everything else; all of them do
nothing when the process is not being recorded.

    import moeprof
    for step, batch in enumerate(batches):
        moeprof.step(step)
        for i, block in enumerate(moe_blocks):
            with moeprof.layer(i):
                ids, weights = block.route(x)              # [tokens, k]
                moeprof.record_routing(i, ids, weights)    # also records the per-expert counts
                with moeprof.all_to_all(phase="dispatch"):  # bytes of the torch.distributed
                    dist.all_to_all_single(out, inp, out_splits, in_splits)  # calls inside
                with moeprof.compute("expert"):
                    y = block.experts(out)
"""

import threading

from . import _abi
from ._autoload import install as _install
from ._autoload import runtime as _runtime

__all__ = ["enabled", "step", "layer", "phase", "record_counts", "record_routing", "all_to_all", "compute",
           "attach", "topology", "marker"]


def enabled():
    """True when this process is being recorded."""
    rt = _runtime()
    return rt is not None and rt.agent.enabled()


def step(number=None):
    """Ends the current step and begins the next (or step `number`). From the first call on,
    only these calls move steps (MOEPROF_PYTHON_STEP=explicit)."""
    rt = _runtime()
    if rt is not None:
        rt.steps.explicit(number)


class _Scope:
    """Something set now and put back by `with` (or left set without it)."""

    def __init__(self, restore):
        self._restore = restore

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._restore is not None:
            self._restore()
        return False


def layer(index):
    """The MoE layer of this thread's all-to-alls and compute spans from now on (the hooked
    layers of transformers and fairscale models set it themselves while they run). Used with
    `with`, the previous layer comes back at its end."""
    rt = _runtime()
    if rt is None:
        return _Scope(None)
    previous = rt.set_explicit_layer(int(index))
    return _Scope(lambda: rt.set_explicit_layer(previous))


def phase(name):
    """'dispatch', 'combine' or 'other': the phase of this thread's all-to-alls from now on,
    instead of the guess from their order in the layer; phase(None) guesses again."""
    rt = _runtime()
    if rt is None:
        return _Scope(None)
    state = rt.thread
    previous = state.phase
    state.phase = None if name is None else _abi.PHASES[name]
    return _Scope(lambda: setattr(state, "phase", previous))


def record_counts(layer, counts):
    """Tokens this process routed to each expert of `layer` in the current step (a sequence,
    NumPy array or tensor of num_experts integers); several calls add up."""
    rt = _runtime()
    if rt is not None and rt.agent.enabled():
        rt.record_counts(int(layer), counts)


def record_routing(layer, topk_ids, topk_weights=None, num_experts=None):
    """The top-k expert ids ([tokens, k]) and, optionally, their gate weights of a batch of
    tokens of `layer`. Records the per-expert counts they imply (do not also call
    record_counts for the same tokens) and, when the routing mode wants them, the decisions."""
    rt = _runtime()
    if rt is not None and rt.agent.enabled():
        rt.record_routing(int(layer), topk_ids, topk_weights, num_experts=num_experts)


class _AllToAllSpan:
    def __init__(self, rt, layer, phase_name, peers, send_bytes, recv_bytes):
        self._rt = rt
        self._layer = layer
        self._phase = phase_name
        self._given = (peers, send_bytes, recv_bytes) if send_bytes is not None else None
        self._bytes = {}  # peer -> [sent, received], from the calls inside
        self._outer = None

    def add(self, peers, send_bytes, recv_bytes):
        """Bytes of one all-to-all inside the span (peers None: ranks 0 .. n-1)."""
        for i, (sent, received) in enumerate(zip(send_bytes, recv_bytes)):
            totals = self._bytes.setdefault(peers[i] if peers is not None else i, [0, 0])
            totals[0] += sent
            totals[1] += received

    def __enter__(self):
        rt = self._rt
        if rt is None:
            return self
        state = rt.thread
        self._layer = state.layer if self._layer is None else int(self._layer)
        self._phase = rt.next_phase() if self._phase is None else _abi.PHASES[self._phase]
        self._tid = threading.get_native_id()
        self._outer, state.gatherer = state.gatherer, self
        self._start = rt.agent.now_ns()
        return self

    def __exit__(self, *exc):
        rt = self._rt
        if rt is None:
            return False
        end = rt.agent.now_ns()
        rt.thread.gatherer = self._outer
        if self._outer is not None:  # nested spans: the outermost one is the record
            for peer, (sent, received) in self._bytes.items():
                self._outer.add([peer], [sent], [received])
            return False
        if self._given is not None:
            peers, send, recv = self._given
        else:
            peers = sorted(self._bytes)
            send = [self._bytes[p][0] for p in peers]
            recv = [self._bytes[p][1] for p in peers]
        rt.guard("all_to_all span").run(rt.record_all_to_all, self._start, end, self._layer, self._phase,
                                        self._tid, peers, send, recv)
        return False


def all_to_all(layer=None, phase=None, peers=None, send_bytes=None, recv_bytes=None):
    """A context manager: one all-to-all from the start to the end of the `with` block, of
    `layer` (default: the thread's) and `phase` (default: guessed). Its bytes per peer are
    send_bytes / recv_bytes (peers: their global ranks, default 0 .. n-1) when given, else
    the sum of the torch.distributed all-to-alls made inside the block."""
    rt = _runtime()
    if rt is not None and not rt.agent.enabled():
        rt = None
    if send_bytes is not None and (recv_bytes is None or len(recv_bytes) != len(send_bytes)):
        raise ValueError("moeprof.all_to_all: send_bytes and recv_bytes need one entry per peer each")
    return _AllToAllSpan(rt, layer, phase, peers, send_bytes, recv_bytes)


class _ComputeSpan:
    def __init__(self, rt, kind, layer, name):
        self._rt, self._kind, self._layer, self._name = rt, _abi.COMPUTE_KINDS[kind], layer, name

    def __enter__(self):
        if self._rt is not None:
            self._layer = self._rt.thread.layer if self._layer is None else int(self._layer)
            self._start = self._rt.agent.now_ns()
        return self

    def __exit__(self, *exc):
        rt = self._rt
        if rt is not None:
            rt.guard("compute span").run(rt.record_compute, self._start, rt.agent.now_ns(), self._layer, self._kind,
                                         self._name)
        return False


def compute(kind="expert", layer=None, name=None):
    """A context manager: a compute span of `kind` (gate, expert, shared_expert, attention,
    other) over the `with` block, of `layer` (default: the thread's)."""
    rt = _runtime()
    if rt is not None and not rt.agent.enabled():
        rt = None
    return _ComputeSpan(rt, kind, layer, name)


def attach(model, config=None):
    """Hooks the MoE layers of any torch.nn.Module (found by structure, see
    moeprof/hooks/routers.py) as transformers models are hooked on their own; returns model."""
    rt = _runtime()
    if rt is not None:
        from .hooks.models import attach_model

        rt.guard("attach").run(attach_model, rt, model, config if config is not None else getattr(model, "config", None))
    return model


def topology(**fields):
    """The model shape and this process's place, for engines the hooks do not know: any of
    rank, local_rank, world_size, ep_size, num_layers, num_experts, top_k,
    num_shared_experts, hidden_size, model_name."""
    rt = _runtime()
    if rt is not None:
        rt.update_topology(**fields)
        if "num_experts" in fields:
            for layer in range(int(fields.get("num_layers", 0))):
                rt.declare_layer(layer, int(fields["num_experts"]), fields.get("top_k"))


def marker(name):
    """An instant event named `name`."""
    rt = _runtime()
    if rt is not None:
        rt.agent.mark("moeprof", str(name))


# Importing the package installs the adapter (once; nothing without an agent), so that a
# program Python starts without sitecustomize (python -S) is hooked all the same.
_install()
