"""VPDTrainer in every teacher mode, with and without LoRA (and QLoRA): what trains, what stays frozen, which adapter
generates and which scores, and which metrics are logged."""

from __future__ import annotations

from contextlib import nullcontext

import pytest
import torch
from helpers import (
    id_reward,
    logged,
    lora_config,
    make_config,
    make_dataset,
    make_trainer,
    optimizer_param_ids,
    snapshot,
)
from transformers import TrainerCallback

from trl_vpd import VPDTrainer
from trl_vpd.teacher import EMA_ADAPTER, TEACHER_ADAPTER, adapter_parameters
from trl_vpd.tiny import build_tiny_model

BASE_METRICS = ["vpd/distill_loss", "vpd/teacher_student_kl", "vpd/feedback_coverage", "vpd/sibling_solution_coverage"]
E_METRICS = ["vpd/e_loss", "vpd/beta_e", "vpd/kl_e"]
EMA_RATE = 0.5


class AdapterSpy:
    """Records, on every forward of one LoRA layer, whether it ran inside `generate`, which adapters were active and
    whether adapters were disabled."""

    def __init__(self, trainer, monkeypatch):
        from peft.tuners.tuners_utils import BaseTunerLayer

        self.layer = next(m for m in trainer.model.modules() if isinstance(m, BaseTunerLayer))
        self.in_generate = False
        self.records = []
        self.layer.register_forward_pre_hook(self._hook)
        original = trainer.model.generate

        def generate(*args, **kwargs):
            self.in_generate = True
            try:
                return original(*args, **kwargs)
            finally:
                self.in_generate = False

        monkeypatch.setattr(trainer.model, "generate", generate)

    def _hook(self, module, args):
        self.records.append((self.in_generate, tuple(module.active_adapters), bool(module.disable_adapters)))

    def during_generation(self):
        return {(a, d) for g, a, d in self.records if g}

    def outside_generation(self):
        return {(a, d) for g, a, d in self.records if not g}


class StepRecorder(TrainerCallback):
    """Student and EMA-teacher weights after each optimizer step (runs after the EMA callback, added earlier)."""

    def __init__(self, student_fn, teacher_fn):
        self.student_fn, self.teacher_fn = student_fn, teacher_fn
        self.steps = [(snapshot(student_fn()), snapshot(teacher_fn()))]

    def on_step_end(self, args, state, control, **kwargs):
        self.steps.append((snapshot(self.student_fn()), snapshot(self.teacher_fn())))


def assert_ema_recursion(recorder, rate):
    """teacher_k = (1 − rate)·teacher_{k−1} + rate·student_k, starting from the initial student."""
    (student0, teacher0), *later = recorder.steps
    assert set(student0) == set(teacher0)
    for key in student0:
        torch.testing.assert_close(teacher0[key], student0[key], rtol=0, atol=0)
    previous = teacher0
    for student, teacher in later:
        for key in teacher:
            expected = previous[key] + rate * (student[key] - previous[key])
            torch.testing.assert_close(teacher[key], expected, rtol=1e-5, atol=1e-7)
        previous = teacher
    final_student, final_teacher = recorder.steps[-1]
    assert any(not torch.equal(final_teacher[k], teacher0[k]) for k in teacher0)  # it moved toward the student
    assert any(not torch.equal(final_teacher[k], final_student[k]) for k in teacher0)  # but lags behind it


def lora_names(model, adapter):
    return {n for n, _ in model.named_parameters() if f".{adapter}." in n}


# (teacher_mode, peft, conversational prompts)
MODES = [
    ("shared", False, False),
    ("shared", False, True),
    ("shared", True, True),
    ("frozen", False, False),
    ("frozen", True, True),
    ("ema", False, True),
    ("ema", True, False),
    ("adapter", True, True),
    ("adapter", False, False),
]


MODE_IDS = [f"{m}-{'lora' if p else 'full'}-{'chat' if c else 'text'}" for m, p, c in MODES]


