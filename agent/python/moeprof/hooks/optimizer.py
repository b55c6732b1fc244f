"""torch.optim: that an optimizer exists (auto steps become optimizer steps) and when each
optimizer step returns (the end of a step)."""

import functools


def install(optim, runtime):
    base = optim.Optimizer
    original_init = base.__init__
    guard = runtime.guard("optimizer")

    def wrap_step(cls):
        step = cls.__dict__.get("step")
        if step is None or getattr(step, "_moeprof_wrapped", False):
            return

        @functools.wraps(step)
        def wrapped(self, *args, **kwargs):
            result = step(self, *args, **kwargs)
            guard.run(runtime.steps.optimizer_stepped)
            return result

        wrapped._moeprof_wrapped = True
        setattr(cls, "step", wrapped)

    @functools.wraps(original_init)
    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        # The class whose step() runs: the first in the MRO that defines one.
        owner = next((c for c in type(self).__mro__ if "step" in c.__dict__ and c is not base), None)
        if owner is not None:
            guard.run(wrap_step, owner)
        guard.run(runtime.steps.optimizer_created)

    base.__init__ = init
