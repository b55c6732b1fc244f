"""A stand-in for moeprof._abi.Agent that keeps every call, for unit tests of the adapter
without a collector. Its methods are those of the real Agent (a test checks they match)."""

import ctypes


class FakeAgent:
    def __init__(self, routing=True):
        self.calls = []
        self.routing = routing
        self.step = 0
        self.clock = 1000
        self.in_engine = False

    # ---- the Agent interface ------------------------------------------------------------
    def enabled(self):
        return True

    def now_ns(self):
        self.clock += 10
        return self.clock

    def current_step(self):
        return self.step

    def in_engine_all_to_all(self):
        return self.in_engine

    def routing_wanted(self):
        return self.routing

    def set_topology(self, **fields):
        self.calls.append(("topology", fields))

    def set_placement(self, layer, slot_expert, slot_rank):
        self.calls.append(("placement", layer, list(slot_expert), list(slot_rank)))

    def step_begin(self, step):
        self.step = step
        self.calls.append(("step_begin", step))

    def step_end(self, step):
        self.calls.append(("step_end", step))

    def expert_counts(self, layer, num_experts, counts_address):
        counts = list((ctypes.c_uint32 * num_experts).from_address(counts_address))
        self.calls.append(("counts", layer, counts))

    def router_decisions(self, layer, token_offset, num_tokens, top_k, ids_address, weights_address):
        ids = list((ctypes.c_int32 * (num_tokens * top_k)).from_address(ids_address))
        weights = (list((ctypes.c_float * (num_tokens * top_k)).from_address(weights_address))
                   if weights_address else None)
        self.calls.append(("routing", layer, token_offset, num_tokens, top_k, ids, weights))

    def all_to_all(self, start_ns, end_ns, step, layer, phase, tid, peers, send_bytes, recv_bytes):
        self.calls.append(("a2a", layer, phase, None if peers is None else list(peers), list(send_bytes),
                           list(recv_bytes), start_ns, end_ns, step))

    def compute(self, start_ns, end_ns, step, layer, kind, tid, name):
        self.calls.append(("compute", layer, kind, name, start_ns, end_ns))

    def compute_site(self, layer, kind, name):
        return (layer, kind, name)

    def compute_at_site(self, site, start_ns, end_ns):
        self.compute(start_ns, end_ns, None, site[0], site[1], 0, site[2])

    def mark(self, domain, name, payload=None):
        self.calls.append(("mark", domain, name))

    # ---- for the tests ------------------------------------------------------------------
    def of(self, kind):
        return [c for c in self.calls if c[0] == kind]