@pytest.mark.parametrize("mode, peft, conversational", MODES, ids=MODE_IDS)
def test_teacher_mode_trains(tmp_path, tiny_tokenizer, monkeypatch, mode, peft, conversational):
    trainer = make_trainer(
        tmp_path,
        tiny_tokenizer,
        teacher_mode=mode,
        peft=peft,
        conversational=conversational,
        teacher_ema_rate=EMA_RATE,
        feedback_only_without_solution=False,  # every row keeps its hint (the coverage checked below)
    )
    model = trainer.model
    before = snapshot(model.named_parameters())
    spy = AdapterSpy(trainer, monkeypatch) if peft else None

    teacher_module = getattr(trainer.teacher, "module", None)
    teacher_before = snapshot(teacher_module.named_parameters()) if teacher_module is not None else None
    recorder = None
    if mode == "ema":
        if peft:
            recorder = StepRecorder(
                lambda: adapter_parameters(model, "default").items(),
                lambda: adapter_parameters(model, EMA_ADAPTER).items(),
            )
        else:
            recorder = StepRecorder(model.named_parameters, teacher_module.named_parameters)
        trainer.add_callback(recorder)

    trainer.train()
    assert trainer.state.global_step == 2
    after = dict(model.named_parameters())
    moved = {n for n, p in after.items() if not torch.equal(p.detach(), before[n])}

    # ---- what the student optimizer holds: the student's trainable weights, never a teacher's
    student_lora = lora_names(model, "default") if peft else set(after)
    assert optimizer_param_ids(trainer.optimizer) == {id(after[n]) for n in student_lora}
    teacher_ids = {id(p) for p in trainer.teacher.parameters()}
    if teacher_module is not None:
        teacher_ids |= {id(p) for p in teacher_module.parameters()}
    for adapter in (EMA_ADAPTER, TEACHER_ADAPTER):
        teacher_ids |= {id(after[n]) for n in lora_names(model, adapter)} if peft else set()
    assert not teacher_ids & optimizer_param_ids(trainer.optimizer)

    # ---- the student trained; under PEFT only its adapter (and the teacher adapter in `adapter` mode) moved
    if peft:
        base = {n for n in after if ".lora_" not in n}
        assert not moved & base, "the (shared) base weights must stay frozen"
        assert lora_names(model, "default") & moved
        assert {n for n in moved if ".lora_B." in n} >= {n for n in lora_names(model, "default") if ".lora_B." in n}
    else:
        assert len(moved) > 0.9 * len(after)  # every weight with a gradient moved (lr 1e-2)

    # ---- the teacher
    if mode == "shared":
        assert trainer.teacher.parameters() == [] and teacher_module is None
        if peft:
            assert set(model.peft_config) == {"default"}
    elif mode == "frozen":
        if teacher_module is not None:
            assert teacher_module is not model
            assert all(torch.equal(p, teacher_before[n]) for n, p in teacher_module.named_parameters())
        assert_frozen_teacher_is_initial_model(trainer, tiny_tokenizer)
    elif mode == "ema":
        assert_ema_recursion(recorder, EMA_RATE)
        if teacher_module is not None:
            assert not any(p.requires_grad for p in teacher_module.parameters())
        else:
            assert not any(after[n].requires_grad for n in lora_names(model, EMA_ADAPTER))
    elif mode == "adapter" and not peft:
        # a LoRA on a frozen copy of the initial model: only that LoRA moved there, by the teacher's own optimizer
        copy_moved = {n for n, p in teacher_module.named_parameters() if not torch.equal(p, teacher_before[n])}
        teacher_names = lora_names(teacher_module, TEACHER_ADAPTER)
        assert copy_moved and copy_moved <= teacher_names
        assert {n for n in teacher_names if ".lora_B." in n} <= copy_moved
        assert optimizer_param_ids(trainer.teacher_optimizer) == {id(p) for p in trainer.teacher.parameters()}
        assert {id(p) for p in trainer.teacher.parameters()} == {
            id(p) for n, p in teacher_module.named_parameters() if n in teacher_names
        }
        assert_frozen_teacher_is_initial_model(trainer, tiny_tokenizer, adapter_off=True)
    elif mode == "adapter":
        teacher_names = lora_names(model, TEACHER_ADAPTER)
        assert teacher_names & moved, "the E-step must train the teacher adapter"
        assert {id(p) for p in trainer.teacher.parameters()} == {id(after[n]) for n in teacher_names}
        assert optimizer_param_ids(trainer.teacher_optimizer) == {id(after[n]) for n in teacher_names}
        # Teacher and student adapters started equal and were trained by different losses.
        teacher, student = adapter_parameters(model, TEACHER_ADAPTER), adapter_parameters(model, "default")
        assert any(not torch.equal(teacher[k], student[k]) for k in teacher)

    # ---- which adapter generated, which scored
    if peft:
        assert spy.during_generation() == {(("default",), False)}, "generation must use the student adapter only"
        scoring = spy.outside_generation()
        assert (("default",), False) in scoring  # the student's own forward
        expected_teacher = {
            "shared": (("default",), False),
            "frozen": (("default",), True),  # adapters disabled: the base model
            "ema": ((EMA_ADAPTER,), False),
            "adapter": ((TEACHER_ADAPTER,), False),
        }[mode]
        assert expected_teacher in scoring
        assert tuple(spy.layer.active_adapters) == ("default",) and not spy.layer.disable_adapters
        assert model.active_adapter == "default"

    # ---- metrics
    history_keys = set().union(*trainer.state.log_history)
    for key in BASE_METRICS:
        values = logged(trainer, key)
        assert len(values) == 2 and all(torch.isfinite(torch.tensor(values))), key
    assert logged(trainer, "vpd/feedback_coverage") == [1.0, 1.0]  # every row has a hint
    if trainer.args.e_step:
        for key in E_METRICS:
            assert len(logged(trainer, key)) == 2, key
        assert logged(trainer, "vpd/beta_e") == [trainer.args.e_step_beta] * 2  # fixed β_E without a target KL
    else:
        assert not history_keys & set(E_METRICS)


