"""Teacher parameterisations: where the feedback-conditioned teacher's weights live and how a forward pass reaches
them.

Every teacher exposes `activate(model)`, a context manager that yields the module to call for a teacher forward; the
student is always what is active outside it, so generation and vLLM weight sync only ever see the student.

A teacher adapter (or EMA adapter) is a whole PEFT adapter: its LoRA weights and, with LoRA `modules_to_save` (a
trained `lm_head` or embedding, common for new chat tokens), its own copy of each such module, started from the
student's. Routing, the teacher optimizer, the EMA and the vLLM sync all treat those copies as part of the adapter.
"""

from __future__ import annotations

import copy
import logging
import os
from contextlib import contextmanager, nullcontext

import torch
from accelerate.utils import is_peft_model
from transformers import TrainerCallback
from trl.trainer.callbacks import SyncRefModelCallback
from trl.trainer.utils import add_fused_lm_head, disable_dropout_in_model

from .utils import unwrap_ddp

logger = logging.getLogger(__name__)

TEACHER_ADAPTER = "vpd_teacher"
EMA_ADAPTER = "vpd_ema"


@contextmanager
def active_adapter(peft_model, name: str):
    """Route `peft_model` through adapter `name` for the duration, without touching `requires_grad`: its LoRA layers
    and its `modules_to_save` / trainable-token wrappers (each then calls adapter `name`'s own copy of the module).

    PEFT's `set_adapter` also flips `requires_grad` (trainable active adapter, frozen others); flipping it on a model
    that DDP/FSDP has already wrapped breaks their gradient bookkeeping, so only the routing is switched here.
    """
    from peft.tuners.tuners_utils import BaseTunerLayer
    from peft.utils.other import AuxiliaryTrainingWrapper

    layers = [m for m in peft_model.modules() if isinstance(m, (BaseTunerLayer, AuxiliaryTrainingWrapper))]
    previous = [m._active_adapter for m in layers]
    for layer in layers:
        layer._active_adapter = [name]
    try:
        yield
    finally:
        for layer, prev in zip(layers, previous, strict=True):
            layer._active_adapter = prev


def is_adapter_parameter(param_name: str, name: str) -> bool:
    """Whether `param_name` belongs to adapter `name`: LoRA weights (`lora_A.name.weight`), embedding LoRA and
    trainable tokens (`lora_embedding_A.name`), and the adapter's `modules_to_save` copies
    (`lm_head.modules_to_save.name.weight`)."""
    return name in param_name.split(".")


def adapter_parameters(peft_model, name: str) -> dict[str, torch.nn.Parameter]:
    """The parameters of adapter `name` (LoRA weights and `modules_to_save` copies), keyed by their name with the
    adapter name removed (for pairing them with another adapter's)."""
    return {
        ".".join(part for part in n.split(".") if part != name): p
        for n, p in peft_model.named_parameters()
        if is_adapter_parameter(n, name)
    }


def add_adapter_copy(peft_model, source: str, name: str, trainable: bool) -> list[torch.nn.Parameter]:
    """Add adapter `name` with `source`'s config and a copy of its weights, in the source's dtype (TRL keeps QLoRA
    adapters in bf16; an fp32 copy would upcast the teacher's activations); returns its parameters."""
    peft_model.add_adapter(name, copy.deepcopy(peft_model.peft_config[source]))
    src = adapter_parameters(peft_model, source)
    dst = adapter_parameters(peft_model, name)
    with torch.no_grad():
        for key, param in dst.items():
            param.data = src[key].detach().clone()
            param.requires_grad_(trainable)
    return list(dst.values())


class Teacher:
    """The student's own weights: feedback in the prompt is all that makes it a teacher (`teacher_mode="shared"`)."""

    trainable = True
    adapter_name: str | None = None

    def activate(self, model):
        return _yield(model)

    def parameters(self) -> list[torch.nn.Parameter]:
        """Parameters the E-step trains with its own optimizer (none: the student's optimizer covers them)."""
        return []

    def callbacks(self) -> list[TrainerCallback]:
        return []


