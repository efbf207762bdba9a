"""E-step inside the trainer: no-signal groups and the hard trust region leave the teacher untouched and are counted;
the adaptive β_E moves toward the target; E-step scheduling."""

import contextlib
import re

import pytest
import torch
from datasets import Dataset
from peft import LoraConfig

from trl_vpd import VPDConfig, VPDTrainer
from trl_vpd.tiny import build_tiny_model, build_tiny_tokenizer

LORA = dict(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")


def varying_reward(completion_ids, **kwargs):
    return [float(sum(ids) % 2 == 0) for ids in completion_ids]


def constant_reward(completion_ids, **kwargs):
    return [1.0 for _ in completion_ids]


def critique(rewards, **kwargs):
    return [None if r >= 1 else "The answer is wrong." for r in rewards]


def prompt_critique(prompts, rewards, **kwargs):
    return [None if r >= 1 else f"Wrong for {p}." for p, r in zip(prompts, rewards, strict=True)]


def _trainer(tmp_path, reward, max_steps=2, feedback=critique, **overrides):
    tokenizer = build_tiny_tokenizer()
    config = dict(output_dir=str(tmp_path), per_device_train_batch_size=8, num_generations=8, max_completion_length=6,
                  max_steps=max_steps, learning_rate=5e-2, report_to="none", save_strategy="no", logging_steps=1,
                  teacher_mode="adapter", e_step_every=1, seed=1)  # fmt: skip
    config.update(overrides)
    return VPDTrainer(
        model=build_tiny_model(tokenizer),
        reward_funcs=reward,
        args=VPDConfig(**config),
        train_dataset=Dataset.from_dict({"prompt": [f"Say {i}" for i in range(16)]}),
        processing_class=tokenizer,
        peft_config=LoraConfig(**LORA),
        feedback_funcs=feedback,
    )


def _teacher(trainer):
    return {n: p.detach().clone() for n, p in trainer.model.named_parameters() if ".vpd_teacher." in n}


def _logged(trainer, key):
    return [entry[key] for entry in trainer.state.log_history if key in entry]


def test_groups_without_signal_skip_the_e_step(tmp_path):
    trainer = _trainer(tmp_path, constant_reward)
    before = _teacher(trainer)
    trainer.train()
    assert _logged(trainer, "vpd/e_step_no_signal") == [1.0, 1.0]
    for name, value in _teacher(trainer).items():
        assert torch.equal(value, before[name]), f"{name} moved without an outcome signal"


def test_hard_trust_region_skips_teacher_updates(tmp_path):
    # Against the student, KL_E compares the teacher on its feedback context with the student on the bare prompt, so it
    # is positive from the first step; with ε = 1e-12 and κ = 1 every E-step is outside the region and must be skipped.
    trainer = _trainer(tmp_path, varying_reward, max_steps=3, trust_region_target_kl=1e-12, trust_region_skip_factor=1.0,
                       e_step_reference="student")  # fmt: skip
    before = _teacher(trainer)
    trainer.train()
    assert _logged(trainer, "vpd/e_step_skipped") == [1.0, 1.0, 1.0]
    assert trainer.trust_region.controller.num_skipped == 3
    for name, value in _teacher(trainer).items():
        assert torch.equal(value, before[name]), f"{name} moved although the trust region skipped every update"


def test_reference_point_is_logged(tmp_path):
    """`vpd/delta_e` is the δ each E-step's sigmoid loss used: 0 on the first, BCO's running midpoint of β_E·h₊ and
    β_E·h₋ after it (the controller's value, moved off 0 once an E-step has measured them)."""
    trainer = _trainer(tmp_path, varying_reward, e_step_reference="student")  # h₊, h₋ ≠ 0 from the first E-step
    trainer.train()
    deltas = _logged(trainer, "vpd/delta_e")
    assert len(deltas) == 2 and deltas[0] == 0.0 and deltas[1] != 0.0
    sides = [v for v in (_logged(trainer, "vpd/teacher_reward_pos")[0], _logged(trainer, "vpd/teacher_reward_neg")[0])
             if v == v]  # β_E = 1 and one E-step micro-batch per step: δ₁ = (1 − 0.9)·mean of the sides measured
    assert deltas[1] == pytest.approx(0.1 * sum(sides) / len(sides), rel=1e-4)


def test_loose_trust_region_lets_the_teacher_move(tmp_path):
    """Control for the test above: the same run with a generous region updates the teacher."""
    trainer = _trainer(tmp_path, varying_reward, max_steps=3, trust_region_target_kl=10.0, trust_region_skip_factor=1.0)
    before = _teacher(trainer)
    trainer.train()
    assert _logged(trainer, "vpd/e_step_skipped") == [0.0, 0.0, 0.0]
    assert any(not torch.equal(value, before[name]) for name, value in _teacher(trainer).items())


def test_adaptive_beta_rises_when_teacher_drifts(tmp_path):
    trainer = _trainer(tmp_path, varying_reward, max_steps=4, trust_region_target_kl=1e-9)
    trainer.train()
    betas = _logged(trainer, "vpd/beta_e")
    assert betas[0] == pytest.approx(trainer.args.e_step_beta)
    assert betas[-1] > betas[0], betas  # KL far above a near-zero target tightens the region


def test_e_step_schedule_warmup_and_every(tmp_path):
    trainer = _trainer(tmp_path, varying_reward, max_steps=5, e_step_warmup_steps=1, e_step_every=2)
    trainer.train()
    steps_with_e = [e["step"] for e in trainer.state.log_history if "vpd/e_loss" in e]
    # global_step at generation time 1 and 3 → logged at steps 2 and 4
    assert steps_with_e == [2, 4]


def test_frozen_reference_without_initial_weights_is_refused(tmp_path):
    tokenizer = build_tiny_tokenizer()
    args = VPDConfig(output_dir=str(tmp_path), per_device_train_batch_size=4, num_generations=4, report_to="none",
                     teacher_mode="shared", e_step_reference="frozen")  # fmt: skip
    with pytest.raises(ValueError, match="e_step_reference='frozen'"):
        VPDTrainer(model=build_tiny_model(tokenizer), reward_funcs=varying_reward, args=args,
                   train_dataset=Dataset.from_dict({"prompt": ["a", "b"]}), processing_class=tokenizer)  # fmt: skip


def test_frozen_reference_with_peft_uses_disabled_adapters(tmp_path):
    trainer = _trainer(tmp_path, varying_reward, max_steps=1, teacher_mode="shared", e_step_reference="frozen")
    seen = {}
    original = trainer._reference_forward

    def completion_logps(batch, base: bool):
        ids = torch.cat([batch["prompt_ids"], batch["completion_ids"]], dim=1)
        mask = torch.cat([batch["prompt_mask"], batch["completion_mask"]], dim=1)
        with torch.no_grad(), trainer.model.disable_adapter() if base else contextlib.nullcontext():
            logits = trainer.model(input_ids=ids, attention_mask=mask).logits
        logits = logits[:, -batch["completion_ids"].size(1) - 1 : -1].float() / trainer.temperature
        return torch.log_softmax(logits, -1).gather(-1, batch["completion_ids"].unsqueeze(-1)).squeeze(-1)

    def spy(batch):
        reference = original(batch)
        seen["reference"] = reference[0]
        seen["base"] = completion_logps(batch, base=True)
        seen["student"] = completion_logps(batch, base=False)
        return reference

    trainer._reference_forward = spy
    with torch.no_grad():  # move the student away from the base, so the two references differ
        for name, param in trainer.model.named_parameters():
            if "lora_B.default" in name:
                param.normal_(std=0.5)
    trainer.train()
    torch.testing.assert_close(seen["reference"], seen["base"], atol=1e-4, rtol=1e-4)
    assert (seen["reference"] - seen["student"]).abs().max() > 1e-2


@pytest.mark.parametrize("teacher_mode", ["shared", "adapter"])
@pytest.mark.parametrize("distillation_mode", ["sampled", "topk"])
def test_m_step_reuses_the_e_step_teacher_forward(tmp_path, teacher_mode, distillation_mode):
    """On an E-step the teacher is run once per micro-batch, and the M-step's targets (log-probs, and for top-k the
    final hidden states) equal a fresh no-grad teacher forward: the E-step's forward is reused, not approximated.
    (Self pairing with the demonstrations: group pairing's E-step, or one on critiques alone, scores other contexts
    than the M-step's, which then run on their own.)"""
    trainer = _trainer(tmp_path, varying_reward, max_steps=2, teacher_mode=teacher_mode, distillation_mode=distillation_mode,
                       e_step_chunk_size=0, e_step_pairing="self", e_step_solutions=True)  # one pass; chunked: next test
    calls, checks = [], []
    original = trainer._teacher_forward

    def spy(model, inputs, grad, key="teacher", with_hidden=False):
        calls.append((grad, with_hidden))
        out = original(model, inputs, grad, key, with_hidden)
        if grad:
            checks.append((out, original(model, inputs, False, key, with_hidden)))
        return out

    trainer._teacher_forward = spy
    trainer.train()
    # hidden states for the top-k targets, and for an exact KL_E against the initial weights (the adapter's reference)
    expected_hidden = distillation_mode == "topk" or trainer.args.e_step_reference != "student"
    assert calls == [(True, expected_hidden)] * 2, calls  # two E-step micro-batches, no separate target forward
    for (logps, hidden, _), (fresh_logps, fresh_hidden, _) in checks:
        torch.testing.assert_close(logps.detach(), fresh_logps)
        if expected_hidden:
            torch.testing.assert_close(hidden.detach(), fresh_hidden)
        else:
            assert hidden is None and fresh_hidden is None


@pytest.mark.parametrize("distillation_mode", ["sampled", "topk"])
def test_m_step_reuses_the_chunked_e_step_teacher_forward(tmp_path, distillation_mode):
    """With a chunked E-step the M-step's targets come from the E-step's own teacher passes. The default (separable)
    sigmoid E-loss streams: per micro-batch only the chunks' passes with gradient (with hidden states for top-k),
    nothing else. KTO (whose z_ref couples the rollouts) first runs one pass without gradient over the micro-batch.
    The passes that measure KL_E against the initial weights (the adapter's reference) keep hidden states too."""
    for loss in ("sigmoid", "kto"):
        trainer = _trainer(tmp_path, varying_reward, max_steps=2, distillation_mode=distillation_mode,
                           e_step_chunk_size=3, e_step_loss=loss, e_step_pairing="self", e_step_solutions=True)
        measured = distillation_mode == "topk" or trainer.args.e_step_reference != "student"
        calls = []
        original = trainer._teacher_forward

        def spy(model, inputs, grad, key="teacher", with_hidden=False):
            calls.append((grad, with_hidden, inputs[f"{key}_input_ids"].size(0)))
            return original(model, inputs, grad, key, with_hidden)

        trainer._teacher_forward = spy
        trainer.train()
        for _ in range(2):  # per micro-batch, chunks of 3, 3 and 2 rollouts
            if loss == "kto":
                assert calls.pop(0) == (False, measured, 8), calls
            for size in (3, 3, 2):
                grad, hidden, rows = calls.pop(0)
                assert grad and 1 <= rows <= size and hidden == (measured and loss == "sigmoid"), (loss, calls)
                if loss == "sigmoid" and rows < size:  # the chunk's rollouts without an E-loss term, measured only
                    assert calls.pop(0) == (False, measured, size - rows), (loss, calls)
        assert calls == [], (loss, calls)


def _record_teacher_passes(trainer) -> list[tuple[bool, int]]:
    """(with gradient, rollouts) of every teacher forward the trainer runs from now on, in order."""
    seen, original = [], trainer._teacher_forward

    def spy(model, inputs, grad, key="teacher", with_hidden=False):
        seen.append((grad, inputs[f"{key}_input_ids"].size(0)))
        return original(model, inputs, grad, key, with_hidden)

    trainer._teacher_forward = spy
    return seen


def _streamed_passes(trainer, batch, chunk: int) -> list[tuple[bool, int]]:
    """The teacher passes of a streamed (sigmoid) E-step in chunks of `chunk` rollouts: per chunk one pass with
    gradient over its rollouts with an E-loss term (at least one), then one without over the others."""
    from trl_vpd.losses import selected_labels

    targets = trainer._e_targets(batch)
    _, trained = selected_labels(targets["advantages"], targets["rows"], targets["rewards"],
                                 trainer._label_threshold(), trainer.args.e_step_negatives)  # fmt: skip
    passes = []
    for start in range(0, trained.numel(), chunk):
        part = trained[start : start + chunk]
        with_grad = max(int((part != 0).sum()), 1)
        passes += [(True, with_grad)] + ([(False, part.numel() - with_grad)] if with_grad < part.numel() else [])
    return passes


def _auto_chunk(batch) -> tuple[int, int, int]:
    """The student micro-batch's padded tokens, the teacher contexts' width, and the auto chunk's rollouts."""
    student_tokens = batch["completion_ids"].size(0) * (batch["prompt_ids"].size(1) + batch["completion_ids"].size(1))
    teacher_width = batch["teacher_input_ids"].size(1)
    return student_tokens, teacher_width, student_tokens // teacher_width


@pytest.mark.parametrize("e_step_loss", ["sigmoid", "kto", "awr"])
def test_chunked_e_step_gives_the_same_teacher_gradient(tmp_path, e_step_loss):
    """`e_step_chunk_size` (fixed, or None: auto): the teacher adapter's gradient equals the one-pass E-step's (also
    for KTO, whose z_ref couples the rollouts of the batch), while no teacher forward with gradient sees more than the
    chunk's rollouts, nor any rollout without a loss term (backpropagating through it would cost as much as through
    one with); auto chunks keep each pass within the student micro-batch's tokens."""
    from helpers import prepared_batch

    trainer = _trainer(tmp_path, varying_reward, e_step_loss=e_step_loss)
    batch = prepared_batch(trainer)
    assert batch["completion_ids"].size(0) == 8
    params = trainer.teacher.parameters()
    seen = _record_teacher_passes(trainer)
    student_tokens, teacher_width, auto = _auto_chunk(batch)
    assert 1 <= auto < 8  # the teacher contexts are longer than the student's sequences: auto chunks
    grads, kls = [], []
    for chunk in (0, 3, None):
        trainer.args.e_step_chunk_size = chunk
        seen.clear()
        for p in params:
            p.grad = None
        trainer._e_backward(trainer.model, batch)
        grads.append([p.grad.clone() for p in params])
        kls.append(trainer.trust_region._kls[-1])
        # the separable sigmoid loss streams its chunks, with gradient only through the rollouts with a loss term;
        # KTO and AWR first run one forward without gradient on all rollouts, then per chunk one with gradient over
        # the rollouts whose log-probs get one
        first = [] if e_step_loss == "sigmoid" else [(False, 8)]
        chunks = seen[len(first):]
        if chunk == 0:
            assert seen == [(True, 8)]
            continue
        assert seen[: len(first)] == first, seen
        if chunk == 3 and e_step_loss == "sigmoid":
            assert seen == _streamed_passes(trainer, batch, 3), seen
            assert sum(rows for grad, rows in seen if grad) < 8  # rollouts without a loss term ran without gradient
        elif chunk == 3:
            assert [grad for grad, _ in chunks] == [True] * 3 and all(
                1 <= rows <= size for (_, rows), size in zip(chunks, (3, 3, 2), strict=True)
            ), seen
        else:  # auto: no pass holds more teacher tokens than the student micro-batch
            assert all(rows <= auto for _, rows in chunks), seen
            assert sum(rows for _, rows in chunks) == 8 if e_step_loss == "sigmoid" else all(g for g, _ in chunks)
            assert max(rows for _, rows in chunks) * teacher_width <= student_tokens
        if chunk is None and e_step_loss == "sigmoid":
            assert seen == _streamed_passes(trainer, batch, auto), seen
    assert any(g.abs().max() > 0 for g in grads[0])
    for chunked in grads[1:]:
        for one_pass, part in zip(grads[0], chunked, strict=True):
            torch.testing.assert_close(part, one_pass, atol=1e-6, rtol=1e-5)
    assert kls[0] == pytest.approx(kls[1], rel=1e-6) and kls[0] == pytest.approx(kls[2], rel=1e-6)


@pytest.mark.parametrize("distillation_mode", ["sampled", "topk"])
def test_chunked_shared_e_step_gives_the_same_gradient(tmp_path, distillation_mode):
    """A shared teacher's chunked E-step (fixed or auto) leaves the same gradient in the shared weights as the E-loss
    joined to the student's backward in one pass (E-loss, M-step and GRPO together; gradient accumulation 2, so the
    1/GA scaling of both paths is compared), with no teacher pass over more than a chunk, and the M-step reusing the
    chunks' passes."""
    from helpers import prepared_batch

    tokenizer = build_tiny_tokenizer()
    trainer = VPDTrainer(
        model=build_tiny_model(tokenizer), reward_funcs=varying_reward, processing_class=tokenizer,
        train_dataset=Dataset.from_dict({"prompt": [f"Say {i}" for i in range(16)]}), feedback_funcs=critique,
        args=VPDConfig(output_dir=str(tmp_path), per_device_train_batch_size=8, num_generations=8,
                       max_completion_length=6, report_to="none", teacher_mode="shared", e_step_every=1,
                       e_step_pairing="self", distillation_mode=distillation_mode, distillation_topk=16, seed=1),
    )  # fmt: skip
    batch = prepared_batch(trainer)
    trainer.current_gradient_accumulation_steps = 2
    seen = _record_teacher_passes(trainer)
    auto = _auto_chunk(batch)[2]
    assert 1 <= auto < 8
    grads, kls = [], []
    for chunk in (0, 3, None):
        trainer.args.e_step_chunk_size = chunk
        trainer.model.zero_grad(set_to_none=True)
        seen.clear()
        loss = trainer.compute_loss(trainer.model, batch)
        trainer.accelerator.backward(loss)
        grads.append({n: p.grad.clone() for n, p in trainer.model.named_parameters() if p.grad is not None})
        kls.append(trainer.trust_region._kls[-1])
        # the M-step reuses the E-step's passes; the (separable, default) sigmoid E-loss streams its chunks
        if chunk == 0:
            assert seen == [(True, 8)], seen
        else:
            assert seen == _streamed_passes(trainer, batch, chunk or auto), seen
    assert set(grads[1]) == set(grads[0]) == set(grads[2])
    assert any(g.abs().max() > 0 for g in grads[0].values())
    for chunked in grads[1:]:
        for name, one_pass in grads[0].items():
            torch.testing.assert_close(chunked[name], one_pass, atol=1e-6, rtol=1e-5, msg=name)
    assert kls[0] == pytest.approx(kls[1], rel=1e-6) and kls[0] == pytest.approx(kls[2], rel=1e-6)


def test_chunked_e_step_trains_and_is_refused_without_a_trained_teacher(tmp_path):
    trainer = _trainer(tmp_path, varying_reward, e_step_chunk_size=2)
    before = _teacher(trainer)
    trainer.train()
    assert any(not torch.equal(v, before[n]) for n, v in _teacher(trainer).items())
    with pytest.raises(ValueError, match="teachers an E-step trains"):
        VPDConfig(output_dir=str(tmp_path), teacher_mode="frozen", e_step=False, e_step_chunk_size=2)
    VPDConfig(output_dir=str(tmp_path), teacher_mode="shared", e_step_chunk_size=2)
    with pytest.raises(ValueError, match="e_step_chunk_size must be"):
        VPDConfig(output_dir=str(tmp_path), teacher_mode="adapter", e_step_chunk_size=-1)
    VPDConfig(output_dir=str(tmp_path), teacher_mode="shared", e_step_chunk_size=0)  # "one pass" is valid anywhere


def test_paper_preset_is_the_specified_configuration(tmp_path):
    """ALGORITHM.md's paper-faithful preset: BCO E-loss on both labels against the current student, fixed β_E = 0.1,
    an E-step every 5 steps, reverse-KL M-step, shared weights; overrides win."""
    args = VPDConfig.paper_preset(output_dir=str(tmp_path))
    assert (args.teacher_mode, args.e_step, args.e_step_loss, args.e_step_reference) == (
        "shared", True, "sigmoid", "student"
    )
    assert args.e_step_negatives is True and args.e_step_beta == 0.1 and args.trust_region_target_kl is None
    assert args.e_step_every == 5 and args.distillation_alpha == 1.0
    assert VPDConfig.paper_preset(output_dir=str(tmp_path), e_step_every=2).e_step_every == 2


@pytest.mark.parametrize("negatives", [False, True])
def test_failures_train_the_teacher_only_with_e_step_negatives(tmp_path, negatives):
    """A micro-batch whose labelled rollouts are all failures: with `e_step_negatives=False` (the default) the E-step
    has no signal and the teacher gets no gradient; with True (the paper's BCO labels) it does."""
    from helpers import prepared_batch

    trainer = _trainer(tmp_path, varying_reward, e_step_negatives=negatives)
    assert VPDConfig.__dataclass_fields__["e_step_negatives"].default is False
    batch = prepared_batch(trainer)
    batch["advantages"] = -torch.linspace(0.1, 1.0, batch["advantages"].size(0))
    for p in trainer.teacher.parameters():
        p.grad = None
    trainer._e_backward(trainer.model, batch)
    grads = [p.grad for p in trainer.teacher.parameters() if p.grad is not None]
    if negatives:
        assert grads and any(g.abs().max() > 0 for g in grads)
    else:
        assert not grads
        assert trainer._metrics["train"]["vpd/e_step_no_signal"][-1] == 1.0


def test_trainer_warns_when_its_e_steps_have_no_signal(tmp_path, caplog):
    from trl_vpd.e_step_monitor import EStepMonitor

    trainer = _trainer(tmp_path, constant_reward, max_steps=2)
    trainer.e_step_monitor = EStepMonitor("sigmoid", "", window=2)
    with caplog.at_level("WARNING", logger="trl_vpd.e_step_monitor"):
        trainer.train()
    assert any("100% of the last 2 E-steps had no labelled rollout" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("teacher_mode, chunk", [("adapter", None), ("shared", 0), ("shared", 2)])
def test_detached_context_e_step_keeps_its_loss_and_changes_only_the_gradient(tmp_path, monkeypatch, teacher_mode, chunk):
    """`e_step_detach_context`: the E-step's teacher forwards with gradient (one pass or chunked) go through the cached
    context, the forwards without gradient (the M-step's targets, a chunked E-step's loss) do not; the first E-loss is
    the one-pass run's (same forward values), and the teacher's update differs (the context's path is cut)."""
    import trl_vpd.trainer as trainer_module

    calls = []
    original = trainer_module.detached_context_logps

    def counted(model, *args):
        calls.append(torch.is_grad_enabled())
        return original(model, *args)

    monkeypatch.setattr(trainer_module, "detached_context_logps", counted)
    runs = {}
    for detach in (False, True):
        overrides = dict(teacher_mode=teacher_mode, e_step_chunk_size=chunk, e_step_detach_context=detach, max_steps=1,
                         gradient_checkpointing=False)
        trainer = _trainer(tmp_path / str(detach), varying_reward, **overrides)
        trainer.train()
        params = {n: p.detach().clone() for n, p in trainer.model.named_parameters() if p.requires_grad}
        runs[detach] = (_logged(trainer, "vpd/e_loss"), _teacher(trainer) if teacher_mode == "adapter" else params)
    assert calls and all(calls)
    assert runs[True][0] == pytest.approx(runs[False][0], abs=1e-6)
    assert any(not torch.allclose(value, runs[False][1][name]) for name, value in runs[True][1].items())


# What the E-step's chunk budget reads of a micro-batch: 8 rollouts, a 4-token prompt, 6-token completions, teacher
# sequences (context + completion) of 30 tokens.
SHAPES = {"prompt_ids": torch.zeros(8, 4), "completion_ids": torch.zeros(8, 6), "teacher_input_ids": torch.zeros(8, 30)}


@pytest.mark.parametrize("detach, expected", [(False, 2), (True, 8)])
def test_detached_context_e_step_budgets_only_the_completion(tmp_path, detach, expected):
    """The automatic chunking keeps the tokens that run with gradient within the student's: the whole teacher context
    (30 tokens against the student's 10: 8 × 10 // 30 = 2 rollouts per pass), or with a detached context only the
    completion and the token before it (7: one pass)."""
    trainer = _trainer(tmp_path, varying_reward, teacher_mode="shared", e_step_detach_context=detach,
                       gradient_checkpointing=False)
    assert trainer._e_chunk_rows(SHAPES) == expected


def test_detached_context_falls_back_when_checkpointing_is_switched_on_later(tmp_path, caplog):
    """Gradient checkpointing enabled on the model after the config was checked drops the cache: the E-step keeps its
    one-pass forward (and budgets the whole teacher context), warned once."""
    trainer = _trainer(tmp_path, varying_reward, teacher_mode="shared", e_step_detach_context=True,
                       gradient_checkpointing=False)
    assert trainer._detaches_context(trainer.model) and trainer._e_chunk_rows(SHAPES) == 8
    trainer.model.gradient_checkpointing_enable()
    with caplog.at_level("WARNING", logger="trl_vpd.trainer"):
        assert not trainer._detaches_context(trainer.model)
        assert trainer._e_chunk_rows(SHAPES) == 2
    assert sum("gradient checkpointing on" in r.getMessage() for r in caplog.records) == 1


def test_swapped_feedback_term(tmp_path):
    """`e_step_swapped_feedback`: each E-step context has a twin with another problem's critique and the same question;
    `vpd/feedback_gain` is the trained successes' mean log q(y|own critique) − log q(y|swapped critique); the term's
    gradient reaches the teacher adapter only, is the same in one pass and in chunks, and changes the E-step's."""
    from helpers import prepared_batch

    trainer = _trainer(tmp_path, varying_reward, feedback=prompt_critique, per_device_train_batch_size=16,
                       e_step_swapped_feedback=1.0)  # fmt: skip
    batch = prepared_batch(trainer)
    tokenizer = trainer.processing_class
    own_ids, swap_ids = batch["vpd_e_teacher_input_ids"], batch["vpd_s_teacher_input_ids"]
    successes = (batch["advantages"] > 0) & (batch["vpd_e_has_context"] > 0)
    rows = successes & (batch["vpd_s_has_context"] > 0)
    assert rows.sum() >= 2 and (rows != successes).sum() == 0  # two problems: every critique has a swap
    questions = set()
    for i in range(16):
        question = tokenizer.decode(batch["prompt_ids"][i], skip_special_tokens=True)
        own, swap = (tokenizer.decode(ids[i], skip_special_tokens=True) for ids in (own_ids, swap_ids))
        critiques = [re.search(r"Wrong for (Say \d+)\.", text).group(1) for text in (own, swap)]
        assert own.startswith(question + "\n") and swap.startswith(question + "\n")
        assert critiques[0] == question != critiques[1]
        questions.add(question)
    assert len(questions) == 2

    params = trainer.teacher.parameters()
    teacher_ids = {id(p) for p in params}
    grads = []
    for chunk in (0, 3, None):
        trainer.args.e_step_chunk_size = chunk
        trainer.model.zero_grad(set_to_none=True)
        trainer._e_backward(trainer.model, batch)
        grads.append([p.grad.clone() for p in params])
        assert all(p.grad is None for p in trainer.model.parameters() if id(p) not in teacher_ids)
        with torch.no_grad():
            own = trainer._teacher_logps(trainer.model, batch, grad=False, key="vpd_e_teacher")
            swap = trainer._teacher_logps(trainer.model, batch, grad=False, key="vpd_s_teacher")
        mask = batch["completion_mask"].float()
        gain = ((own - swap) * mask).sum(1)[rows].mean()
        assert trainer._metrics["train"]["vpd/feedback_gain"][-1] == pytest.approx(float(gain), abs=1e-5)
    assert any(g.abs().max() > 0 for g in grads[0])
    for chunked in grads[1:]:
        for one_pass, part in zip(grads[0], chunked, strict=True):
            torch.testing.assert_close(part, one_pass, atol=1e-6, rtol=1e-5)
    trainer.args.e_step_swapped_feedback, trainer.args.e_step_chunk_size = 0.0, 0
    trainer.model.zero_grad(set_to_none=True)
    trainer._e_backward(trainer.model, batch)
    assert max((p.grad - g).abs().max() for p, g in zip(params, grads[0], strict=True)) > 1e-4


def test_swapped_feedback_weight_must_not_be_negative(tmp_path):
    with pytest.raises(ValueError, match="e_step_swapped_feedback"):
        VPDConfig(output_dir=str(tmp_path), report_to="none", use_cpu=True, e_step_swapped_feedback=-1.0)


def test_initial_teacher_reference_is_the_base_model_on_the_teacher_context(tmp_path):
    """`e_step_reference="initial_teacher"`: π_ref is the initial weights (adapters off) reading the E-step's own
    teacher contexts, not the student's prompt, and it stays put when the teacher adapter moves."""
    from helpers import prepared_batch

    trainer = _trainer(tmp_path, varying_reward, e_step_reference="initial_teacher")
    batch = prepared_batch(trainer)
    key = trainer._e_key(batch)
    with torch.no_grad():
        for p in trainer.teacher.parameters():
            p.add_(0.05)
    reference = trainer._reference_forward(batch)[0]
    ids, mask, completion = batch[f"{key}_input_ids"], batch[f"{key}_attention_mask"], batch["completion_ids"]
    with torch.no_grad(), trainer.model.disable_adapter():
        logits = trainer.model(input_ids=ids, attention_mask=mask).logits[:, -completion.size(1) - 1 : -1]
    expected = torch.log_softmax(logits.float() / trainer.temperature, -1).gather(-1, completion.unsqueeze(-1)).squeeze(-1)
    torch.testing.assert_close(reference, expected, atol=1e-5, rtol=1e-5)
    teacher = trainer._teacher_logps(trainer.model, batch, grad=False, key=key)
    assert (teacher - reference).abs().max() > 1e-3  # the moved teacher adapter is not its own reference


def test_initial_teacher_reference_needs_the_initial_weights(tmp_path):
    tokenizer = build_tiny_tokenizer()
    args = VPDConfig(output_dir=str(tmp_path), report_to="none", use_cpu=True, per_device_train_batch_size=8,
                     num_generations=8, teacher_mode="shared", e_step_reference="initial_teacher")  # fmt: skip
    with pytest.raises(ValueError, match="initial_teacher"):
        VPDTrainer(model=build_tiny_model(tokenizer), reward_funcs=varying_reward, args=args, processing_class=tokenizer,
                   train_dataset=Dataset.from_dict({"prompt": ["Say 1"] * 8}), feedback_funcs=critique)  # fmt: skip


def test_adapter_default_reference_is_the_passive_teacher(tmp_path):
    """A teacher adapter measures h and KL_E against the initial weights on the same context by default (the other
    teachers against the student; an explicit value wins): KL_E is 0 at the first E-step, when the teacher adapter is
    still the base model, and grows once it has trained."""
    assert VPDConfig(output_dir=str(tmp_path), use_cpu=True, teacher_mode="shared").e_step_reference == "student"
    passive = VPDConfig(output_dir=str(tmp_path), use_cpu=True, teacher_mode="frozen", e_step=False)
    assert passive.e_step_reference == "student"
    pinned = VPDConfig(output_dir=str(tmp_path), use_cpu=True, teacher_mode="adapter", e_step_reference="student")
    assert pinned.e_step_reference == "student"
    assert VPDConfig.paper_preset(output_dir=str(tmp_path), use_cpu=True, teacher_mode="adapter").e_step_reference == "student"
    trainer = _trainer(tmp_path, varying_reward, max_steps=3)
    assert trainer.args.e_step_reference == "initial_teacher"
    trainer.train()
    kls = _logged(trainer, "vpd/kl_e")
    assert kls[0] == pytest.approx(0.0, abs=1e-7) and kls[-1] > 1e-4


@pytest.mark.parametrize("chunk", [0, 3])
def test_kl_e_against_the_initial_weights_is_the_exact_kl(tmp_path, chunk):
    """Against the initial weights (the teacher adapter's default reference, which did not sample the rollouts) KL_E
    is the exact per-token KL(q ‖ π_ref) over the vocabulary, averaged over the measured tokens, computed by hand
    here from materialized logits: in one pass and streamed in chunks. The sampled estimate on the same tokens is not."""
    from helpers import prepared_batch

    from trl_vpd.dropout import dropout_disabled

    trainer = _trainer(tmp_path, varying_reward, e_step_reference="initial_teacher", e_step_chunk_size=chunk)
    batch = prepared_batch(trainer)
    with torch.no_grad():  # a teacher adapter that has moved from the initial weights
        for p in trainer.teacher.parameters():
            p.add_(0.05)
    key, completion = trainer._e_key(batch), batch["completion_ids"]

    def next_token_logps(teacher: bool):
        ids, mask = batch[f"{key}_input_ids"], batch[f"{key}_attention_mask"]
        route = trainer.teacher.activate(trainer.model) if teacher else trainer.model.disable_adapter()
        with torch.no_grad(), route, dropout_disabled(trainer.model):
            logits = trainer.model(input_ids=ids, attention_mask=mask).logits[:, -completion.size(1) - 1 : -1]
        return torch.log_softmax(logits.float() / trainer.temperature, -1)

    q, p = next_token_logps(True), next_token_logps(False)
    targets = trainer._e_targets(batch)
    measured = targets["mask"] * targets["rows"].unsqueeze(1)
    assert measured.sum() > 0
    expected = ((q.exp() * (q - p)).sum(-1) * measured).sum() / measured.sum()
    sampled_q, sampled_p = (x.gather(-1, completion.unsqueeze(-1)).squeeze(-1) for x in (q, p))
    ratio = sampled_q - sampled_p
    sampled = ((ratio.exp() * ratio - torch.expm1(ratio)) * measured).sum() / measured.sum()

    trainer._metrics["train"].clear()
    if chunk:
        trainer._e_backward(trainer.model, batch, chunk=chunk)
    else:
        trainer._e_step(trainer.model, batch)
    (logged,) = trainer._metrics["train"]["vpd/kl_e"]
    assert expected.item() > 1e-3
    assert logged == pytest.approx(expected.item(), rel=1e-3)
    assert abs(sampled.item() - expected.item()) > 0.05 * expected.item()
