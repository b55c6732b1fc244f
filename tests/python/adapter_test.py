"""Unit tests of the Python adapter (agent/python/moeprof) against a fake agent.

    python adapter_test.py --package BUILD/lib/python --abi-layout BUILD/bin/moeprof_abi_layout

The package folder is the one `moeprof run` puts on PYTHONPATH; the layout program prints the
C ABI's struct layouts, which the ctypes declarations must match field for field.
"""

import argparse
import ctypes
import io
import json
import os
import subprocess
import sys
import types
import unittest

parser = argparse.ArgumentParser()
parser.add_argument("--package", required=True)
parser.add_argument("--abi-layout", required=True)
ARGS, UNITTEST_ARGS = parser.parse_known_args()
sys.path.insert(0, ARGS.package)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

from fake_agent import FakeAgent  # noqa: E402
from moeprof import _abi, _import_hooks, _report  # noqa: E402
from moeprof._runtime import Runtime  # noqa: E402
from moeprof._settings import Settings, SettingsError, parse_hooks, parse_step_mode  # noqa: E402
from moeprof.hooks import all_to_all, models, routers  # noqa: E402

DISPATCH, COMBINE, OTHER = _abi.PHASE_DISPATCH, _abi.PHASE_COMBINE, _abi.PHASE_OTHER


def make_runtime(environ=None, routing=True):
    agent = FakeAgent(routing=routing)
    runtime = Runtime(agent, Settings(environ or {}))
    runtime.reporter.stream = io.StringIO()
    return runtime, agent


class AbiLayout(unittest.TestCase):
    def test_ctypes_structs_match_the_c_header(self):
        layout = json.loads(subprocess.run([ARGS.abi_layout], check=True, capture_output=True, text=True).stdout)
        constants = layout.pop("constants")
        for name, c in layout.items():
            struct = getattr(_abi, name)
            self.assertEqual(ctypes.sizeof(struct), c["size"], name)
            self.assertEqual([f[0] for f in struct._fields_], list(c["fields"]), name)
            for field, offset in c["fields"].items():
                self.assertEqual(getattr(struct, field).offset, offset, f"{name}.{field}")
        self.assertEqual(_report.NOTE_DOMAIN, constants.pop("NOTE_DOMAIN"))
        for name, value in constants.items():
            self.assertEqual(getattr(_abi, name), value, name)

    def test_fake_agent_has_the_real_agents_methods(self):
        real = {n for n in vars(_abi.Agent) if not n.startswith("_")}
        fake = {n for n in vars(FakeAgent) if not n.startswith("_")} - {"of", "calls"}
        self.assertEqual(real, fake)


class SettingsTest(unittest.TestCase):
    def test_hooks(self):
        self.assertEqual(parse_hooks("all,-compute"), {"all_to_all", "routers", "fairscale", "optimizer"})
        self.assertEqual(parse_hooks("none,routers"), {"routers"})
        with self.assertRaisesRegex(SettingsError, "unknown hook 'nccl'"):
            parse_hooks("all,nccl")

    def test_step_modes(self):
        self.assertEqual(parse_step_mode("forward:MixtralForCausalLM"), ("forward", "MixtralForCausalLM"))
        self.assertEqual(parse_step_mode("optimizer"), ("optimizer", None))
        for bad in ("forward:", "layer0:x", "epoch"):
            with self.assertRaises(SettingsError, msg=bad):
                parse_step_mode(bad)