def assert_frozen_teacher_is_initial_model(trainer, tokenizer, adapter_off=False):
    """The frozen teacher (`adapter_off`: the full-weights teacher adapter's initial weights, its adapter disabled)
    computes exactly what the untrained model computes (the tiny model is seeded), while the student has moved."""
    initial = build_tiny_model(tokenizer).eval()
    ids = torch.tensor([tokenizer("What is 1 + 2? The answer", add_special_tokens=False)["input_ids"]])
    trainer.model.eval()
    context = trainer.teacher.initial(trainer.model) if adapter_off else trainer.teacher.activate(trainer.model)
    with torch.no_grad(), context as teacher:
        teacher_logits = teacher(input_ids=ids).logits
        expected = initial(input_ids=ids).logits
    student_logits = trainer.model(input_ids=ids).logits
    torch.testing.assert_close(teacher_logits, expected, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(student_logits, expected, atol=1e-4)  # ... while the student has moved
    if adapter_off:  # ... and the adapter has moved the teacher off the initial weights
        with torch.no_grad(), trainer.teacher.activate(trainer.model) as teacher:
            assert not torch.allclose(teacher(input_ids=ids).logits, expected, atol=1e-5)


def test_teacher_lora_config_only_for_a_full_weights_adapter_teacher(tmp_path, tiny_tokenizer):
    for mode, peft in (("shared", False), ("adapter", True), ("frozen", False)):
        with pytest.raises(ValueError, match="teacher_peft_config"):
            VPDTrainer(
                model=build_tiny_model(tiny_tokenizer),
                reward_funcs=id_reward,
                args=make_config(tmp_path, teacher_mode=mode, e_step=mode != "frozen"),
                train_dataset=make_dataset(False),
                processing_class=tiny_tokenizer,
                peft_config=lora_config() if peft else None,
                teacher_peft_config=lora_config(),
            )


@pytest.mark.parametrize("mode", ["frozen", "ema"])
def test_passive_teacher_with_e_step_is_a_config_error(tmp_path, mode):
    with pytest.raises(ValueError, match="passive teacher"):
        make_config(tmp_path, teacher_mode=mode, e_step=True)


def test_qlora_4bit_base_with_teacher_adapter_trains(tmp_path, tiny_tokenizer, tiny_model_dir):
    from transformers import BitsAndBytesConfig

    pytest.importorskip("bitsandbytes")
    quantization = BitsAndBytesConfig(
        load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.float32
    )
    args = make_config(tmp_path, teacher_mode="adapter", model_init_kwargs={"quantization_config": quantization})
    trainer = VPDTrainer(
        model=tiny_model_dir,
        reward_funcs=id_reward,
        args=args,
        train_dataset=make_dataset(conversational=True),
        processing_class=tiny_tokenizer,
        peft_config=lora_config(),
    )
    import bitsandbytes as bnb

    model = trainer.model
    assert any(isinstance(m, bnb.nn.Linear4bit) for m in model.modules()), "the base must be 4-bit"
    # TRL keeps QLoRA adapters in bf16; the teacher copy must match, or its activations are upcast (H200: +2.5 GB).
    dtypes = {name: {p.dtype for n, p in model.named_parameters() if f".{name}." in n}
              for name in ("default", TEACHER_ADAPTER)}  # fmt: skip
    assert dtypes["default"] == dtypes[TEACHER_ADAPTER] == {torch.bfloat16}
    before = snapshot(model.named_parameters())
    trainer.train()
    assert trainer.state.global_step == 2
    moved = {n for n, p in model.named_parameters() if not torch.equal(p.detach(), before[n])}
    assert moved & lora_names(model, "default")
    assert moved & lora_names(model, TEACHER_ADAPTER)
    assert all(".lora_" in n for n in moved), "the quantized base must not change"
    assert not {id(p) for p in trainer.teacher.parameters()} & optimizer_param_ids(trainer.optimizer)
    assert len(logged(trainer, "vpd/e_loss")) == 2


# ------------------------------------------------------------------ LoRA `modules_to_save` (a trained lm_head / embeddings)


def mts_lora_config(modules):
    from peft import LoraConfig

    return LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=["q_proj", "v_proj"],
                      modules_to_save=modules, task_type="CAUSAL_LM")  # fmt: skip


