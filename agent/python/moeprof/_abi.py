"""The agent's C ABI (agent/include/moeprof/moeprof.h, version 3) through ctypes.

The only module that touches C. The agent is normally in the process already (`moeprof run`
preloads libmoeprof_agent.so), so its symbols are looked up in the process itself; outside
`moeprof run` MOEPROF_AGENT_LIBRARY may name the library. Without an agent every call here
is a no-op and `agent()` returns None.
"""

import ctypes
import os

API_VERSION = 3

SOURCE_PYTHON = 5  # moeprof_source

PHASE_DISPATCH, PHASE_COMBINE, PHASE_OTHER = 0, 1, 2
PHASES = {"dispatch": PHASE_DISPATCH, "combine": PHASE_COMBINE, "other": PHASE_OTHER}

COMPUTE_KINDS = {"gate": 0, "expert": 1, "shared_expert": 2, "attention": 3, "other": 4}

RANGE_MARK = 2  # moeprof_range_kind
STEP_CURRENT = -(2**63)

class InitOptions(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("api_version", ctypes.c_uint32),
                ("socket_path", ctypes.c_char_p), ("routing_mode", ctypes.c_int32),
                ("routing_sample_every", ctypes.c_uint32)]


class Topology(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("rank", ctypes.c_int32), ("local_rank", ctypes.c_int32),
                ("world_size", ctypes.c_int32), ("ep_size", ctypes.c_int32), ("num_layers", ctypes.c_int32),
                ("num_experts", ctypes.c_int32), ("top_k", ctypes.c_int32),
                ("num_shared_experts", ctypes.c_int32), ("hidden_size", ctypes.c_int32),
                ("model_name", ctypes.c_char_p)]


class PeerBytes(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("num_peers", ctypes.c_uint32), ("peers", ctypes.c_void_p),
                ("send_bytes", ctypes.c_void_p), ("recv_bytes", ctypes.c_void_p)]


class AllToAllEvent(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("source", ctypes.c_int32), ("start_ns", ctypes.c_int64),
                ("end_ns", ctypes.c_int64), ("step", ctypes.c_int64), ("layer", ctypes.c_int32),
                ("phase", ctypes.c_int32), ("tid", ctypes.c_uint32), ("reserved", ctypes.c_uint32),
                ("bytes", ctypes.POINTER(PeerBytes))]


class ComputeEvent(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("source", ctypes.c_int32), ("start_ns", ctypes.c_int64),
                ("end_ns", ctypes.c_int64), ("step", ctypes.c_int64), ("layer", ctypes.c_int32),
                ("kind", ctypes.c_int32), ("tid", ctypes.c_uint32), ("reserved", ctypes.c_uint32),
                ("name", ctypes.c_char_p)]


class Range(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("source", ctypes.c_int32), ("start_ns", ctypes.c_int64),
                ("end_ns", ctypes.c_int64), ("step", ctypes.c_int64), ("tid", ctypes.c_uint32),
                ("kind", ctypes.c_int32), ("category", ctypes.c_uint32), ("color", ctypes.c_uint32),
                ("domain", ctypes.c_char_p), ("name", ctypes.c_char_p), ("payload", ctypes.c_char_p)]