class StepsTest(unittest.TestCase):
    def steps(self, agent):
        return [c for c in agent.calls if c[0] in ("step_begin", "step_end")]

    def test_optimizer_mode_opens_lazily_and_counts_empty_steps(self):
        runtime, agent = make_runtime({"MOEPROF_PYTHON_STEP": "optimizer"})
        runtime.record_counts(0, [1, 2])
        runtime.steps.optimizer_stepped()
        runtime.steps.optimizer_stepped()  # nothing recorded in step 1: it still counts
        runtime.record_counts(0, [3])
        runtime.steps.finish()
        self.assertEqual(self.steps(agent), [("step_begin", 0), ("step_end", 0), ("step_begin", 1), ("step_end", 1),
                                             ("step_begin", 2), ("step_end", 2)])

    def test_auto_prefers_optimizer_then_forward_then_layer0(self):
        runtime, agent = make_runtime()
        steps = runtime.steps
        self.assertEqual(steps.effective_mode(), "layer0")
        runtime.enter_layer(1)
        self.assertEqual(self.steps(agent), [])
        runtime.enter_layer(0)
        runtime.enter_layer(0)
        self.assertEqual(self.steps(agent), [("step_begin", 0), ("step_end", 0), ("step_begin", 1)])
        steps.roots_attached = True
        self.assertEqual(steps.effective_mode(), "forward")
        steps.optimizer_created()
        self.assertEqual(steps.effective_mode(), "optimizer")

    def test_explicit_step_takes_over(self):
        runtime, agent = make_runtime()
        runtime.steps.explicit(5)
        runtime.enter_layer(0)  # would begin a step in layer0 mode
        runtime.steps.explicit()
        self.assertEqual(self.steps(agent), [("step_begin", 5), ("step_end", 5), ("step_begin", 6)])

    def test_forward_of_a_named_class(self):
        from moeprof.hooks import step_class
        import torch.nn.modules.module as module_hooks

        class Block(torch.nn.Module):
            def __init__(self, inner=None):
                super().__init__()
                self.inner = inner
                self.linear = torch.nn.Linear(2, 2)

            def forward(self, x):
                return self.linear(self.inner(x) if self.inner is not None else x)

        runtime, agent = make_runtime({"MOEPROF_PYTHON_STEP": "forward:Block"})
        step_class.install(module_hooks, runtime)  # global module hooks: they stay, harmless elsewhere
        model = Block(Block())  # a Block inside a Block: only the outermost makes a step
        model(torch.zeros(1, 2))
        torch.nn.Linear(2, 2)(torch.zeros(1, 2))  # another class: no step
        model(torch.zeros(1, 2))
        self.assertEqual(self.steps(agent), [("step_begin", 0), ("step_end", 0), ("step_begin", 1), ("step_end", 1)])

    def test_token_offsets_restart_each_step(self):
        runtime, agent = make_runtime({"MOEPROF_PYTHON_STEP": "explicit"})
        runtime.steps.explicit()
        runtime.record_routing(2, [[0, 1], [1, 2]], [[0.5, 0.5], [0.7, 0.3]], num_experts=4)
        runtime.record_routing(2, [[3, 0]], None, num_experts=4)
        runtime.steps.explicit()
        runtime.record_routing(2, [[1, 1]], None, num_experts=4)
        self.assertEqual([c[2] for c in agent.of("routing")], [0, 2, 0])
        self.assertEqual(agent.of("counts"), [("counts", 2, [1, 2, 1, 0]), ("counts", 2, [1, 0, 0, 1]),
                                              ("counts", 2, [0, 2, 0, 0])])


class CountsOfIds(unittest.TestCase):
    def test_tensors_arrays_and_lists_with_padding(self):
        from moeprof._runtime import counts_of_ids

        ids = [[0, 2], [2, -1], [4, 0]]  # -1: a slot with no expert (dropped, padding)
        expected = [2, 0, 2, 0, 1, 0]
        self.assertEqual(counts_of_ids(torch.tensor(ids), 6).tolist(), expected)
        self.assertEqual(counts_of_ids(torch.tensor(ids, dtype=torch.int32), 6).tolist(), expected)
        self.assertEqual(counts_of_ids(ids, 6), expected)
        self.assertEqual(counts_of_ids(ids, None), expected[:5])  # as many as the ids reach
        import numpy

        self.assertEqual(counts_of_ids(numpy.array(ids), 6), expected)