class FrozenTeacher(Teacher):
    """The initial weights (`teacher_mode="frozen"`): adapters disabled under PEFT, else a frozen copy."""

    trainable = False

    def __init__(self, module=None):
        self.module = module

    def activate(self, model):
        if self.module is not None:
            return _yield(self.module)
        return disabled_adapters(model)


class EMATeacher(Teacher):
    """An exponential moving average of the student (`teacher_mode="ema"`): an EMA adapter under PEFT, else a copy."""

    trainable = False
    adapter_name = EMA_ADAPTER

    def __init__(self, rate: float, peft_model=None, student_adapter: str | None = None, module=None):
        self.rate = rate
        self.module = module
        self.peft_model = peft_model
        self.student_adapter = student_adapter
        if peft_model is not None:
            add_adapter_copy(peft_model, student_adapter, EMA_ADAPTER, trainable=False)

    def activate(self, model):
        if self.module is not None:
            return _yield(self.module)
        return _with_adapter(model, EMA_ADAPTER)

    def callbacks(self):
        return [_EMAUpdateCallback(self)]

    @torch.no_grad()
    def update(self, model) -> None:
        if self.module is not None:
            SyncRefModelCallback.sync_target_model(model, self.module, self.rate)
            return
        student = adapter_parameters(self.peft_model, self.student_adapter)
        for key, param in adapter_parameters(self.peft_model, EMA_ADAPTER).items():
            param.lerp_(student[key].to(param.dtype), self.rate)


class AdapterTeacher(Teacher):
    """A second LoRA adapter on the student's base model, initialised from the student and trained by the E-step
    with its own optimizer (`teacher_mode="adapter"`, the QLoRA / one-GPU design)."""

    adapter_name = TEACHER_ADAPTER

    def __init__(self, peft_model, student_adapter: str):
        self.peft_model = peft_model
        self.params = add_adapter_copy(peft_model, student_adapter, TEACHER_ADAPTER, trainable=True)
        # The teacher adapter has its own optimizer and its gradients are averaged by the trainer, so DDP must not
        # register (and wait for) them on the student's backward.
        names = [n for n, _ in peft_model.named_parameters() if is_adapter_parameter(n, TEACHER_ADAPTER)]
        existing = list(getattr(peft_model, "_ddp_params_and_buffers_to_ignore", []))
        torch.nn.parallel.DistributedDataParallel._set_params_and_buffers_to_ignore_for_model(
            peft_model, existing + names
        )

    def activate(self, model):
        # PEFT re-enables adapters after `disable_adapter` (GRPO's reference forward with beta > 0, a frozen E-step
        # reference) through `set_adapter`, which freezes every adapter but the active (student) one; DDP ignores these
        # parameters, so turning their gradient back on here is safe.
        for param in self.params:
            param.requires_grad_(True)
        return _with_adapter(model, TEACHER_ADAPTER)

    def parameters(self):
        return self.params


class _EMAUpdateCallback(TrainerCallback):
    def __init__(self, teacher: EMATeacher):
        self.teacher = teacher

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if model is not None:
            self.teacher.update(unwrap_ddp(model))


def hide_teacher_from_vllm_sync(generation, teacher: Teacher) -> None:
    """Keep a teacher adapter's own parameters out of TRL's vLLM weight sync (`VLLMGeneration._iter_named_params`).

    TRL merges the active (student) adapter, skips LoRA weights and renames `modules_to_save.default` copies to the
    base names; a teacher's `modules_to_save` copy would be sent under its PEFT name, which vLLM does not have."""
    iterate = generation._iter_named_params

    def student_params():
        for name, param in iterate():
            if not is_adapter_parameter(name, teacher.adapter_name):
                yield name, param

    generation._iter_named_params = student_params


