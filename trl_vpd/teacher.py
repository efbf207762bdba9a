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
from transformers import TrainerCallback
from trl.trainer.callbacks import SyncRefModelCallback
from trl.trainer.utils import add_fused_lm_head, disable_dropout_in_model

from .dropout import dropout_disabled
from .utils import is_peft_model, unwrap_ddp

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
    learning_rate_scale = 1.0  # the teacher's own optimizer: `teacher_learning_rate=None` means this × learning_rate

    def activate(self, model):
        return _yield(model)

    def parameters(self) -> list[torch.nn.Parameter]:
        """Parameters the E-step trains with its own optimizer (none: the student's optimizer covers them)."""
        return []

    def callbacks(self) -> list[TrainerCallback]:
        return []

    def initial(self, model, ref_model=None):
        """The initial teacher's weights, yielded as a module: GRPO's reference model where it keeps one, else the
        base under disabled adapters (for a full-weights student without either, the current weights)."""
        return _yield(ref_model) if ref_model is not None else disabled_adapters(model)

    def grpo_reference(self):
        """A context for GRPO's own reference forward: a teacher adapter sitting on GRPO's reference model is off in
        it, so that GRPO's β·KL reads the initial weights."""
        return nullcontext()

    def save(self, output_dir: str) -> None:
        """Write what `save_model` and checkpoints must hold beyond the student (adapters on it are PEFT's to save)."""

    def load(self, checkpoint: str) -> None:
        """Restore what `save` wrote, on `resume_from_checkpoint`."""


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

    def save(self, output_dir: str) -> None:
        if self.module is not None:  # an EMA adapter is saved by PEFT with the student
            from safetensors.torch import save_file

            state = {k: v.detach().contiguous().cpu() for k, v in unwrap_ddp(self.module).state_dict().items()}
            save_file(state, os.path.join(output_dir, "vpd_ema_teacher.safetensors"))

    def load(self, checkpoint: str) -> None:
        path = os.path.join(checkpoint, "vpd_ema_teacher.safetensors")
        if self.module is not None and os.path.exists(path):
            from safetensors.torch import load_file

            unwrap_ddp(self.module).load_state_dict(load_file(path), strict=False)

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


class CopyAdapterTeacher(Teacher):
    """A LoRA adapter on a frozen copy of the initial model, trained by the E-step with its own optimizer
    (`teacher_mode="adapter"` for a full-weights student): the teacher adapter's design where the student has no
    adapter to sit beside. Training the student cannot wear down what the teacher has learned to read, and the
    E-step's gradient reaches only this adapter."""

    adapter_name = TEACHER_ADAPTER
    # a LoRA beside a full fine-tuning learning rate: LoRA's usual ratio to it (Schulman et al., "LoRA Without Regret")
    learning_rate_scale = 10.0

    def __init__(self, module, on_grpo_reference: bool = False):
        self.module = module
        self.on_grpo_reference = on_grpo_reference
        self.params = list(adapter_parameters(unwrap_ddp(module), TEACHER_ADAPTER).values())

    def activate(self, model):
        return _yield(self.module)

    def parameters(self):
        return self.params

    def initial(self, model, ref_model=None):
        return disabled_adapters(self.module)

    @contextmanager
    def grpo_reference(self):
        if not self.on_grpo_reference:
            yield
            return
        with disabled_adapters(self.module), dropout_disabled(self.module):  # train mode when checkpointing
            yield

    def save(self, output_dir: str) -> None:
        unwrap_ddp(self.module).save_pretrained(output_dir, selected_adapters=[TEACHER_ADAPTER])

    def load(self, checkpoint: str) -> None:
        from peft.utils import load_peft_weights, set_peft_model_state_dict

        path = os.path.join(checkpoint, TEACHER_ADAPTER)
        if os.path.exists(path):
            weights = load_peft_weights(path, device=str(self.params[0].device))
            set_peft_model_state_dict(unwrap_ddp(self.module), weights, adapter_name=TEACHER_ADAPTER)


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


def build_teacher(trainer, model_copy=None, teacher_peft_config=None) -> Teacher:
    """The teacher for `trainer.args.teacher_mode`, resolved first if left at None (a teacher adapter for a PEFT
    student on one process or DDP, else the shared weights). `model_copy` is an untouched copy of the initial full
    model, used by `frozen`/`ema`/`adapter` without PEFT; `teacher_peft_config` the LoRA of a full-weights student's
    teacher adapter (None: `default_teacher_lora()`)."""
    args = trainer.args
    args.resolve_teacher_mode(
        peft=is_peft_model(trainer.model), sharded=trainer.is_deepspeed_enabled or trainer.is_fsdp_enabled
    )
    if "teacher_mode" in args._teacher_auto:
        logger.info("teacher_mode=None resolved to %r.", args.teacher_mode)
    teacher = _build_teacher(trainer, model_copy, teacher_peft_config)
    if teacher.adapter_name is not None and getattr(trainer, "vllm_generation", None) is not None:
        hide_teacher_from_vllm_sync(trainer.vllm_generation, teacher)
    return teacher


