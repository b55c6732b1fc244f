"""Hugging Face transformers: every model attaches (hooks/models.py) when its constructor
finishes, i.e. in PreTrainedModel.post_init, which every transformers model calls last, so
models built from a config, from_pretrained or remote code are all covered."""

import functools


def install(modeling_utils, runtime):
    base = modeling_utils.PreTrainedModel
    original = base.post_init
    guard = runtime.guard("transformers model")
    from .models import attach_model

    @functools.wraps(original)
    def post_init(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        guard.run(attach_model, runtime, self, getattr(self, "config", None))
        return result

    base.post_init = post_init