def mts_trainer(tmp_path, tokenizer, mode, modules, **overrides):
    args = make_config(tmp_path, teacher_mode=mode, e_step=mode == "adapter", teacher_ema_rate=EMA_RATE, **overrides)
    return VPDTrainer(
        model=build_tiny_model(tokenizer),
        reward_funcs=id_reward,
        args=args,
        train_dataset=make_dataset(conversational=True),
        processing_class=tokenizer,
        peft_config=mts_lora_config(modules),
    )


def copies(model, adapter):
    """The adapter's own copies of the `modules_to_save` modules, by module name."""
    return {n: p for n, p in model.named_parameters() if f".modules_to_save.{adapter}." in n}


def teacher_logits(trainer, ids):
    with torch.no_grad(), trainer.teacher.activate(trainer.model) as teacher:
        return teacher(input_ids=ids).logits


@pytest.mark.parametrize("modules", [["lm_head"], ["embed_tokens"]])
def test_adapter_teacher_with_modules_to_save_has_and_trains_its_own_copy(tmp_path, tiny_tokenizer, modules):
    """The teacher adapter reads its own copy of each `modules_to_save` module (started from the student's), only the
    teacher optimizer holds that copy, and the E-loss's gradient reaches the teacher's copy and never the student's."""
    trainer = mts_trainer(tmp_path, tiny_tokenizer, "adapter", modules, em_schedule="alternate")
    model = trainer.model
    student, teacher = copies(model, "default"), copies(model, TEACHER_ADAPTER)
    assert len(teacher) == len(student) == 1
    (student_name, student_copy), (teacher_name, teacher_copy) = *student.items(), *teacher.items()
    assert torch.equal(student_copy, teacher_copy) and student_copy is not teacher_copy
    assert any(p is teacher_copy for p in trainer.teacher.parameters())

    # the teacher forward reads the teacher's copy, the student's forward the student's
    ids = torch.tensor([tiny_tokenizer("What is 1 + 2? The answer", add_special_tokens=False)["input_ids"]])
    model.eval()
    student_before, teacher_before = model(input_ids=ids).logits.detach(), teacher_logits(trainer, ids)
    with torch.no_grad():
        teacher_copy.add_(0.5)
    assert not torch.allclose(teacher_logits(trainer, ids), teacher_before)
    torch.testing.assert_close(model(input_ids=ids).logits.detach(), student_before, rtol=0, atol=0)
    with torch.no_grad():
        teacher_copy.sub_(0.5)
    model.train()

    # E-step-only steps (alternate schedule, an E-step every step): no gradient may reach the student's copy
    student_grads = []
    student_copy.register_hook(lambda g: student_grads.append(g.abs().max().item()))
    before = snapshot(model.named_parameters())
    trainer.train()
    assert trainer.state.global_step == 2 and len(logged(trainer, "vpd/e_loss")) == 2
    assert student_grads and max(student_grads) == 0.0, "the E-loss leaked into the student's copy"
    assert torch.equal(student_copy, before[student_name]), "an E-step-only step changed the student's copy"
    assert not torch.equal(teacher_copy, before[teacher_name]), "the teacher's copy must train"
    assert optimizer_param_ids(trainer.teacher_optimizer) == {id(p) for p in trainer.teacher.parameters()}
    assert id(teacher_copy) not in optimizer_param_ids(trainer.optimizer)
    assert id(student_copy) in optimizer_param_ids(trainer.optimizer)


