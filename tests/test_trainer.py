"""VPDTrainer integration: drop-in for GRPOTrainer, the student loss decomposed into its GRPO and distillation parts,
every distillation mode, the feedback plumbing, and the errors on bad input."""

from __future__ import annotations

import math

import pytest
import torch
from helpers import (
    changed,
    id_reward,
    logged,
    make_config,
    make_dataset,
    make_trainer,
    prepared_batch,
    snapshot,
)
from trl import GRPOTrainer

from trl_vpd import VPDNumericalError, VPDTrainer
from trl_vpd.feedback import FeedbackFunctionError

# ---------------------------------------------------------------------------------------------------- drop-in

GRPO_SCRIPT = """
from datasets import Dataset
from trl import GRPOConfig, GRPOTrainer

dataset = Dataset.from_dict({"prompt": [f"What is {i} + {i + 1}?" for i in range(8)]})


def reward_from_ids(completion_ids, **kwargs):
    return [(sum(ids) % 5) / 4 for ids in completion_ids]


args = GRPOConfig(
    output_dir=OUTPUT_DIR,
    per_device_train_batch_size=4,
    num_generations=4,
    max_completion_length=8,
    max_steps=2,
    learning_rate=1e-2,
    logging_steps=1,
    report_to="none",
    save_strategy="no",
)
trainer = GRPOTrainer(model=MODEL_ID, reward_funcs=reward_from_ids, args=args, train_dataset=dataset)
trainer.train()
"""


def run_script(source, tmp_path, model_id):
    namespace = {"OUTPUT_DIR": str(tmp_path), "MODEL_ID": model_id}
    exec(compile(source, "train_script.py", "exec"), namespace)
    return namespace["trainer"]


def test_grpo_script_with_swapped_class_names_trains(tmp_path, tiny_model_dir):
    from transformers import AutoModelForCausalLM

    grpo = run_script(GRPO_SCRIPT, tmp_path / "grpo", tiny_model_dir)
    assert type(grpo) is GRPOTrainer and grpo.state.global_step == 2  # the script itself is a working GRPO script

    swapped = GRPO_SCRIPT.replace("from trl import", "from trl_vpd import").replace("GRPO", "VPD")
    assert "GRPO" not in swapped
    trainer = run_script(swapped, tmp_path / "vpd", tiny_model_dir)
    assert type(trainer) is VPDTrainer
    assert trainer.state.global_step == 2
    initial = dict(AutoModelForCausalLM.from_pretrained(tiny_model_dir).named_parameters())
    moved = {n for n, p in trainer.model.named_parameters() if not torch.equal(p.detach(), initial[n])}
    assert len(moved) > 0.9 * len(initial)
    # The VPD defaults ran: no feedback source, sibling solutions on, an E-step on every step (e_step_every=1).
    assert logged(trainer, "vpd/feedback_coverage") == [0.0, 0.0]
    assert len(logged(trainer, "vpd/sibling_solution_coverage")) == 2
    assert len(logged(trainer, "vpd/e_loss")) == 2
    assert all(math.isfinite(entry["loss"]) for entry in trainer.state.log_history if "loss" in entry)


PASSIVE = dict(teacher_mode="frozen", e_step=False)
# a teacher adapter on a frozen copy of the initial model, trained on every step (on both context kinds, its default):
# its E-step must not reach the student; every failure's critique shown, so that the teacher reads feedback each step
COPY_ADAPTER = dict(teacher_mode="adapter", e_step=True, e_step_every=1, feedback_only_without_solution=False)