class PhasesAndBytes(unittest.TestCase):
    def test_phase_guess_within_a_layer(self):
        runtime, _ = make_runtime()
        self.assertEqual(runtime.next_phase(), OTHER)  # no layer: no guess
        runtime.enter_layer(3)
        self.assertEqual([runtime.next_phase() for _ in range(3)], [DISPATCH, COMBINE, OTHER])
        runtime.enter_layer(4)
        self.assertEqual(runtime.next_phase(), DISPATCH)
        runtime.thread.phase = COMBINE
        self.assertEqual(runtime.next_phase(), COMBINE)

    def test_split_bytes(self):
        x = torch.zeros(6, 4, dtype=torch.float16)  # 8 bytes a row
        self.assertEqual(all_to_all.split_bytes(x, None, 3), [16, 16, 16])
        self.assertEqual(all_to_all.split_bytes(x, [1, 0, 5], 3), [8, 0, 40])
        self.assertEqual(all_to_all.split_bytes(torch.zeros(0, 4), [0, 0], 2), [0, 0])
        self.assertEqual(all_to_all.list_bytes([torch.zeros(2, dtype=torch.int64), torch.zeros(3)]), [16, 12])


def fake_dist(world=4, ranks=None):
    """Just enough of torch.distributed for the all-to-all hook."""
    dist = types.SimpleNamespace()
    dist.group = types.SimpleNamespace(WORLD=object())
    dist.get_world_size = lambda group=None: world
    dist.get_process_group_ranks = lambda group: ranks
    dist.issued = []
    dist.all_to_all_single = lambda out, inp, osz=None, isz=None, group=None, async_op=False: dist.issued.append(
        (out, inp, osz, isz, group, async_op))
    dist.all_to_all = lambda outs, ins, group=None, async_op=False: dist.issued.append((outs, ins, group, async_op))
    dist.distributed_c10d = types.SimpleNamespace()
    return dist


class AllToAllHook(unittest.TestCase):
    def test_records_bytes_layer_and_phase(self):
        runtime, agent = make_runtime()
        dist = fake_dist(world=2, ranks=[4, 6])
        all_to_all.install(dist, runtime)
        group = object()
        runtime.enter_layer(1)
        out, inp = torch.zeros(5, 2), torch.zeros(3, 2)
        dist.all_to_all_single(out, inp, [2, 3], [1, 2], group=group)
        dist.all_to_all([torch.zeros(1), torch.zeros(2)], [torch.zeros(3), torch.zeros(4)])
        self.assertEqual(len(dist.issued), 2)  # the originals ran, with their arguments
        self.assertEqual(dist.issued[0], (out, inp, [2, 3], [1, 2], group, False))
        a2a = agent.of("a2a")
        self.assertEqual([c[1:6] for c in a2a], [(1, DISPATCH, [4, 6], [8, 16], [16, 24]),
                                                 (1, COMBINE, None, [12, 16], [4, 8])])

    def test_a_call_that_raises_leaves_the_phase_order_alone(self):
        runtime, agent = make_runtime()
        dist = fake_dist(world=2)

        def unsupported(*args):
            raise RuntimeError("ProcessGroup gloo does not support alltoall")

        dist.all_to_all = unsupported
        all_to_all.install(dist, runtime)
        runtime.enter_layer(0)
        with self.assertRaisesRegex(RuntimeError, "does not support"):
            dist.all_to_all([torch.zeros(1)] * 2, [torch.zeros(1)] * 2)
        dist.all_to_all_single(torch.zeros(2), torch.zeros(2))  # the program's fallback
        dist.all_to_all_single(torch.zeros(2), torch.zeros(2))
        self.assertEqual([c[2] for c in agent.of("a2a")], [DISPATCH, COMBINE])

    def test_inside_an_engine_all_to_all_stays_out(self):
        runtime, agent = make_runtime()
        dist = fake_dist()
        all_to_all.install(dist, runtime)
        agent.in_engine = True
        dist.all_to_all_single(torch.zeros(4), torch.zeros(4))
        self.assertEqual(agent.of("a2a"), [])

    def test_explicit_span_gathers_the_calls_inside(self):
        import moeprof
        from moeprof import _autoload

        runtime, agent = make_runtime()
        dist = fake_dist(world=2)
        all_to_all.install(dist, runtime)
        saved = _autoload._runtime, _autoload._installed
        _autoload._runtime, _autoload._installed = runtime, True
        try:
            with moeprof.layer(7), moeprof.all_to_all(phase="combine"):
                dist.all_to_all_single(torch.zeros(4), torch.zeros(4))
                dist.all_to_all_single(torch.zeros(2), torch.zeros(6), [1, 1], [1, 5])
            self.assertEqual(runtime.thread.layer, -1)  # `with layer(7)` put the old one back
            with moeprof.all_to_all(layer=2, phase="dispatch", peers=[0, 1], send_bytes=[1, 2], recv_bytes=[3, 4]):
                pass
        finally:
            _autoload._runtime, _autoload._installed = saved
        self.assertEqual([c[1:6] for c in agent.of("a2a")], [(7, COMBINE, [0, 1], [8 + 4, 8 + 20], [8 + 4, 8 + 4]),
                                                             (2, DISPATCH, [0, 1], [1, 2], [3, 4])])


