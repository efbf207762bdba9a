"""The top-k / full M-step computed from hidden states and the LM head, a chunk of positions at a time, must equal the
same divergence on materialized logits (values and gradients), and must never hold more than one chunk's logits."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from trl_vpd.losses import OutputHead, full_vocab_divergence, head_divergence, topk_divergence

N, H, V = 23, 8, 40


def _np_log_softmax(x):
    x = np.asarray(x, dtype=np.float64)
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def _inputs(seed=0, softcap=None, scale=1.0, frozen_head=False):
    """Hidden states and heads; `frozen_head` is the LoRA case (only the hidden states need a gradient)."""
    g = torch.Generator().manual_seed(seed)
    student_head = OutputHead(
        torch.randn(V, H, generator=g, requires_grad=not frozen_head), torch.randn(V, generator=g), scale, softcap
    )
    teacher_head = OutputHead(torch.randn(V, H, generator=g), None, scale, softcap)
    h_s = torch.randn(N, H, generator=g, requires_grad=True)
    h_t = torch.randn(N, H, generator=g)
    return h_s, h_t, student_head, teacher_head


def _materialized(mode, h_s, h_t, s_head, t_head, alpha, temperature, topk):
    s_logits, t_logits = s_head.logits(h_s, temperature), t_head.logits(h_t, temperature)
    if mode == "full":
        return full_vocab_divergence(s_logits, t_logits, alpha)
    return topk_divergence(s_logits, t_logits, topk, alpha)


def test_output_head_logits_follow_the_formula():
    h_s, _, head, _ = _inputs(softcap=3.0, scale=0.5)
    expected = (h_s.detach().double() @ head.weight.detach().double().T + head.bias.double()) * 0.5
    expected = 3.0 * torch.tanh(expected / 3.0) / 0.7
    torch.testing.assert_close(head.logits(h_s, 0.7).double(), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode", ["full", "topk"])
@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("softcap", [None, 4.0])
@pytest.mark.parametrize("frozen_head", [False, True])
def test_chunked_divergence_equals_the_materialized_one(mode, alpha, softcap, frozen_head):
    h_s, h_t, s_head, t_head = _inputs(softcap=softcap, scale=1.3, frozen_head=frozen_head)
    chunked = head_divergence(
        mode, h_s, h_t, s_head, t_head, alpha=alpha, temperature=0.7, topk=6, chunk_tokens=5
    )
    reference = _materialized(mode, h_s, h_t, s_head, t_head, alpha, 0.7, 6)
    torch.testing.assert_close(chunked, reference, rtol=1e-4, atol=1e-5)
    weights = [h_s] if frozen_head else [h_s, s_head.weight]
    # a non-uniform outer gradient: the row-wise path must scale each row by its own incoming gradient
    outer = torch.linspace(-1.0, 2.0, N)
    grads = torch.autograd.grad(chunked, weights, grad_outputs=outer)
    expected = torch.autograd.grad(reference, weights, grad_outputs=outer)
    for got, want in zip(grads, expected, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)


def test_full_head_divergence_matches_numpy_reverse_kl():
    h_s, h_t, s_head, t_head = _inputs(seed=3)
    out = head_divergence("full", h_s, h_t, s_head, t_head, alpha=1.0, temperature=1.0).detach().numpy()
    ls = _np_log_softmax(h_s.detach().numpy() @ s_head.weight.detach().numpy().T + s_head.bias.numpy())
    lt = _np_log_softmax(h_t.numpy() @ t_head.weight.numpy().T)
    expected = (np.exp(ls) * (ls - lt)).sum(-1)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("mode", ["full", "topk"])
def test_no_gradient_reaches_the_teacher(mode):
    h_s, h_t, s_head, _ = _inputs()
    h_t.requires_grad_(True)
    teacher_head = OutputHead(torch.randn(V, H, requires_grad=True))
    out = head_divergence(mode, h_s, h_t, s_head, teacher_head, alpha=0.5, topk=6, chunk_tokens=4)
    out.sum().backward()
    assert h_s.grad is not None and h_s.grad.abs().sum() > 0
    assert h_t.grad is None and teacher_head.weight.grad is None


def test_empty_selection_gives_an_attached_empty_result():
    h_s, h_t, s_head, t_head = _inputs()
    out = head_divergence("topk", h_s[:0], h_t[:0], s_head, t_head, alpha=1.0, topk=6)
    assert out.shape == (0,) and out.requires_grad
    out.sum().backward()  # no error: the (empty) graph is connected
    assert h_s.grad is not None and h_s.grad.abs().sum() == 0


class _LargestVocabRows(TorchDispatchMode):
    """Records the most rows of any new tensor (not a view of an input) an op produces whose last dimension is at least
    the vocabulary (logits, or TRL's vocabulary tiles)."""

    def __init__(self, vocab):
        super().__init__()
        self.vocab, self.rows = vocab, 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        inputs = torch.utils._pytree.tree_leaves((args, kwargs))
        shared = {x.untyped_storage().data_ptr() for x in inputs if isinstance(x, torch.Tensor)}
        for t in out if isinstance(out, (tuple, list)) else [out]:
            if not isinstance(t, torch.Tensor) or t.untyped_storage().data_ptr() in shared:
                continue
            if t.dim() >= 2 and t.shape[-1] >= self.vocab:
                self.rows = max(self.rows, math.prod(t.shape[:-1]))
        return out


@pytest.mark.parametrize("mode, frozen_head", [("topk", False), ("topk", True), ("full", False)])
@pytest.mark.parametrize("chunk_tokens, max_rows", [(4, 4), (64, N)])  # the second row is the detector's control
def test_never_more_than_one_chunk_of_logits(mode, frozen_head, chunk_tokens, max_rows):
    h_s, h_t, s_head, t_head = _inputs(frozen_head=frozen_head)
    with _LargestVocabRows(V) as probe:
        out = head_divergence(mode, h_s, h_t, s_head, t_head, alpha=1.0, topk=6, chunk_tokens=chunk_tokens)
        out.sum().backward()
    assert probe.rows == max_rows


def test_invalid_arguments_are_rejected():
    h_s, h_t, s_head, t_head = _inputs()
    with pytest.raises(ValueError, match="topk"):
        head_divergence("topk", h_s, h_t, s_head, t_head, alpha=1.0)
    with pytest.raises(ValueError, match="chunk_tokens"):
        head_divergence("topk", h_s, h_t, s_head, t_head, alpha=1.0, topk=3, chunk_tokens=0)
    with pytest.raises(ValueError, match="'full' or 'topk'"):
        head_divergence("sampled", h_s, h_t, s_head, t_head, alpha=1.0)
    with pytest.raises(ValueError, match="alpha"):
        head_divergence("full", h_s, h_t, s_head, t_head, alpha=1.5)


@pytest.mark.parametrize("frozen_head, projections_per_chunk", [(True, 2), (False, 4)])
def test_frozen_head_topk_is_not_recomputed_in_backward(monkeypatch, frozen_head, projections_per_chunk):
    """LoRA/QLoRA (frozen head): student + teacher projection once per chunk; a trainable head pays the checkpoint
    recompute of both in the backward."""
    h_s, h_t, s_head, t_head = _inputs(frozen_head=frozen_head)
    calls = []
    original = OutputHead.logits
    monkeypatch.setattr(OutputHead, "logits", lambda self, h, t: calls.append(1) or original(self, h, t))
    out = head_divergence("topk", h_s, h_t, s_head, t_head, alpha=1.0, topk=6, chunk_tokens=8)
    out.sum().backward()
    assert len(calls) == projections_per_chunk * math.ceil(N / 8)
    assert h_s.grad is not None and h_s.grad.abs().sum() > 0


# ---------------------------------------------------------------- the head as the model applies it (`output_head`)


def _model_and_head_logits(model, input_ids):
    """The model's own (tempered 1.0) logits of the last positions, and the same from `output_head` on the hidden
    states the backbone produced in that forward."""
    from trl_vpd.hidden_states import capture_final_hidden, output_head

    with torch.no_grad(), capture_final_hidden(model) as hidden:
        logits = model(input_ids=input_ids).logits
    return logits, output_head(model).logits(hidden[0], 1.0)


def _lora_on_head_model(tiny_model, modules_to_save=False, **lora_kwargs):
    """LoRA on q_proj and lm_head (or a `modules_to_save` copy of lm_head), with `lora_B` / the copy changed (PEFT
    initialises `lora_B` to 0, which would hide the delta), and a teacher adapter added as `teacher_mode="adapter"`
    does, changed differently."""
    from peft import LoraConfig, get_peft_model

    from trl_vpd.teacher import TEACHER_ADAPTER, add_adapter_copy

    targets = {"target_modules": ["q_proj"], "modules_to_save": ["lm_head"]} if modules_to_save else {
        "target_modules": ["q_proj", "lm_head"]
    }
    model = get_peft_model(tiny_model, LoraConfig(r=4, lora_alpha=8, task_type="CAUSAL_LM", **targets, **lora_kwargs))
    add_adapter_copy(model, "default", TEACHER_ADAPTER, trainable=True)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name or "modules_to_save" in name:
                param.add_(torch.randn(param.shape, generator=g) * (2.0 if TEACHER_ADAPTER in name else 1.0))
    return model


def test_the_peft_check_gives_accelerates_answer_and_asks_it_once_per_model(tiny_model, monkeypatch):
    """Defect: every teacher forward asked accelerate's `is_peft_model`, which re-reads package metadata on each call
    (~3 ms): 40 % of the demo's training time with a teacher adapter. Ours answers as accelerate does for a plain
    model, a PEFT model and its DDP-less base, and asks accelerate once per model object."""
    import accelerate.utils
    from peft import LoraConfig, get_peft_model

    from trl_vpd.hidden_states import causal_lm
    from trl_vpd.utils import is_peft_model

    peft_model = get_peft_model(tiny_model, LoraConfig(r=4, target_modules=["q_proj"], task_type="CAUSAL_LM"))
    base = peft_model.get_base_model()
    asked = []
    real = accelerate.utils.is_peft_model
    monkeypatch.setattr(accelerate.utils, "is_peft_model", lambda m: asked.append(m) or real(m))
    for _ in range(3):
        assert is_peft_model(peft_model) is True
        assert is_peft_model(base) is False
        assert causal_lm(peft_model) is base and causal_lm(base) is base
    assert asked == [peft_model, base]


def test_output_head_is_the_lm_head_of_a_plain_model(tiny_model):
    ids = torch.arange(3, 15).reshape(2, 6)
    logits, head_logits = _model_and_head_logits(tiny_model, ids)
    torch.testing.assert_close(head_logits, logits, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("routing", ["student", "teacher", "disabled"])
@pytest.mark.parametrize("modules_to_save", [False, True])
def test_output_head_applies_the_active_lora_adapter_of_the_lm_head(tiny_model, routing, modules_to_save):
    """Defect: `output_head` returned the base `lm_head.weight`, so a LoRA adapter on the head was missing from the
    top-k / full M-step's logits (student and teacher adapter alike); the head must be the one the model applies,
    a `modules_to_save` copy included."""
    from contextlib import nullcontext

    from trl_vpd.teacher import TEACHER_ADAPTER, active_adapter, disabled_adapters

    model = _lora_on_head_model(tiny_model, modules_to_save=modules_to_save)
    context = {
        "student": nullcontext(),
        "teacher": active_adapter(model, TEACHER_ADAPTER),
        "disabled": disabled_adapters(model),
    }[routing]
    ids = torch.arange(3, 15).reshape(2, 6)
    with context:
        logits, head_logits = _model_and_head_logits(model, ids)
        from trl_vpd.hidden_states import capture_final_hidden

        with torch.no_grad(), capture_final_hidden(model) as hidden:
            model(input_ids=ids)
        head = model.get_output_embeddings()
        base = head.original_module if modules_to_save else head.get_base_layer()
        base_logits = torch.nn.functional.linear(hidden[0], base.weight)
    torch.testing.assert_close(head_logits, logits, rtol=1e-5, atol=1e-5)
    if routing != "disabled":  # the adapter's change is large: the check above is not vacuous
        assert (base_logits - logits).abs().max() > 1.0


def test_output_head_of_a_lora_head_carries_the_adapter_gradient(tiny_model):
    """The student's distillation gradient must reach the head's LoRA weights, as the model's own logits' does."""
    from trl_vpd.hidden_states import output_head

    model = _lora_on_head_model(tiny_model)
    head = output_head(model)
    hidden = torch.randn(5, head.weight.shape[1])
    outer = torch.randn(5, head.weight.shape[0])
    (head.logits(hidden, 1.0) * outer).sum().backward()
    got = {n: p.grad.clone() for n, p in model.named_parameters() if "lm_head.lora" in n and p.grad is not None}
    model.zero_grad()
    (model.get_output_embeddings()(hidden).float() * outer).sum().backward()
    want = {n: p.grad for n, p in model.named_parameters() if "lm_head.lora" in n and p.grad is not None}
    assert set(got) == set(want) and got
    for name, grad in want.items():
        torch.testing.assert_close(got[name], grad, rtol=1e-4, atol=1e-4)


def test_output_head_refuses_a_dora_head(tiny_model):
    from trl_vpd.hidden_states import output_head

    with pytest.raises(NotImplementedError, match="lm_head"):
        output_head(_lora_on_head_model(tiny_model, use_dora=True))


@pytest.mark.parametrize("modules_to_save", [False, True])
def test_output_head_agrees_with_grpo_fused_log_probs(tiny_tokenizer, modules_to_save):
    """The student's GRPO log-probs come from TRL's fused LM head; the top-k / full M-step's head must give the same
    log-probs on the same hidden states, for every head GRPO admits (a `modules_to_save` copy of lm_head included)."""
    from peft import LoraConfig, get_peft_model
    from trl.trainer.utils import add_fused_lm_head

    from trl_vpd.hidden_states import capture_final_hidden, output_head
    from trl_vpd.tiny import build_tiny_model

    model = build_tiny_model(tiny_tokenizer)
    add_fused_lm_head(model, temperature=0.7)
    if modules_to_save:
        lora = LoraConfig(r=4, target_modules=["q_proj"], modules_to_save=["lm_head"], task_type="CAUSAL_LM")
        model = get_peft_model(model, lora)
        with torch.no_grad():
            for name, param in model.named_parameters():
                if "modules_to_save" in name:
                    param.add_(torch.randn_like(param))
    ids = torch.arange(3, 15).reshape(2, 6)
    with torch.no_grad(), capture_final_hidden(model) as hidden:
        fused = model(input_ids=ids, labels=ids, fused_lm_head=True).log_probs  # (B, L-1)
    logps = torch.log_softmax(output_head(model).logits(hidden[0][:, :-1], 0.7), -1)
    torch.testing.assert_close(logps.gather(-1, ids[:, 1:, None]).squeeze(-1), fused, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("teacher_mode", ["shared", "adapter"])
def test_a_lora_lm_head_is_refused_at_construction(tiny_model, tiny_tokenizer, teacher_mode):
    """TRL 1.16's GRPO log-probs read `lm_head.weight` directly (its fused head), so GRPOTrainer refuses a LoRA head at
    construction; VPDTrainer keeps that refusal (its student log-probs are GRPO's), before any step runs."""
    from datasets import Dataset
    from peft import LoraConfig

    from trl_vpd import VPDConfig, VPDTrainer

    args = VPDConfig(output_dir="unused", per_device_train_batch_size=4, num_generations=4, report_to="none",
                     teacher_mode=teacher_mode)  # fmt: skip
    lora = LoraConfig(r=4, target_modules=["q_proj", "lm_head"], task_type="CAUSAL_LM")
    dataset = Dataset.from_dict({"prompt": ["a", "b"]})
    with pytest.raises(ValueError, match="lm_head"):
        VPDTrainer(model=tiny_model, reward_funcs=lambda completions, **kw: [0.0] * len(completions), args=args,
                   train_dataset=dataset, processing_class=tiny_tokenizer, peft_config=lora)  # fmt: skip


@pytest.fixture
def single_process_group(tmp_path):
    """A 1-process gloo group on CPU, for FSDP2's `fully_shard` (accelerate does not start FSDP without a GPU here)."""
    import torch.distributed as dist

    if dist.is_initialized():
        pytest.skip("a process group is already initialized in this process")
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        yield
    finally:
        dist.destroy_process_group()


def _sharded_forward(tokenizer):
    """A tiny model sharded as in a real FSDP2 wrap (lm_head its own unit), an unsharded twin with the same weights,
    and the sharded model's forward: GRPO's fused log-probs, the backbone outputs it captured, and the log-probs the
    M-step computes from them through `output_head` (the head read after the forward)."""
    from torch.distributed.fsdp import fully_shard
    from trl.trainer.utils import add_fused_lm_head

    from trl_vpd.hidden_states import capture_final_hidden, output_head
    from trl_vpd.tiny import build_tiny_model

    model, reference = build_tiny_model(tokenizer), build_tiny_model(tokenizer)
    add_fused_lm_head(model)
    fully_shard(model.lm_head)
    fully_shard(model)
    ids = torch.arange(3, 15).reshape(2, 6)
    with capture_final_hidden(model) as hidden:
        fused = model(input_ids=ids, labels=ids, fused_lm_head=True).log_probs
    head = output_head(model)
    logps = torch.log_softmax(head.logits(hidden[0][:, :-1], 1.0), -1).gather(-1, ids[:, 1:, None]).squeeze(-1)
    return model, reference, ids, hidden, fused, logps


def _reference_logps(reference, ids):
    """The unsharded twin's log-probs and the backbone outputs they came from."""
    out = reference.model(input_ids=ids).last_hidden_state
    return torch.log_softmax(reference.lm_head(out[:, :-1]), -1).gather(-1, ids[:, 1:, None]).squeeze(-1), out


def test_output_head_under_fsdp2_gathers_the_sharded_head_with_its_gradient(tiny_tokenizer, single_process_group):
    """FSDP2 reshards lm_head (its own unit, as in a real wrap) after the forward, so the M-step reads a DTensor:
    `output_head` gathers it with `full_tensor()`, whose backward reduce-scatters into the sharded gradient. The
    log-probs equal GRPO's fused ones and the head's gradient (GRPO + distillation terms) equals the unsharded one."""
    from torch.distributed.tensor import DTensor

    model, reference, ids, _, fused, logps = _sharded_forward(tiny_tokenizer)
    assert isinstance(model.lm_head.weight, DTensor)  # resharded: what the M-step finds after the forward
    torch.testing.assert_close(logps, fused, rtol=1e-5, atol=1e-5)
    (logps.sum() + fused.sum()).backward()

    logps_ref, _ = _reference_logps(reference, ids)
    (2 * logps_ref.sum()).backward()
    torch.testing.assert_close(model.lm_head.weight.grad.full_tensor(), reference.lm_head.weight.grad)


def test_the_gradient_balances_norms_leave_fsdp2s_backward_intact(tiny_tokenizer, single_process_group):
    """`distillation_gradient_ratio` under FSDP2: the two norms are read by `autograd.grad` at the backbone outputs,
    through the sharded head's backward hooks, before the real backward. The norms equal the unsharded model's and the
    step's gradients (head and backbone, reduce-scattered into the shards) are unchanged by the reading."""
    from trl_vpd.gradient_balance import hidden_gradient_norms

    def losses(logps):  # a GRPO-like and a distillation-like term, shaped differently
        return -logps.mean(), logps.pow(2).mean()

    model, reference, ids, hidden, fused, logps = _sharded_forward(tiny_tokenizer)
    grpo, distill = -fused.mean(), losses(logps)[1]
    norms = hidden_gradient_norms([grpo, distill], hidden, lambda squares: squares)
    (grpo + 0.3 * distill).backward()

    logps_ref, out = _reference_logps(reference, ids)
    grpo_ref, distill_ref = losses(logps_ref)
    expected = [torch.autograd.grad(loss, out, retain_graph=True)[0].norm().item() for loss in (grpo_ref, distill_ref)]
    assert norms == pytest.approx(expected, rel=1e-5)
    (grpo_ref + 0.3 * distill_ref).backward()
    sharded = dict(model.named_parameters())
    for name, param in reference.named_parameters():
        torch.testing.assert_close(sharded[name].grad.full_tensor(), param.grad, rtol=1e-5, atol=1e-6, msg=name)