def _build_teacher(trainer, model_copy=None, teacher_peft_config=None) -> Teacher:
    args = trainer.args
    model = trainer.model
    peft = is_peft_model(model)
    mode = args.teacher_mode
    if teacher_peft_config is not None and (mode != "adapter" or peft):
        raise ValueError(
            "teacher_peft_config is the LoRA of a full-weights student's teacher adapter (teacher_mode='adapter' "
            "without peft_config); a PEFT student's teacher adapter copies the student's own LoRA config."
        )
    if mode == "shared":
        return Teacher()
    if mode == "adapter":
        if trainer.is_deepspeed_enabled or trainer.is_fsdp_enabled:
            raise NotImplementedError(
                "teacher_mode='adapter' has its own optimizer, which DeepSpeed and FSDP do not shard yet; use DDP, or "
                "teacher_mode='shared' (the E-step then trains the shared weights through the main optimizer)."
            )
        if not peft:
            base = trainer.ref_model if shares_grpo_reference(args) else None
            module = _prepare_adapter_copy(trainer, model_copy, teacher_peft_config, base=base)
            return CopyAdapterTeacher(module, on_grpo_reference=base is not None)
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


def default_teacher_lora():
    """The teacher adapter's LoRA for a full-weights student when none is given: TRL's `ModelConfig` rank and alpha
    (16, 32) on every linear layer, no dropout."""
    from peft import LoraConfig

    return LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules="all-linear", task_type="CAUSAL_LM")


def shares_grpo_reference(args) -> bool:
    """Whether a full-weights student's teacher adapter sits on GRPO's reference model rather than on a copy of its
    own: with β > 0 GRPO keeps the initial weights (loaded from the model's name, as the copy would be) and nothing
    moves them unless `sync_ref_model` does. One model less in memory."""
    return args.beta != 0.0 and not args.sync_ref_model


def _prepare_adapter_copy(trainer, model_copy, lora, base=None):
    """A frozen copy of the initial model (or GRPO's reference model, `base`) with a trainable teacher adapter, placed
    on the device (not wrapped by DDP: the trainer averages the adapter's gradients itself)."""
    from peft import get_peft_model

    if base is not None:
        model_copy = base  # loaded by GRPO (evaluation mode, dropout off where asked, its fused LM head)
        model_copy.requires_grad_(False)
    else:
        model_copy = _frozen_copy(trainer, model_copy)
    checkpointing = _enable_checkpointing(model_copy, trainer.args)
    device = next(model_copy.parameters()).device
    # LoRA's random init, from the run's seed (the same on every rank), must not move the sampler's random stream: the
    # same seed samples what GRPO would
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(trainer.args.seed)
        module = get_peft_model(model_copy, copy.deepcopy(lora or default_teacher_lora()), adapter_name=TEACHER_ADAPTER)
    # transformers checkpoints only in train mode (and with gradient); the teacher's forwards turn dropout off themselves
    module.train(checkpointing)
    return trainer.accelerator.prepare_model(module, evaluation_mode=True)


def _enable_checkpointing(model, args) -> bool:
    """Activation checkpointing on `model` as the Trainer sets it on the student (its config fields), so that the
    E-step's backward through a teacher copy holds no more activations than the student's; whether it was set."""
    if not getattr(args, "activation_checkpointing", args.gradient_checkpointing):
        return False
    kwargs = dict(getattr(args, "activation_checkpointing_kwargs", args.gradient_checkpointing_kwargs) or {})
    every_n_layers, offload = kwargs.pop("every_n_layers", 1), kwargs.pop("offload", False)
    model.activation_checkpointing_enable(
        activation_checkpointing_kwargs=kwargs or None, every_n_layers=every_n_layers, offload=offload
    )
    return True


def _frozen_copy(trainer, model_copy):
    """The untouched initial model (or, for a model given by name, the model loaded again), frozen, without dropout
    where GRPO disables it, with GRPO's fused LM head."""
    if model_copy is None:
        model_copy = _reload_initial(trainer)
    model_copy.requires_grad_(False)
    model_copy.eval()
    if trainer.args.disable_dropout:
        disable_dropout_in_model(model_copy)
    add_fused_lm_head(model_copy, temperature=trainer.temperature, cast_lm_head_to_fp32=trainer.args.cast_lm_head_to_fp32)
    return model_copy


def _reload_initial(trainer):
    """The initial model loaded again from its name, as GRPO builds its reference model. A copy of `trainer.model`
    would not do: GRPO has patched its forward (fused LM head) in a closure bound to the student, so the copy's
    logits and generations would be the student's."""
    from trl.trainer.utils import create_model_from_path, get_config_model_id

    args = trainer.args
    kwargs = dict(args.model_init_kwargs or {})
    if args.distributed_state.distributed_type in ("MULTI_GPU", "DEEPSPEED"):
        kwargs["device_map"] = None
    kwargs.setdefault("trust_remote_code", args.trust_remote_code)
    kwargs.setdefault("dtype", trainer.model.dtype)
    kwargs.setdefault("attn_implementation", trainer.model.config._attn_implementation)
    return create_model_from_path(get_config_model_id(trainer.model.config), **kwargs)


def _prepare_copy(trainer, model_copy):
    """A frozen full copy of the initial model, patched and placed like GRPO's reference model."""
    from trl.models import prepare_deepspeed, prepare_fsdp

    model_copy = _frozen_copy(trainer, model_copy)
    if trainer.is_deepspeed_enabled:
        return prepare_deepspeed(model_copy, trainer.accelerator)
    if trainer.is_fsdp_enabled:
        return prepare_fsdp(model_copy, trainer.accelerator)
    return trainer.accelerator.prepare_model(model_copy, evaluation_mode=True)


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