def tiny_mixtral(layers=2):
    from transformers import MixtralConfig, MixtralForCausalLM

    torch.manual_seed(0)
    config = MixtralConfig(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=layers,
                           num_attention_heads=2, num_key_value_heads=1, num_local_experts=4,
                           num_experts_per_tok=2, max_position_embeddings=32)
    return MixtralForCausalLM(config).eval()


class ToyRouter(torch.nn.Module):
    """Routes itself and returns (weights, top-k ids), like DBRX's router."""

    def __init__(self, hidden, experts, k):
        super().__init__()
        self.layer = torch.nn.Linear(hidden, experts, bias=False)
        self.k = k

    def forward(self, x):
        scores = self.layer(x).softmax(-1)
        weights, ids = scores.topk(self.k, dim=-1)
        return weights, ids


class ToyMoE(torch.nn.Module):
    def __init__(self, hidden=8, experts=5, k=2):
        super().__init__()
        self.router = ToyRouter(hidden, experts, k)
        self.experts = torch.nn.ModuleDict({str(e): torch.nn.Linear(hidden, hidden) for e in range(experts)})

    def forward(self, x):
        weights, ids = self.router(x)
        out = torch.zeros_like(x)
        for slot in range(ids.shape[1]):
            for e, expert in self.experts.items():
                rows = ids[:, slot] == int(e)
                out[rows] += weights[rows, slot, None] * expert(x[rows])
        return out