def test_adapter_teacher_with_modules_to_save_trains_jointly(tmp_path, tiny_tokenizer):
    """Joint schedule: the student's copy trains on the student's loss, the teacher's copy on the E-loss, apart."""
    trainer = mts_trainer(tmp_path, tiny_tokenizer, "adapter", ["lm_head"])
    model = trainer.model
    before = snapshot(model.named_parameters())
    trainer.train()
    student, teacher = copies(model, "default"), copies(model, TEACHER_ADAPTER)
    for name, param in {**student, **teacher}.items():
        assert not torch.equal(param, before[name]), name
    (s,), (t,) = student.values(), teacher.values()
    assert not torch.equal(s, t)


def test_ema_teacher_with_modules_to_save_averages_and_reads_its_own_copy(tmp_path, tiny_tokenizer):
    trainer = mts_trainer(tmp_path, tiny_tokenizer, "ema", ["lm_head"])
    model = trainer.model
    (ema_copy,) = copies(model, EMA_ADAPTER).values()
    assert not ema_copy.requires_grad
    recorder = StepRecorder(
        lambda: adapter_parameters(model, "default").items(), lambda: adapter_parameters(model, EMA_ADAPTER).items()
    )
    assert any(".modules_to_save." in k for k in recorder.steps[0][1])  # the EMA covers the copy
    trainer.add_callback(recorder)
    trainer.train()
    assert_ema_recursion(recorder, EMA_RATE)
    ids = torch.tensor([tiny_tokenizer("What is 1 + 2?", add_special_tokens=False)["input_ids"]])
    model.eval()
    before = teacher_logits(trainer, ids)
    with torch.no_grad():
        ema_copy.add_(0.5)
    assert not torch.allclose(teacher_logits(trainer, ids), before)  # the EMA teacher reads the EMA copy


def test_teacher_copies_of_modules_to_save_are_not_synced_to_vllm(tmp_path, tiny_tokenizer):
    """vLLM generates with the student: TRL's PEFT weight sync sends the student's `modules_to_save.default` copies
    under the base names; a teacher's copy must not be sent at all (vLLM has no such weight)."""
    from types import SimpleNamespace

    from trl.generation.vllm_generation import VLLMGeneration

    from trl_vpd.teacher import hide_teacher_from_vllm_sync

    trainer = mts_trainer(tmp_path, tiny_tokenizer, "adapter", ["lm_head"])
    fake = SimpleNamespace(
        model=trainer.model,
        _dist=SimpleNamespace(gather_params=lambda params: nullcontext(), is_fsdp=False),
        _fix_param_name_to_vllm=lambda name, extra_prefixes=None: VLLMGeneration._fix_param_name_to_vllm(
            None, name, extra_prefixes
        ),
    )
    fake._iter_named_params = lambda: VLLMGeneration._iter_named_params(fake)
    unfiltered = [name for name, _ in fake._iter_named_params()]
    assert f"lm_head.modules_to_save.{TEACHER_ADAPTER}.weight" in unfiltered  # what TRL alone would send
    hide_teacher_from_vllm_sync(fake, trainer.teacher)
    names = [name for name, _ in fake._iter_named_params()]
    assert "lm_head.weight" in names and not [n for n in names if TEACHER_ADAPTER in n or "modules_to_save" in n]
    assert len(names) == len(set(names)) == len(unfiltered) - 1


@pytest.mark.parametrize("overrides", [{"beta": 0.04}, {"e_step_reference": "frozen"}], ids=["beta", "frozen_ref"])
def test_adapter_teacher_still_trains_after_adapters_were_disabled(tmp_path, tiny_tokenizer, overrides):
    """GRPO's reference forward (beta > 0) and the frozen E-step reference run with PEFT's adapters disabled; PEFT
    re-enables them with `set_adapter`, which freezes every adapter but the student's. The teacher adapter (LoRA and
    its `modules_to_save` copy) must still get the E-loss's gradient and train."""
    trainer = mts_trainer(tmp_path, tiny_tokenizer, "adapter", ["lm_head"], **overrides)
    teacher = {n: p for n, p in trainer.model.named_parameters() if TEACHER_ADAPTER in n.split(".")}
    before = snapshot(teacher.items())
    trainer.train()
    assert all(v > 0 for v in logged(trainer, "vpd/teacher_grad_norm"))
    assert {n for n, p in teacher.items() if not torch.equal(p, before[n])} == set(teacher)