class Agent:
    """The agent's entry points the adapter uses, typed. Every method is safe to call at any
    time; the agent itself turns them into no-ops while it is not recording."""

    # name: (restype, argtypes)
    _SIGNATURES = {
        "moeprof_init": (ctypes.c_int, [ctypes.POINTER(InitOptions)]),
        "moeprof_enabled": (ctypes.c_int, []),
        "moeprof_set_topology": (None, [ctypes.POINTER(Topology)]),
        "moeprof_set_placement": (None, [ctypes.c_int32, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_void_p]),
        "moeprof_step_begin": (None, [ctypes.c_int64]),
        "moeprof_step_end": (None, [ctypes.c_int64]),
        "moeprof_routing_wanted": (ctypes.c_int, []),
        "moeprof_source_expert_counts": (None, [ctypes.c_int, ctypes.c_int32, ctypes.c_uint32, ctypes.c_void_p]),
        "moeprof_source_router_decisions": (None, [ctypes.c_int, ctypes.c_int32, ctypes.c_uint32, ctypes.c_uint32,
                                                   ctypes.c_uint32, ctypes.c_void_p, ctypes.c_void_p]),
        "moeprof_record_all_to_all": (None, [ctypes.POINTER(AllToAllEvent)]),
        "moeprof_record_compute": (None, [ctypes.POINTER(ComputeEvent)]),
        "moeprof_record_range": (None, [ctypes.POINTER(Range)]),
        "moeprof_now_ns": (ctypes.c_int64, []),
        "moeprof_current_step": (ctypes.c_int64, []),
        "moeprof_in_engine_all_to_all": (ctypes.c_int, []),
    }

    def __init__(self, library):
        for name, (restype, argtypes) in self._SIGNATURES.items():
            function = getattr(library, name)
            function.restype = restype
            function.argtypes = argtypes
            setattr(self, "_" + name[len("moeprof_"):], function)
        options = InitOptions(ctypes.sizeof(InitOptions), API_VERSION, None, -1, 0)
        self.init_status = self._init(ctypes.byref(options))

    def enabled(self):
        return self._enabled() != 0

    def now_ns(self):
        return self._now_ns()

    def current_step(self):
        return self._current_step()

    def in_engine_all_to_all(self):
        return self._in_engine_all_to_all() != 0

    def routing_wanted(self):
        return self._routing_wanted() != 0

    def set_topology(self, rank=-1, local_rank=-1, world_size=-1, ep_size=-1, num_layers=-1, num_experts=-1,
                     top_k=-1, num_shared_experts=-1, hidden_size=-1, model_name=None):
        topology = Topology(ctypes.sizeof(Topology), rank, local_rank, world_size, ep_size, num_layers, num_experts,
                            top_k, num_shared_experts, hidden_size,
                            model_name.encode("utf-8", "replace") if model_name else None)
        self._set_topology(ctypes.byref(topology))

    def set_placement(self, layer, slot_expert, slot_rank):
        experts = (ctypes.c_int32 * len(slot_expert))(*slot_expert)
        ranks = (ctypes.c_int32 * len(slot_rank))(*slot_rank)
        self._set_placement(layer, len(slot_expert), experts, ranks)

    def step_begin(self, step):
        self._step_begin(step)

    def step_end(self, step):
        self._step_end(step)

    def expert_counts(self, layer, num_experts, counts_address):
        """counts_address: num_experts contiguous 32-bit unsigned counts."""
        self._source_expert_counts(SOURCE_PYTHON, layer, num_experts, counts_address)

    def router_decisions(self, layer, token_offset, num_tokens, top_k, ids_address, weights_address):
        """ids_address: num_tokens*top_k int32 (token-major); weights_address: as many float32, or None."""
        self._source_router_decisions(SOURCE_PYTHON, layer, token_offset, num_tokens, top_k, ids_address,
                                      weights_address)

    def all_to_all(self, start_ns, end_ns, step, layer, phase, tid, peers, send_bytes, recv_bytes):
        """peers: global ranks (None: 0 .. n-1); send_bytes / recv_bytes: n byte counts each."""
        n = len(send_bytes)
        # Locals keep the arrays alive through the call: PeerBytes holds bare addresses.
        send = (ctypes.c_uint64 * n)(*send_bytes)
        recv = (ctypes.c_uint64 * n)(*recv_bytes)
        ranks = (ctypes.c_int32 * n)(*peers) if peers is not None else None
        peer_bytes = PeerBytes(ctypes.sizeof(PeerBytes), n, ctypes.addressof(ranks) if ranks is not None else None,
                               ctypes.addressof(send), ctypes.addressof(recv))
        event = AllToAllEvent(ctypes.sizeof(AllToAllEvent), SOURCE_PYTHON, start_ns, end_ns, step, layer, phase, tid,
                              0, ctypes.pointer(peer_bytes))
        self._record_all_to_all(ctypes.byref(event))

    def compute(self, start_ns, end_ns, step, layer, kind, tid, name):
        event = ComputeEvent(ctypes.sizeof(ComputeEvent), SOURCE_PYTHON, start_ns, end_ns, step, layer, kind, tid, 0,
                             name.encode("utf-8", "replace") if name else None)
        self._record_compute(ctypes.byref(event))

    def compute_site(self, layer, kind, name):
        """A compute span record prepared once for a place that records many (a hooked module)."""
        return ComputeEvent(ctypes.sizeof(ComputeEvent), SOURCE_PYTHON, 0, 0, STEP_CURRENT, layer, kind, 0, 0,
                            name.encode("utf-8", "replace") if name else None)

    def compute_at_site(self, site, start_ns, end_ns):
        """One span of `site` (not for two threads at once: it is one record being filled)."""
        site.start_ns = start_ns
        site.end_ns = end_ns
        self._record_compute(ctypes.byref(site))

    def mark(self, domain, name, payload=None):
        now = self._now_ns()
        mark = Range(ctypes.sizeof(Range), SOURCE_PYTHON, now, now, STEP_CURRENT, 0, RANGE_MARK, 0, 0,
                     domain.encode(), name.encode("utf-8", "replace"),
                     payload.encode("utf-8", "replace") if payload else None)
        self._record_range(ctypes.byref(mark))


_agent = None
_looked_up = False


def agent():
    """The agent of this process, or None (not preloaded, not found, or too old)."""
    global _agent, _looked_up
    if _looked_up:
        return _agent
    _looked_up = True
    try:
        library = ctypes.PyDLL(None)  # the process itself: the preloaded agent's symbols
        getattr(library, "moeprof_record_range")
    except (OSError, AttributeError):
        path = os.environ.get("MOEPROF_AGENT_LIBRARY")
        if not path:
            return None
        try:
            library = ctypes.PyDLL(path)
        except OSError:
            return None
    try:
        candidate = Agent(library)
    except AttributeError:  # an agent older than API version 3
        return None
    # Not recording (MOEPROF_DISABLE, no collector, a version mismatch): the adapter stays out.
    _agent = candidate if candidate.init_status == 0 else None
    return _agent