class RouterDiscovery(unittest.TestCase):
    def test_finds_mixtral_blocks_not_attention_or_decoder_lists(self):
        model = tiny_mixtral(layers=3)
        blocks = routers.find_moe_blocks(model)
        self.assertEqual([b.name for b in blocks], [f"model.layers.{i}.block_sparse_moe" for i in range(3)])
        self.assertTrue(all(b.router is b.module.gate for b in blocks))

    def test_a_dense_model_has_none(self):
        from transformers import LlamaConfig, LlamaForCausalLM

        config = LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=4,
                             num_attention_heads=2, num_key_value_heads=1)
        self.assertEqual(routers.find_moe_blocks(LlamaForCausalLM(config)), [])

    def test_derived_top_k_equals_mixtrals_own(self):
        model = tiny_mixtral()
        block = routers.find_moe_blocks(model)[0]
        spec = routers.router_spec(0, block, model.config)
        self.assertEqual((spec.num_experts, spec.top_k, spec.scoring, spec.renormalise), (4, 2, "softmax", True))
        x = torch.randn(1, 24, 16)
        with torch.no_grad():
            _, logits = block.module(x)
            ids, weights, problem = routers.routing_from_output(logits, spec)
        self.assertIsNone(problem)
        # Mixtral's own selection, recomputed from its code's steps.
        expected_weights, expected_ids = torch.topk(torch.softmax(logits, dim=1, dtype=torch.float), 2, dim=-1)
        self.assertTrue(torch.equal(ids, expected_ids))
        self.assertTrue(torch.equal(weights, expected_weights / expected_weights.sum(-1, keepdim=True)))

    def test_qwen2_moe_keeps_its_unnormalised_weights(self):
        from transformers import Qwen2MoeConfig
        from transformers.models.qwen2_moe.modeling_qwen2_moe import Qwen2MoeSparseMoeBlock

        config = Qwen2MoeConfig(hidden_size=16, moe_intermediate_size=8, shared_expert_intermediate_size=8,
                                num_experts=6, num_experts_per_tok=3, norm_topk_prob=False)
        block = routers.find_moe_blocks(Qwen2MoeSparseMoeBlock(config))[0]
        spec = routers.router_spec(0, block, config)
        self.assertEqual((spec.num_experts, spec.top_k, spec.renormalise), (6, 3, False))

    def test_a_router_that_selects_itself_is_taken_at_its_word(self):
        moe = ToyMoE()
        block = routers.find_moe_blocks(moe)[0]
        self.assertIs(block.router, moe.router)
        spec = routers.router_spec(0, block, None)
        x = torch.randn(10, 8)
        weights, ids = moe.router(x)
        got_ids, got_weights, problem = routers.routing_from_output((weights, ids), spec)
        self.assertIsNone(problem)
        self.assertTrue(torch.equal(got_ids, ids) and torch.equal(got_weights, weights))

    def test_an_unknown_router_output_is_noted_once_and_not_recorded(self):
        runtime, agent = make_runtime()
        moe = ToyMoE()
        moe.router.forward = lambda x: ("no", "tensors")  # noqa: E731 - a router we cannot read
        moe.forward = lambda x: (moe.router(x), x)[1]  # noqa: E731
        models.attach_model(runtime, moe)
        for _ in range(3):
            moe(torch.randn(4, 8))
        self.assertEqual(agent.of("counts"), [])
        notes = [c for c in agent.of("mark") if "not recorded" in c[2]]
        self.assertEqual(len(notes), 1, notes)


class AttachAndGuard(unittest.TestCase):
    def test_counts_routing_topology_and_steps_of_an_attached_model(self):
        runtime, agent = make_runtime()
        model = tiny_mixtral(layers=2)
        models.attach_model(runtime, model.model, model.config)  # inner model first, as post_init does
        models.attach_model(runtime, model, model.config)
        tokens = torch.randint(0, 64, (2, 5))
        with torch.no_grad():
            out = model(tokens, output_router_logits=True)
            model(tokens)
        counts = agent.of("counts")
        self.assertEqual([c[1] for c in counts], [0, 1, 0, 1])
        for layer, logits in enumerate(out.router_logits):
            ids = torch.topk(torch.softmax(logits, dim=1, dtype=torch.float), 2, dim=-1).indices
            self.assertEqual(counts[layer][2], torch.bincount(ids.reshape(-1), minlength=4).tolist())
        self.assertEqual([c[0:2] for c in agent.calls if c[0].startswith("step")],
                         [("step_begin", 0), ("step_end", 0), ("step_begin", 1), ("step_end", 1)])
        topology = agent.of("topology")[-1][1]
        self.assertEqual((topology["num_layers"], topology["num_experts"], topology["top_k"],
                          topology["hidden_size"], topology["model_name"]), (2, 4, 2, 16, "mixtral"))
        kinds = {(c[2], c[3]) for c in agent.of("compute")}
        self.assertIn((_abi.COMPUTE_KINDS["gate"], "gate"), kinds)
        self.assertTrue(any(k == _abi.COMPUTE_KINDS["expert"] for k, _ in kinds))

    def test_a_failing_hook_turns_itself_off_and_changes_nothing(self):
        runtime, agent = make_runtime()
        model = tiny_mixtral()
        tokens = torch.randint(0, 64, (1, 7))
        with torch.no_grad():
            expected = model(tokens).logits
        models.attach_model(runtime, model, model.config)
        calls = []

        def broken(*args, **kwargs):
            calls.append(1)
            raise RuntimeError("boom")

        runtime.record_routing = broken
        with torch.no_grad():
            first = model(tokens).logits
            second = model(tokens).logits
        self.assertTrue(torch.equal(first, expected) and torch.equal(second, expected))
        self.assertEqual(len(calls), 1)  # off after the first failure
        notes = [c[2] for c in agent.of("mark") if "router hook failed" in c[2]]
        self.assertEqual(len(notes), 1, agent.of("mark"))
        self.assertIn("RuntimeError: boom", notes[0])
        self.assertIn("router hook failed", runtime.reporter.stream.getvalue())

    def test_a_dense_model_gets_a_note(self):
        from transformers import LlamaConfig, LlamaForCausalLM

        runtime, agent = make_runtime()
        config = LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                             num_attention_heads=2, num_key_value_heads=1)
        model = LlamaForCausalLM(config)
        models.attach_model(runtime, model.model, config)
        models.attach_model(runtime, model, config)
        notes = [c[2] for c in agent.of("mark")]
        self.assertEqual(len(notes), 1)
        self.assertIn("no MoE layer found in LlamaModel (llama)", notes[0])
        self.assertEqual(agent.of("topology"), [])