@pytest.mark.parametrize("mode", ["sampled", "topk"])
def test_vision_language_models_are_refused_at_construction(tmp_path, tiny_tokenizer, mode):
    """A processor (GRPO's `_is_vlm`) means image inputs: the teacher and reference forwards pass only token ids, so
    they would score an image question without its image (silently, with the sampled M-step). Refused clearly."""
    from transformers import ProcessorMixin

    class TextProcessor(ProcessorMixin):  # the smallest processor: GRPO treats any processor as a VLM's
        def __init__(self, tokenizer, chat_template=None):
            super().__init__(tokenizer, chat_template=chat_template)

    model = build_tiny_model(tiny_tokenizer)
    model.config.image_token_id = len(tiny_tokenizer) - 1  # GRPO keeps a VLM from sampling its image token
    with pytest.raises(NotImplementedError, match="vision-language.*pixel_values"):
        VPDTrainer(
            model=model,
            reward_funcs=id_reward,
            args=make_config(tmp_path, distillation_mode=mode),
            train_dataset=make_dataset(conversational=True),
            processing_class=TextProcessor(tiny_tokenizer, chat_template=tiny_tokenizer.chat_template),
        )


def test_adapter_teacher_with_trainable_token_indices_has_and_trains_its_own_tokens(tmp_path, tiny_tokenizer):
    """LoRA `trainable_token_indices` (PEFT's trainable-token wrapper on the embeddings): the teacher adapter gets its
    own delta for those tokens, its forward reads it, and E-step-only steps train it and leave the student's alone."""
    from peft import LoraConfig

    tokens = tiny_tokenizer("What is 1 + 2? The answer", add_special_tokens=False)["input_ids"][:3]
    args = make_config(tmp_path, teacher_mode="adapter", e_step=True, em_schedule="alternate")
    trainer = VPDTrainer(
        model=build_tiny_model(tiny_tokenizer), reward_funcs=id_reward, args=args,
        train_dataset=make_dataset(conversational=True), processing_class=tiny_tokenizer,
        peft_config=LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=["q_proj", "v_proj"],
                               trainable_token_indices=tokens, task_type="CAUSAL_LM"),
    )  # fmt: skip
    model = trainer.model
    deltas = {n: p for n, p in model.named_parameters() if "trainable_tokens_delta" in n}
    student_delta = next(p for n, p in deltas.items() if n.endswith(".default"))
    teacher_delta = next(p for n, p in deltas.items() if n.endswith(f".{TEACHER_ADAPTER}"))
    assert len(deltas) == 2 and any(p is teacher_delta for p in trainer.teacher.parameters())

    ids = torch.tensor([tokens])
    model.eval()
    student_before, teacher_before = model(input_ids=ids).logits.detach(), teacher_logits(trainer, ids)
    with torch.no_grad():
        teacher_delta.add_(0.5)
    assert not torch.allclose(teacher_logits(trainer, ids), teacher_before)  # the teacher reads its own delta
    torch.testing.assert_close(model(input_ids=ids).logits.detach(), student_before, rtol=0, atol=0)
    with torch.no_grad():
        teacher_delta.sub_(0.5)
    model.train()

    student_start, teacher_start = student_delta.detach().clone(), teacher_delta.detach().clone()
    trainer.train()
    assert len(logged(trainer, "vpd/e_loss")) == 2
    assert torch.equal(student_delta, student_start), "an E-step-only step changed the student's token delta"
    assert not torch.equal(teacher_delta, teacher_start), "the teacher's token delta must train"
    assert id(teacher_delta) not in optimizer_param_ids(trainer.optimizer)