@pytest.mark.parametrize(
    "grpo_options, teacher",
    [
        (dict(), PASSIVE),
        (dict(loss_type="grpo", num_iterations=2, beta=0.04, mask_truncated_completions=True), PASSIVE),
        (dict(), COPY_ADAPTER),
        (dict(loss_type="grpo", num_iterations=2, beta=0.04, mask_truncated_completions=True), COPY_ADAPTER),
        (dict(loss_type="vespo", num_iterations=2), PASSIVE),
        (dict(loss_type="sapo", steps_per_generation=2), COPY_ADAPTER),
    ],
    ids=["passive", "passive-grpo-features", "copy_adapter", "copy_adapter-grpo-features", "passive-vespo",
         "copy_adapter-sapo"],
)
def test_weight_zero_trains_exactly_as_grpo(tmp_path, tiny_model_dir, grpo_options, teacher):
    """With the distillation weighted 0, VPDTrainer is GRPOTrainer: the same sampled rollouts, losses and weights, bit
    for bit, although every failure has feedback and a teacher reads it each step (whatever the teacher path does must
    not touch the sampler's randomness or GRPO's loss) — also when an E-step trains a full-weights student's teacher
    adapter every step (its gradient reaches that adapter only)."""
    from trl import GRPOConfig

    common = dict(per_device_train_batch_size=4, num_generations=4, max_completion_length=8, max_steps=3,
                  learning_rate=1e-2, report_to="none", save_strategy="no", logging_steps=1, seed=0, **grpo_options)  # fmt: skip
    dataset = make_dataset()
    grpo = GRPOTrainer(model=str(tiny_model_dir), reward_funcs=id_reward, train_dataset=dataset,
                       args=GRPOConfig(output_dir=str(tmp_path / "grpo"), **common))  # fmt: skip
    grpo.train()
    vpd = VPDTrainer(model=str(tiny_model_dir), reward_funcs=id_reward, train_dataset=dataset,
                     args=make_config(tmp_path / "vpd", distillation_weight=0.0, **teacher, **common))  # fmt: skip
    teacher_before = [p.detach().clone() for p in vpd.teacher.parameters()]
    vpd.train()
    if teacher["e_step"]:
        assert len(logged(vpd, "vpd/e_loss")) == 3
        assert any(not torch.equal(p, q) for p, q in zip(vpd.teacher.parameters(), teacher_before, strict=True))
    assert min(logged(vpd, "vpd/feedback_coverage")) > 0  # the teacher read feedback on every step
    assert logged(vpd, "loss") == logged(grpo, "loss")
    assert logged(vpd, "reward") == logged(grpo, "reward")
    theirs = dict(grpo.model.named_parameters())
    assert all(torch.equal(p, theirs[n]) for n, p in vpd.model.named_parameters())


# ---------------------------------------------------------------------------------------------------- the student loss