class ImportHooks(unittest.TestCase):
    def test_runs_after_import_or_at_once(self):
        seen = []
        self.assertNotIn("colorsys", sys.modules)
        _import_hooks.when_imported("colorsys", lambda m: seen.append(m.rgb_to_hsv is not None))
        self.assertEqual(seen, [])
        import colorsys

        self.assertEqual(seen, [True])
        self.assertIs(colorsys.__loader__, colorsys.__spec__.loader)
        self.assertNotIsInstance(colorsys.__loader__, _import_hooks._Loader)
        _import_hooks.when_imported("colorsys", lambda m: seen.append("again"))
        self.assertEqual(seen, [True, "again"])


class Sitecustomize(unittest.TestCase):
    def run_python(self, code, extra_path, env_extra=None):
        env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "MOEPROF_SOCKET", "PYTHONPATH")}
        env["PYTHONPATH"] = os.pathsep.join([ARGS.package] + extra_path)
        env.update(env_extra or {})
        return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)

    def test_without_an_agent_everything_is_a_no_op(self):
        code = ("import moeprof, sys; assert not moeprof.enabled(); moeprof.step(); moeprof.layer(1);"
                "moeprof.record_counts(0, [1]); moeprof.record_routing(0, [[0, 1]]);\n"
                "with moeprof.all_to_all(): pass\nwith moeprof.compute('gate'): pass\n"
                "assert 'torch' not in sys.modules, 'the adapter imported torch'\nprint('fine')")
        result = self.run_python(code, [])
        self.assertEqual((result.returncode, result.stdout.strip(), result.stderr), (0, "fine", ""))

    def test_the_hidden_sitecustomize_still_runs(self):
        import tempfile

        with tempfile.TemporaryDirectory() as other:
            with open(os.path.join(other, "sitecustomize.py"), "w") as f:
                f.write("import builtins\nbuiltins.OTHER_SITECUSTOMIZE = True\n")
            result = self.run_python("import builtins; print(getattr(builtins, 'OTHER_SITECUSTOMIZE', False))", [other])
        self.assertEqual(result.stdout.strip(), "True", result.stderr)

    def test_bad_settings_say_so_and_leave_the_program_alone(self):
        result = self.run_python("print('ran')", [], {"MOEPROF_PYTHON_STEP": "epoch",
                                                      "MOEPROF_AGENT_LIBRARY": "/nonexistent.so"})
        self.assertEqual((result.returncode, result.stdout.strip()), (0, "ran"))


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + UNITTEST_ARGS, verbosity=1)