@pytest.mark.parametrize("mode", ["frozen", "ema", "adapter"])
def test_full_weights_teacher_of_a_model_given_by_name_is_its_own_model(tmp_path, tiny_tokenizer, tiny_model_dir, mode):
    """A full-weights frozen, EMA or adapter teacher of a model given by name is built from the initial weights, not
    from the student: its logits (the path generation takes) after training are the initial model's (frozen; the
    adapter's with its adapter off), or an average that lags the student (EMA). A copy of GRPO's patched student
    would compute the student's logits."""
    from transformers import AutoModelForCausalLM

    trainer = VPDTrainer(model=str(tiny_model_dir), reward_funcs=id_reward, train_dataset=make_dataset(False),
                         args=make_config(tmp_path, teacher_mode=mode, e_step=mode == "adapter", max_steps=2,
                                          teacher_ema_rate=EMA_RATE),
                         processing_class=tiny_tokenizer)  # fmt: skip
    trainer.train()
    initial = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir)).eval()
    ids = torch.tensor([tiny_tokenizer("What is 1 + 2? The answer", add_special_tokens=False)["input_ids"]])
    trainer.model.eval()
    context = trainer.teacher.initial(trainer.model) if mode == "adapter" else trainer.teacher.activate(trainer.model)
    with torch.no_grad(), context as teacher:
        teacher_logits, expected = teacher(input_ids=ids).logits, initial(input_ids=ids).logits
        student_logits = trainer.model(input_ids=ids).logits
    assert not torch.allclose(student_logits, expected, atol=1e-3)  # the student moved
    if mode == "ema":
        assert not torch.allclose(teacher_logits, student_logits, atol=1e-3)
        assert not torch.allclose(teacher_logits, expected, atol=1e-3)
    else:
        torch.testing.assert_close(teacher_logits, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("sync_ref_model", [False, True])
def test_full_weights_teacher_adapter_with_beta_sits_on_grpos_reference_model(tmp_path, tiny_tokenizer, tiny_model_dir,
                                                                              sync_ref_model):
    """With β > 0 GRPO keeps the initial weights as its reference model: a full-weights student's teacher adapter sits
    on it instead of a copy of its own (one model less in memory), and GRPO's reference log-probs stay the initial
    model's while the adapter trains on it. A reference synced toward the student (`sync_ref_model`) no longer holds
    the initial weights: the teacher keeps its own copy there."""
    from transformers import AutoModelForCausalLM
    from trl.trainer.utils import add_fused_lm_head

    from trl_vpd.utils import unwrap_ddp

    trainer = make_trainer(tmp_path, tiny_tokenizer, model=str(tiny_model_dir), teacher_mode="adapter", beta=0.04,
                           sync_ref_model=sync_ref_model, ref_model_sync_steps=1, max_steps=3, e_step_negatives=True,
                           gradient_checkpointing=True)  # fmt: skip
    base = unwrap_ddp(trainer.teacher.module).get_base_model()
    assert (base is trainer.ref_model) != sync_ref_model
    batches, generate = [], trainer._generate_and_score_completions
    trainer._generate_and_score_completions = lambda inputs: batches.append(generate(inputs)) or batches[-1]
    adapter_before = [p.detach().clone() for p in trainer.teacher.parameters()]
    trainer.train()
    assert any(not torch.equal(p, q) for p, q in zip(trainer.teacher.parameters(), adapter_before))
    if sync_ref_model:
        return
    initial = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir)).eval()
    add_fused_lm_head(initial, temperature=trainer.temperature, cast_lm_head_to_fp32=trainer.args.cast_lm_head_to_fp32)

    def grpo_ref_logps(model, batch):
        ids = torch.cat([batch["prompt_ids"], batch["completion_ids"]], dim=1)
        mask = torch.cat([batch["prompt_mask"], batch["completion_mask"]], dim=1)
        with torch.no_grad():
            logps, _, _ = trainer._get_per_token_logps_and_entropies(model, ids, mask, batch["completion_ids"].size(1))
        return logps * batch["completion_mask"]

    for batch in batches:  # every step's, the later ones read after the adapter trained
        torch.testing.assert_close(batch["ref_per_token_logps"] * batch["completion_mask"],
                                   grpo_ref_logps(initial, batch), rtol=1e-5, atol=1e-5)  # fmt: skip
    # the adapter is there and trained: without GRPO's context the same forward reads the teacher
    assert not torch.allclose(grpo_ref_logps(trainer.ref_model, batches[-1]), grpo_ref_logps(initial, batches[-1]))