def grads(model, loss):
    model.zero_grad(set_to_none=True)
    loss.backward()
    out = {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad(set_to_none=True)
    return out


def reference_distillation(trainer, inputs, has_context, alpha, topk=None):
    """An independent computation of the M-step from the model's materialized logits: KL(student‖teacher) (alpha=1)
    or KL(teacher‖student) (alpha=0) per completion token — over the whole vocabulary, or with `topk` on the student's
    top-k tokens plus one tail bucket — summed over samples with context, divided by the completion tokens."""
    model = trainer.model
    completion_ids, mask = inputs["completion_ids"], inputs["completion_mask"].float()
    t = completion_ids.size(1)

    def next_token_logps(ids, attention):
        logits = model(input_ids=ids, attention_mask=attention, use_cache=False).logits[:, -t - 1 : -1]
        return torch.log_softmax(logits.float() / trainer.temperature, dim=-1)

    student = next_token_logps(
        torch.cat([inputs["prompt_ids"], completion_ids], 1),
        torch.cat([inputs["prompt_mask"], inputs["completion_mask"]], 1),
    )
    with torch.no_grad():  # shared teacher: same weights, feedback prompt, detached
        teacher = next_token_logps(inputs["teacher_input_ids"], inputs["teacher_attention_mask"])
    if topk is not None:
        index = student.detach().topk(topk, dim=-1).indices
        outside = torch.ones_like(student, dtype=torch.bool).scatter(-1, index, False)

        def bucketed(logp):
            return torch.cat([logp.gather(-1, index), logp.masked_fill(~outside, -math.inf).logsumexp(-1, True)], -1)

        student, teacher = bucketed(student), bucketed(teacher)
    if alpha == 1.0:
        per_token = (student.exp() * (student - teacher)).sum(-1)
    else:
        per_token = (teacher.exp() * (teacher - student)).sum(-1)
    return (per_token * mask * has_context.unsqueeze(1)).sum() / mask.sum()


@pytest.mark.parametrize(
    "weight, context, alpha, topk, mixing",
    [
        (0.0, [1, 1, 1, 1], 1.0, None, "interpolate"),  # weight 0: GRPO alone, although every sample has feedback
        (0.5, [0, 0, 0, 0], 1.0, None, "interpolate"),  # no sample has context: GRPO alone, whatever the weight
        (1.0, [1, 1, 1, 1], 1.0, None, "interpolate"),  # pure distillation where feedback exists: the GRPO term vanishes
        (0.5, [1, 0, 1, 0], 1.0, None, "interpolate"),  # mixed: (1 − w)·GRPO on samples with context, GRPO on the others, + w·distill
        (0.5, [0, 1, 1, 0], 0.0, None, "interpolate"),  # the same with forward KL
        (0.5, [1, 0, 1, 0], 1.0, 5, "interpolate"),  # top-5 + tail, computed in chunks of 3 tokens from the hidden states
        (0.5, [0, 1, 1, 1], 0.0, 5, "interpolate"),
        (1.0, [1, 1, 1, 1], 1.0, None, "add"),  # `add`: the whole GRPO term stays, w·distill on top
        (0.5, [1, 0, 1, 0], 1.0, 5, "add"),
    ],
)
def test_student_loss_is_grpo_plus_weighted_distillation(tmp_path, tiny_tokenizer, weight, context, alpha, topk, mixing):
    check_student_loss(tmp_path, tiny_tokenizer, weight, context, alpha, topk, mixing)


@pytest.mark.parametrize("loss_type", ["grpo", "bnpo", "dr_grpo", "cispo", "sapo", "luspo", "vespo"])
def test_student_loss_is_grpo_plus_weighted_distillation_for_every_loss_type(tmp_path, tiny_tokenizer, loss_type):
    """Every GRPO policy term is linear in the advantages, so scaling them by (1 − w) on rollouts with context is
    (1 − w)·L_GRPO whatever the `loss_type` (DAPO, the default, above)."""
    trainer, inputs = check_student_loss(tmp_path, tiny_tokenizer, 0.5, [1, 0, 1, 0], 1.0, 5, "interpolate",
                                         loss_type=loss_type)  # fmt: skip
    model = trainer.model
    whole = grads(model, GRPOTrainer._compute_loss(trainer, model, inputs))
    halved = grads(model, GRPOTrainer._compute_loss(trainer, model, {**inputs, "advantages": inputs["advantages"] / 2}))
    assert set(halved) == set(whole) and max(g.abs().max().item() for g in whole.values()) > 1e-4
    for name, grad in halved.items():
        torch.testing.assert_close(grad, whole[name] / 2, rtol=1e-5, atol=1e-8, msg=name)


def check_student_loss(tmp_path, tiny_tokenizer, weight, context, alpha, topk, mixing, loss_type="dapo"):
    """VPD's student loss and gradients on one prepared batch equal GRPO's `_compute_loss` with the advantages scaled
    by (1 − w·context) (or kept whole, `add`) plus w × an independent M-step computed from the materialized logits."""
    trainer = make_trainer(
        tmp_path, tiny_tokenizer, teacher_mode="shared", e_step=False, distillation_weight=weight,
        distillation_mode="full" if topk is None else "topk", distillation_alpha=alpha,
        distillation_topk=topk or 100, distillation_chunk_tokens=3, distillation_mixing=mixing, loss_type=loss_type,
    )  # fmt: skip
    inputs = prepared_batch(trainer)
    assert inputs["vpd_has_context"].tolist() == [1.0] * 4  # every row has a hint
    assert inputs["advantages"].abs().sum() > 0
    has_context = torch.tensor(context, dtype=torch.float32)
    inputs["vpd_has_context"] = has_context
    model = trainer.model

    vpd_loss = trainer._compute_loss(model, inputs)
    vpd_grads = grads(model, vpd_loss)
    kept = 1 - weight * has_context if mixing == "interpolate" else torch.ones_like(has_context)
    scaled = {**inputs, "advantages": inputs["advantages"] * kept}
    grpo_loss = GRPOTrainer._compute_loss(trainer, model, scaled)
    expected_grads = grads(model, grpo_loss)
    expected_loss = grpo_loss.detach()

    distills = trainer._metrics["train"]["vpd/distill_loss"]
    if weight > 0 and has_context.any():
        reference = reference_distillation(trainer, inputs, has_context, alpha, topk)
        assert reference.item() > 0
        assert distills[-1] == pytest.approx(reference.item(), rel=1e-4, abs=1e-7)
        for name, grad in grads(model, weight * reference).items():
            expected_grads[name] = expected_grads.get(name, 0) + grad
        expected_loss = expected_loss + weight * reference.detach()
    else:
        assert distills == []  # no distillation term at all
        assert vpd_loss.item() == pytest.approx(expected_loss.item(), abs=1e-6)

    torch.testing.assert_close(vpd_loss.detach(), expected_loss, rtol=1e-4, atol=1e-6)
    assert set(vpd_grads) == set(expected_grads)
    for name, grad in vpd_grads.items():
        torch.testing.assert_close(grad, expected_grads[name], rtol=1e-3, atol=1e-6, msg=name)
    return trainer, inputs


def backbone_gradient_norm(model, loss_fn) -> tuple[torch.Tensor, float]:
    """loss_fn() and the norm of its gradient at the outputs of the model's backbone (all forwards with a graph), read
    by `retain_grad` and an ordinary backward: independent of the trainer's `autograd.grad` reading."""
    outputs = []

    def keep(module, args, output):
        if output.last_hidden_state.requires_grad:
            output.last_hidden_state.retain_grad()
            outputs.append(output.last_hidden_state)

    handle = model.base_model.register_forward_hook(keep)
    try:
        loss = loss_fn()
    finally:
        handle.remove()
    model.zero_grad(set_to_none=True)
    loss.backward(retain_graph=True)
    model.zero_grad(set_to_none=True)
    return loss, math.sqrt(sum(h.grad.pow(2).sum().item() for h in outputs if h.grad is not None))


@pytest.mark.parametrize("ratio, capped", [(0.3, False), (2.0, False), (2.0, True)])
def test_gradient_ratio_sets_the_distillation_to_a_multiple_of_grpos_gradient_at_the_hidden_states(
    tmp_path, tiny_tokenizer, ratio, capped
):
    """With `distillation_gradient_ratio` r the first step's loss is (1 − w·context)-scaled GRPO + c·L_distill with
    c = r·‖∂L_GRPO/∂h‖ / ‖∂L_distill/∂h‖ at the backbone's outputs h, so c·L_distill's gradient there is r × GRPO's;
    with `distillation_gradient_capped` c is at most w."""
    weight = 0.5
    trainer = make_trainer(
        tmp_path, tiny_tokenizer, teacher_mode="shared", e_step=False, distillation_weight=weight,
        distillation_mode="full", distillation_gradient_ratio=ratio, distillation_gradient_capped=capped,
    )  # fmt: skip
    inputs = prepared_batch(trainer)
    assert inputs["advantages"].abs().sum() > 0
    has_context = inputs["vpd_has_context"]
    model = trainer.model
    vpd_grads = grads(model, trainer._compute_loss(model, inputs))

    scaled = {**inputs, "advantages": inputs["advantages"] * (1 - weight * has_context)}
    grpo_loss, grpo_norm = backbone_gradient_norm(model, lambda: GRPOTrainer._compute_loss(trainer, model, scaled))
    reference, distill_norm = backbone_gradient_norm(
        model, lambda: reference_distillation(trainer, inputs, has_context, alpha=1.0)
    )
    assert grpo_norm > 1e-6 and distill_norm > 1e-6
    (logged_grpo,) = trainer._metrics["train"]["vpd/grad_norm_grpo"]
    (logged_distill,) = trainer._metrics["train"]["vpd/grad_norm_distill"]
    (coefficient,) = trainer._metrics["train"]["vpd/distill_coefficient"]
    assert logged_grpo == pytest.approx(grpo_norm, rel=1e-3)
    assert logged_distill == pytest.approx(distill_norm, rel=1e-3)
    balanced = ratio * grpo_norm / distill_norm
    assert balanced != pytest.approx(weight, rel=0.05)  # the constant weight is not what the balance gives
    if capped:
        assert balanced > weight and coefficient == weight  # the cap binds
    else:
        assert coefficient == pytest.approx(balanced, rel=1e-3)

    expected = grads(model, grpo_loss)
    for name, grad in grads(model, coefficient * reference).items():
        expected[name] = expected.get(name, 0) + grad
    assert set(vpd_grads) == set(expected)
    for name, grad in vpd_grads.items():
        torch.testing.assert_close(grad, expected[name], rtol=1e-3, atol=1e-6, msg=name)
    # evaluation reads the coefficient training reached, without measuring or moving it
    assert trainer._distillation_coefficient(None, None, None, weight, "eval") == pytest.approx(coefficient)
    assert len(trainer._metrics["train"]["vpd/distill_coefficient"]) == 1


@pytest.mark.parametrize(
    "mode, alpha",
    [("full", 0.0), ("full", 0.5), ("full", 1.0), ("topk", 0.0), ("topk", 0.5), ("topk", 1.0), ("sampled", 1.0)],
)
def test_every_distillation_mode_and_alpha_trains_one_step(tmp_path, tiny_tokenizer, mode, alpha):
    trainer = make_trainer(
        tmp_path, tiny_tokenizer, distillation_mode=mode, distillation_alpha=alpha, max_steps=1, conversational=True
    )
    before = snapshot(trainer.model.named_parameters())
    trainer.train()
    assert trainer.state.global_step == 1
    assert changed(before, trainer.model.named_parameters())
    (distill,) = logged(trainer, "vpd/distill_loss")
    (kl,) = logged(trainer, "vpd/teacher_student_kl")
    assert math.isfinite(distill) and math.isfinite(kl)
    if mode != "sampled":
        assert distill >= 0  # a divergence
    assert len(logged(trainer, "vpd/e_loss")) == 1


# ------------------------------------------------------------------------------------------------ feedback plumbing


def test_feedback_column_and_functions_are_combined_in_training(tmp_path, tiny_tokenizer):
    calls = []

    def critique(prompts, completions, completion_ids, idx, hint, rewards, trainer_state, **kwargs):
        calls.append(
            {"idx": idx, "hint": hint, "rewards": rewards, "ids": completion_ids, "state": trainer_state}
        )
        return ["too small" if k % 2 == 0 else " " for k in range(len(prompts))]  # " " counts as empty

    trainer = make_trainer(tmp_path, tiny_tokenizer, feedback_funcs=critique, max_steps=1, e_step=False,
                           feedback_only_without_solution=False)  # fmt: skip
    built = []
    original_build = trainer.context_builder.build

    def build(*args, **kwargs):
        built.append((kwargs["feedback"], original_build(*args, **kwargs)))
        return built[-1][1]

    trainer.context_builder.build = build
    trainer.train()

    (call,) = calls
    (feedback, contexts), = built  # fmt: skip
    assert call["state"] is trainer.state
    assert len(call["idx"]) == 4
    assert call["rewards"] == pytest.approx(id_reward(call["ids"]))  # the (weighted) rewards of these completions
    assert call["hint"] == [f"the answer is {2 * i + 1}" for i in call["idx"]]
    expected = [hint + ("\n\ntoo small" if k % 2 == 0 else "") for k, hint in enumerate(call["hint"])]
    assert feedback == expected
    assert contexts.feedback == expected
    assert logged(trainer, "vpd/empty_feedback") == [2.0]
    assert logged(trainer, "vpd/feedback_coverage") == [1.0]


def test_blank_feedback_everywhere_means_no_distillation(tmp_path, tiny_tokenizer):
    dataset = make_dataset().map(lambda row: {"hint": "   "})
    trainer = make_trainer(
        tmp_path, tiny_tokenizer, dataset=dataset, use_sibling_solutions=False, max_steps=1, e_step=False
    )
    trainer.train()
    assert logged(trainer, "vpd/feedback_coverage") == [0.0]
    assert logged(trainer, "vpd/empty_feedback") == [4.0]
    assert logged(trainer, "vpd/distill_loss") == []


# ---------------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("where", ["train", "eval", "eval_dict"])
def test_missing_feedback_column_is_named(tmp_path, tiny_tokenizer, where):
    from trl_vpd.tiny import build_tiny_model

    good, bad = make_dataset(feedback_column="solution_hint"), make_dataset(feedback_column="hint")
    train, evaluation = {"train": (bad, None), "eval": (good, bad), "eval_dict": (good, {"a": good, "b": bad})}[where]
    with pytest.raises(ValueError, match=r"feedback_column='solution_hint' is not a column.*'hint'"):
        VPDTrainer(
            model=build_tiny_model(tiny_tokenizer),
            reward_funcs=id_reward,
            args=make_config(tmp_path, feedback_column="solution_hint"),
            train_dataset=train,
            eval_dataset=evaluation,
            processing_class=tiny_tokenizer,
        )


def _raises_on_idx_1(prompts, idx, **kwargs):
    _raises_on_idx_1.seen.append(list(idx))
    if 1 in idx:
        raise ZeroDivisionError("cannot critique prompt 1")
    return [None] * len(prompts)


def _one_item(prompts, **kwargs):
    return ["only one"]


def _numbers(prompts, **kwargs):
    return [0.5] * len(prompts)


@pytest.mark.parametrize(
    "func, pattern",
    [
        (_raises_on_idx_1, r"Feedback function '_raises_on_idx_1' raised ZeroDivisionError: cannot critique prompt 1"),
        (_one_item, r"'_one_item' returned 1 items, but 4 were expected"),
        (_numbers, r"'_numbers' returned a float for sample 0"),
    ],
)
def test_bad_feedback_function_stops_training_with_its_name(tmp_path, tiny_tokenizer, func, pattern):
    _raises_on_idx_1.seen = []
    trainer = make_trainer(
        tmp_path, tiny_tokenizer, feedback_funcs=[func], dataset=make_dataset(n=2), num_generations=2
    )
    before = snapshot(trainer.model.named_parameters())
    with pytest.raises(FeedbackFunctionError, match=pattern) as info:
        trainer.train()
    if func is _raises_on_idx_1:
        batch_idx = _raises_on_idx_1.seen[0]
        assert sorted(batch_idx) == [0, 0, 1, 1]
        assert f"sample {batch_idx.index(1)} of 4" in str(info.value)
        assert isinstance(info.value.__cause__, ZeroDivisionError)
    assert not changed(before, trainer.model.named_parameters())


@pytest.mark.parametrize(
    "source", ["grpo_nan", "distillation_nan_topk", "distillation_nan_sampled", "e_loss_nan", "adapter_e_loss_nan"]
)
def test_non_finite_loss_stops_before_the_update(tmp_path, tiny_tokenizer, monkeypatch, source):
    import trl_vpd.e_step_runner as e_step_runner
    import trl_vpd.trainer as trainer_module

    kwargs = {}
    if source == "grpo_nan":  # (an infinite reward does not do it: GRPO's advantages absorb it)
        original_grpo = GRPOTrainer._compute_loss
        monkeypatch.setattr(GRPOTrainer, "_compute_loss", lambda *a, **k: original_grpo(*a, **k) * float("nan"))
    elif source.startswith("distillation_nan"):
        mode = source.rsplit("_", 1)[1]
        name = "head_divergence" if mode == "topk" else "per_token_distillation"
        original = getattr(trainer_module, name)
        monkeypatch.setattr(trainer_module, name, lambda *a, **k: original(*a, **k) * float("nan"))
        kwargs.update(distillation_mode=mode)
    else:
        original_e = e_step_runner.e_step_loss

        def nan_e_loss(*args, **kw):
            loss, stats = original_e(*args, **kw)
            return loss * float("nan"), stats

        monkeypatch.setattr(e_step_runner, "e_step_loss", nan_e_loss)
        if source == "adapter_e_loss_nan":
            kwargs.update(teacher_mode="adapter", peft=True)

    trainer = make_trainer(tmp_path, tiny_tokenizer, **kwargs)
    before = snapshot(trainer.model.named_parameters())
    what = {
        "grpo_nan": "total loss",
        "distillation_nan_topk": "distillation loss",
        "distillation_nan_sampled": "distillation loss",
        "e_loss_nan": "E-step loss",
        "adapter_e_loss_nan": "E-step loss",
    }[source]
    with pytest.raises(VPDNumericalError, match=f"The {what} is nan at step 0"):
        trainer.train()
    assert trainer.state.global_step == 0
    assert not changed(before, trainer.model.named_parameters()), "no weight (student or teacher) may change"


@pytest.mark.parametrize("mode, raises", [("topk", True), ("full", True), ("sampled", False)])
def test_unsupported_lm_head_scaling_fails_at_construction(tmp_path, tiny_tokenizer, mode, raises):
    """Granite-style `logits_scaling` is applied by TRL's fused head but not by our chunked projection: the trainer
    must refuse it when built, not at the first M-step; the sampled M-step never projects, so it is unaffected."""
    from trl_vpd.tiny import build_tiny_model

    model = build_tiny_model(tiny_tokenizer)
    model.config.logits_scaling = 8.0
    if raises:
        with pytest.raises(NotImplementedError, match="logits_scaling"):
            make_trainer(tmp_path, tiny_tokenizer, model=model, distillation_mode=mode, distillation_alpha=1.0)
    else:
        make_trainer(tmp_path, tiny_tokenizer, model=model, distillation_mode=mode)
