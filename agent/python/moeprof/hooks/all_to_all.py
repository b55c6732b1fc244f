"""torch.distributed.all_to_all_single and all_to_all: one all-to-all record per call, with
the bytes sent to and received from every peer (world ranks of the call's process group)
computed from the tensors and split sizes, the layer of the calling thread and a phase that
is explicit or guessed from the order within the layer.

Inside an explicit `moeprof.all_to_all(...)` span the call adds its bytes to that span instead
of making a record of its own; inside an all-to-all the engine reports through the C API it
stays out (the engine's record already holds the bytes)."""

import functools
import threading

_group_ranks = {}  # id(group) -> (group, world ranks); groups live as long as the program


def group_ranks(dist, group):
    """The world ranks of `group`'s members in group-rank order; None for the default group
    (whose ranks are the world's own)."""
    if group is None or group is dist.group.WORLD:
        return None
    entry = _group_ranks.get(id(group))
    if entry is None or entry[0] is not group:
        entry = _group_ranks[id(group)] = (group, list(dist.get_process_group_ranks(group)))
    return entry[1]


def _ranks_of(dist, group):
    ranks = group_ranks(dist, group)
    return ranks, len(ranks) if ranks is not None else dist.get_world_size()


def split_bytes(tensor, split_sizes, peers):
    """Bytes per peer of one side of all_to_all_single: rows given by split_sizes, or equal."""
    total = tensor.numel() * tensor.element_size()
    if not split_sizes:
        return [total // peers] * peers
    row_bytes = total // tensor.shape[0] if tensor.dim() > 0 and tensor.shape[0] > 0 else 0
    if row_bytes == 0 and tensor.dim() > 0:
        row_elements = 1
        for size in tensor.shape[1:]:
            row_elements *= int(size)
        row_bytes = row_elements * tensor.element_size()
    return [int(rows) * row_bytes for rows in split_sizes]


def list_bytes(tensors):
    return [t.numel() * t.element_size() for t in tensors]


class _Call:
    """One all-to-all between its issue and its completion."""

    __slots__ = ("layer", "phase", "guessed", "start_ns", "tid", "step", "peers", "send", "recv")


def install(dist, runtime):
    guard = runtime.guard("torch.distributed all-to-all")
    agent = runtime.agent

    def begin(send, recv, group):
        peers, world = _ranks_of(dist, group)
        send_bytes, recv_bytes = send(world), recv(world)
        state = runtime.thread
        if state.gatherer is not None:
            state.gatherer.add(peers, send_bytes, recv_bytes)
            return None
        if agent.in_engine_all_to_all() or not agent.enabled():
            return None
        call = _Call()
        call.guessed = runtime.guesses_phase()
        call.layer, call.phase = state.layer, runtime.next_phase()
        call.tid = threading.get_native_id()
        call.step = runtime.issue_step()
        call.peers, call.send, call.recv = peers, send_bytes, recv_bytes
        call.start_ns = agent.now_ns()
        return call

    def finish(call, end_ns=None):
        runtime.record_all_to_all(call.start_ns, end_ns if end_ns is not None else agent.now_ns(), call.layer,
                                  call.phase, call.tid, call.peers, call.send, call.recv, step=call.step)

    def end(call, result, async_op):
        if not async_op:
            finish(call)
            return
        # An async all-to-all ends when its work completes: record it from the future's callback
        # (which returns None into a future nobody waits on; the caller's work is untouched).
        try:
            result.get_future().then(lambda future: guard.run(finish, call))
        except (AttributeError, RuntimeError):
            runtime.note("this backend's async all-to-all has no future: such all-to-alls end when issued",
                         once_key="async-no-future")
            finish(call)

    def issue(call, original, args, async_op):
        """The original call, between its record's begin (made: `call`) and end."""
        try:
            result = original(*args)
        except BaseException:
            if call is not None and call.guessed:
                guard.run(runtime.take_back_phase_guess)
            raise
        if call is not None:
            guard.run(end, call, result, async_op)
        return result

    original_single = dist.all_to_all_single
    original_list = dist.all_to_all

    @functools.wraps(original_single)
    def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None, group=None,
                          async_op=False):
        call = guard.run(begin, lambda world: split_bytes(input, input_split_sizes, world),
                         lambda world: split_bytes(output, output_split_sizes, world), group)
        return issue(call, original_single, (output, input, output_split_sizes, input_split_sizes, group, async_op),
                     async_op)

    @functools.wraps(original_list)
    def all_to_all(output_tensor_list, input_tensor_list, group=None, async_op=False):
        call = guard.run(begin, lambda world: list_bytes(input_tensor_list),
                         lambda world: list_bytes(output_tensor_list), group)
        return issue(call, original_list, (output_tensor_list, input_tensor_list, group, async_op), async_op)

    for module in (dist, dist.distributed_c10d):
        module.all_to_all_single = all_to_all_single
        module.all_to_all = all_to_all