def test_full_weights_teacher_adapter_learning_rate(tmp_path, tiny_tokenizer):
    """A full-weights student's teacher adapter steps at 10 × learning_rate unless `teacher_learning_rate` is set; a
    PEFT student's teacher adapter at the student's rate."""
    full = make_trainer(tmp_path, tiny_tokenizer, teacher_mode="adapter", learning_rate=1e-4)
    lora = make_trainer(tmp_path, tiny_tokenizer, teacher_mode="adapter", learning_rate=1e-4, peft=True)
    pinned = make_trainer(tmp_path, tiny_tokenizer, teacher_mode="adapter", learning_rate=1e-4, teacher_learning_rate=3e-4)
    for trainer, expected in ((full, 1e-3), (lora, 1e-4), (pinned, 3e-4)):
        trainer.create_optimizer()
        assert trainer.teacher_optimizer.param_groups[0]["lr"] == pytest.approx(expected)


def test_full_weights_teacher_adapter_checkpoints_its_e_step_like_the_student(tmp_path, tiny_tokenizer):
    """With activation checkpointing on (TRL's default) the teacher copy's E-step forward is recomputed in the backward
    (a layer inside it runs twice per E-step pass), and the teacher learns exactly what it learns without it."""
    runs = {}
    for checkpointing in (True, False):
        trainer = make_trainer(tmp_path / str(checkpointing), tiny_tokenizer, teacher_mode="adapter", max_steps=1,
                               gradient_checkpointing=checkpointing, e_step_chunk_size=0)  # one E-step pass; fmt: skip
        module = trainer.teacher.module
        assert module.training == checkpointing  # transformers checkpoints in train mode only
        layer = module.base_model.model.model.layers[0].mlp.down_proj.base_layer  # inside the checkpointed forward
        calls = []
        layer.register_forward_hook(lambda *_, calls=calls: calls.append(torch.is_grad_enabled()))
        trainer.train()
        runs[checkpointing] = ([p.detach().clone() for p in trainer.teacher.parameters()], calls)
    (with_ckpt, calls_ckpt), (without, calls_plain) = runs[True], runs[False]
    # the E-step's pass with gradient: once without checkpointing, twice (forward, then recompute) with it
    assert calls_plain.count(True) == 1 and calls_ckpt.count(True) == 2
    for a, b in zip(with_ckpt, without, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("teacher_mode", ["adapter", "frozen"])
def test_a_teacher_copy_of_a_model_patched_by_an_earlier_trainer_runs_its_own_weights(
    tmp_path, tiny_tokenizer, teacher_mode
):
    """A model handed over by SFTTrainer keeps its fused-LM-head patch, a closure over its own forward, and a deep copy
    keeps the closure: the teacher's copy would then run the student's weights wherever it is called without the fused
    head (generation: teacher evaluation, repairs). The copy must compute with its own weights (here the initial
    ones: the adapter starts at zero), whatever the student does."""
    from trl.trainer.utils import add_fused_lm_head

    model = build_tiny_model(tiny_tokenizer)
    add_fused_lm_head(model)  # what SFTTrainer leaves on the model it trained
    initial = build_tiny_model(tiny_tokenizer).eval()
    initial.load_state_dict(model.state_dict())
    trainer = make_trainer(tmp_path, tiny_tokenizer, model=model, teacher_mode=teacher_mode,
                           e_step=teacher_mode == "adapter")  # fmt: skip
    ids = torch.arange(3, 11).reshape(1, 8)
    with torch.no_grad():
        trainer.model.lm_head.weight.add_(torch.randn_like(trainer.model.lm_head.weight))  # the student moves away
        with trainer.teacher.activate(trainer.model) as teacher:
            teacher_logits = teacher(input_ids=ids).logits
        student_logits = trainer.model(input_ids=ids).logits
        torch.testing.assert_close(teacher_logits, initial(input_ids=ids).logits)
    assert not torch.allclose(teacher_logits, student_logits)


def test_untied_copy_drops_only_forwards_that_call_the_original():
    import types

    from trl_vpd.trainer import untied_copy

    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2))
    original_forward = model[0].forward
    model[0].forward = types.MethodType(lambda self, x: original_forward(x), model[0])  # a closure over the original
    model[1].forward = types.MethodType(lambda self, x: x * 0, model[1])  # the instance's own patch
    copied = untied_copy(model)
    with torch.no_grad():
        copied[0].weight.zero_()
        copied[0].bias.zero_()
    x = torch.ones(1, 2)
    assert torch.equal(copied[0](x), torch.zeros(1, 2))  # its own (zeroed) weights, not the original's
    assert "forward" in vars(model[0]) and "forward" not in vars(copied[0])
    assert torch.equal(copied[1](x), torch.zeros(1, 2)) and "forward" in vars(copied[1])  # kept