def build_teacher(trainer, model_copy=None) -> Teacher:
    """The teacher for `trainer.args.teacher_mode`, resolved first if left at None (a teacher adapter for a PEFT
    student on one process or DDP, else the shared weights). `model_copy` is an untouched copy of the initial full
    model, used by `frozen`/`ema` without PEFT."""
    args = trainer.args
    args.resolve_teacher_mode(
        peft=is_peft_model(trainer.model), sharded=trainer.is_deepspeed_enabled or trainer.is_fsdp_enabled
    )
    if "teacher_mode" in args._teacher_auto:
        logger.info("teacher_mode=None resolved to %r.", args.teacher_mode)
    teacher = _build_teacher(trainer, model_copy)
    if teacher.adapter_name is not None and getattr(trainer, "vllm_generation", None) is not None:
        hide_teacher_from_vllm_sync(trainer.vllm_generation, teacher)
    return teacher


def _build_teacher(trainer, model_copy=None) -> Teacher:
    args = trainer.args
    model = trainer.model
    peft = is_peft_model(model)
    mode = args.teacher_mode
    if mode == "shared":
        return Teacher()
    if mode == "adapter":
        if not peft:
            raise ValueError(
                "teacher_mode='adapter' trains the teacher as a second LoRA adapter: pass `peft_config` (or a "
                "PeftModel) to VPDTrainer."
            )
        if trainer.is_deepspeed_enabled or trainer.is_fsdp_enabled:
            raise NotImplementedError(
                "teacher_mode='adapter' has its own optimizer, which DeepSpeed and FSDP do not shard yet; use DDP, or "
                "teacher_mode='shared' (the E-step then trains the shared weights through the main optimizer)."
            )
        return AdapterTeacher(model, model.active_adapter)
    if peft:
        if mode == "frozen":
            return FrozenTeacher()
        return EMATeacher(args.teacher_ema_rate, peft_model=model, student_adapter=model.active_adapter)
    module = trainer.ref_model if (mode == "frozen" and trainer.ref_model is not None) else None
    if module is None:
        module = _prepare_copy(trainer, model_copy)
    if mode == "frozen":
        return FrozenTeacher(module)
    return EMATeacher(args.teacher_ema_rate, module=module)


def _prepare_copy(trainer, model_copy):
    """A frozen full copy of the initial model, patched and placed like GRPO's reference model."""
    from trl.models import prepare_deepspeed, prepare_fsdp

    if model_copy is None:
        model_copy = copy.deepcopy(trainer.model)
    model_copy.requires_grad_(False)
    model_copy.eval()
    if trainer.args.disable_dropout:
        disable_dropout_in_model(model_copy)
    add_fused_lm_head(model_copy, temperature=trainer.temperature, cast_lm_head_to_fp32=trainer.args.cast_lm_head_to_fp32)
    if trainer.is_deepspeed_enabled:
        return prepare_deepspeed(model_copy, trainer.accelerator)
    if trainer.is_fsdp_enabled:
        return prepare_fsdp(model_copy, trainer.accelerator)
    return trainer.accelerator.prepare_model(model_copy, evaluation_mode=True)


def save_full_teacher(teacher: Teacher, output_dir: str) -> None:
    """Persist an EMA full-model teacher (adapters are saved by PEFT with the model)."""
    if isinstance(teacher, EMATeacher) and teacher.module is not None:
        from safetensors.torch import save_file

        state = {k: v.detach().contiguous().cpu() for k, v in unwrap_ddp(teacher.module).state_dict().items()}
        save_file(state, os.path.join(output_dir, "vpd_ema_teacher.safetensors"))


def load_full_teacher(teacher: Teacher, checkpoint: str) -> None:
    path = os.path.join(checkpoint, "vpd_ema_teacher.safetensors")
    if isinstance(teacher, EMATeacher) and teacher.module is not None and os.path.exists(path):
        from safetensors.torch import load_file

        unwrap_ddp(teacher.module).load_state_dict(load_file(path), strict=False)


@contextmanager
def _yield(module):
    yield module


@contextmanager
def _with_adapter(model, name):
    with active_adapter(unwrap_ddp(model), name):
        yield model


@contextmanager
def disabled_adapters(model):
    """All LoRA adapters off (the base weights), yielding `model`; a no-op for a model without PEFT."""
    with unwrap_ddp(model).disable_adapter() if is_peft_model(unwrap_ddp(model)) else nullcontext():
        yield model
