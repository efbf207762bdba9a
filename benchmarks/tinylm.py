"""The benchmark's tiny language model: a tokenizer and a Qwen2-shaped model built locally, pretrained (SFT from
scratch, plain torch) on the task family so that it solves the task *sometimes* and can *partly* use feedback given in
VPD's teacher template. Cached under a directory keyed by the configuration.

The task family (`PretrainConfig.family`, default `"letters"`: `task.py`; `"lookup"`: `task_lookup.py`) decides the
problems, the verifier and the tokenizer's corpus; every function that evaluates takes the family module as `fam`.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from types import SimpleNamespace

import torch

from trl_vpd.config import (
    DEFAULT_ATTEMPT_TEMPLATE,
    DEFAULT_FEEDBACK_TEMPLATE,
    DEFAULT_SOLUTION_TEMPLATE,
    DEFAULT_TEACHER_TEMPLATE,
)
from trl_vpd.teacher_context import TeacherContextBuilder

from . import task

CACHE_DIR = Path(os.environ.get("VPD_BENCH_CACHE", Path(__file__).parent / ".cache"))
TEMPLATE_ARGS = SimpleNamespace(
    teacher_template=DEFAULT_TEACHER_TEMPLATE,
    attempt_template=DEFAULT_ATTEMPT_TEMPLATE,
    feedback_template=DEFAULT_FEEDBACK_TEMPLATE,
    solution_template=DEFAULT_SOLUTION_TEMPLATE,
)


@dataclass
class PretrainConfig:
    hidden_size: int = 64
    num_layers: int = 2
    intermediate_size: int = 128
    num_heads: int = 4
    num_kv_heads: int = 2
    vocab_size: int = 600
    num_problems: int = 6000
    feedback_fraction: float = 0.3  # share of SFT examples in the teacher template with verifier feedback
    solution_fraction: float = 0.1  # ... and with a correct sibling solution
    feedback_and_solution_fraction: float = 0.0  # ... and with both (what VPD's teacher sees on a failure with siblings)
    batch_size: int = 64
    learning_rate: float = 3e-3
    max_steps: int = 1500
    target_student_accuracy: float = 0.35  # stop pretraining once greedy held-out accuracy reaches this ...
    target_teacher_fix_rate: float = 0.0  # ... and the teacher's fix rate with feedback reaches this
    target_teacher_copy_rate: float = 0.0  # ... and its success with a correct solution shown reaches this
    eval_every: int = 50
    seed: int = 0
    family: str = "letters"  # task family (`task.family`); left out of the cache key when "letters"

    def key(self) -> str:
        fields = asdict(self)
        if fields["family"] == "letters":  # the keys (and cached models) recorded before families existed stay valid
            del fields["family"]
        for name in ("feedback_and_solution_fraction", "target_teacher_copy_rate"):  # likewise for later fields
            if not fields[name]:
                del fields[name]
        return hashlib.sha1(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:12]


def teacher_prompt(question: str, feedback: str | None = None, solution: str | None = None) -> list[dict]:
    """The prompt VPD's teacher reads: `TeacherContextBuilder.render` with the default templates."""
    prompt = [{"role": "user", "content": question}]
    builder = TeacherContextBuilder(None, TEMPLATE_ARGS)
    return builder.render(prompt, {"attempt": None, "feedback": feedback, "solution": solution})


def build_tokenizer(vocab_size: int = 600, family: str = "letters"):
    from trl_vpd.tiny import build_tiny_tokenizer

    corpus = task.family(family).tokenizer_corpus()
    corpus += [DEFAULT_TEACHER_TEMPLATE, DEFAULT_FEEDBACK_TEMPLATE, DEFAULT_SOLUTION_TEMPLATE] * 20
    return build_tiny_tokenizer(vocab_size=vocab_size, extra_corpus=corpus)


def chat_ids(tok, messages, add_generation_prompt=True) -> list[int]:
    return tok.apply_chat_template(messages, add_generation_prompt=add_generation_prompt, tokenize=True, return_dict=True)[
        "input_ids"
    ]


def sft_examples(cfg: PretrainConfig, problems: list[dict]) -> list[tuple[list[dict], str]]:
    """(prompt messages, target) pairs: plain problems, plus problems in the teacher template with feedback on a
    corrupted attempt or with a correct solution shown, whose target is the correct answer."""
    fam = task.family(cfg.family)
    diagnose = getattr(fam, "pretrain_diagnose", fam.diagnose)  # a family may pretrain on another feedback than its own
    rng = random.Random(cfg.seed + 1)
    out = []
    for p in problems:
        u = rng.random()
        if u < cfg.feedback_fraction:
            fb = diagnose(fam.decoy(p, rng), p["answer"])
            out.append((teacher_prompt(p["question"], feedback=fb), p["answer"]))
        elif u < cfg.feedback_fraction + cfg.solution_fraction:
            out.append((teacher_prompt(p["question"], solution=p["answer"]), p["answer"]))
        elif u < cfg.feedback_fraction + cfg.solution_fraction + cfg.feedback_and_solution_fraction:
            fb = diagnose(fam.decoy(p, rng), p["answer"])
            out.append((teacher_prompt(p["question"], feedback=fb, solution=p["answer"]), p["answer"]))
        else:
            out.append(([{"role": "user", "content": p["question"]}], p["answer"]))
    return out


def _encode(tok, prompt, target):
    prompt_ids = chat_ids(tok, prompt)
    target_ids = tok(target, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    return prompt_ids + target_ids, [-100] * len(prompt_ids) + target_ids


@torch.no_grad()
def generate(model, tok, prompts: list[list[dict]], max_new_tokens: int = 16, batch_size: int = 64, do_sample=False):
    """Greedy (or sampled) completions, decoded, for chat prompts."""
    model_was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    texts = []
    for start in range(0, len(prompts), batch_size):
        ids = [chat_ids(tok, p) for p in prompts[start : start + batch_size]]
        width = max(map(len, ids))
        input_ids = torch.tensor([[tok.pad_token_id] * (width - len(x)) + x for x in ids], device=device)
        mask = torch.tensor([[0] * (width - len(x)) + [1] * len(x) for x in ids], device=device)
        out = model.generate(
            input_ids=input_ids,
            attention_mask=mask,
            max_new_tokens=max_new_tokens,
            do_sample=do_sample,
            pad_token_id=tok.pad_token_id,
            eos_token_id=tok.eos_token_id,
        )
        texts += tok.batch_decode(out[:, width:], skip_special_tokens=True)
    if model_was_training:
        model.train()
    return texts


def student_accuracy(model, tok, problems, fam=task) -> tuple[float, list[str]]:
    texts = generate(model, tok, [[{"role": "user", "content": p["question"]}] for p in problems])
    return sum(fam.is_correct(t, p["answer"]) for t, p in zip(texts, problems)) / len(problems), texts


def misleading_feedback(fam, problem: dict, attempt: str) -> str:
    """Feedback on `attempt` as if a wrong answer (`fam.decoy`: a corrupted answer, another table value) were the
    right one: it points away from the answer. Deterministic per (problem, attempt)."""
    rng = random.Random(zlib.crc32(f"{problem['question']}|{attempt}".encode()))
    for i in range(40):
        # the family's decoy first; if it keeps being the attempt itself (a two-entry table), any corrupted answer
        wrong = fam.decoy(problem, rng) if i < 10 else fam.corrupt(problem["answer"], rng)
        feedback = fam.diagnose(attempt, wrong)
        if feedback is not None:
            return feedback
    raise RuntimeError(f"no misleading feedback for {problem} / {attempt!r}")


FEEDBACK_KINDS = ("real", "none", "misleading")
COPY_KINDS = ("solution", "real+solution")  # a correct solution shown, alone or beside the verifier's feedback


def teacher_fix_rates(model, tok, problems, attempts: list[str], fam=task, kinds=FEEDBACK_KINDS) -> tuple[dict, int]:
    """Greedy success of the model in the teacher template on the problems whose attempt failed, per kind of
    feedback on that attempt: "real" (the verifier's), "none" (the teacher template without feedback), "misleading"
    (`misleading_feedback`). A teacher that reads the feedback does better with "real" than with "none", and worse
    with "misleading". `COPY_KINDS` show the correct answer as a sibling's solution: how well the teacher copies it.
    Returns ({kind: rate}, #failed); rates are NaN when nothing failed."""
    failed = [(p, a) for p, a in zip(problems, attempts) if not fam.is_correct(a, p["answer"])]
    if not failed:
        return {k: float("nan") for k in kinds}, 0
    feedback = {
        "real": lambda p, a: fam.diagnose(a, p["answer"]),
        "none": lambda p, a: None,
        "misleading": lambda p, a: misleading_feedback(fam, p, a),
        "solution": lambda p, a: None,
        "real+solution": lambda p, a: fam.diagnose(a, p["answer"]),
    }
    rates = {}
    for kind in kinds:
        solution = (lambda p: p["answer"]) if kind in COPY_KINDS else (lambda p: None)
        prompts = [teacher_prompt(p["question"], feedback=feedback[kind](p, a), solution=solution(p)) for p, a in failed]
        texts = generate(model, tok, prompts)
        rates[kind] = sum(fam.is_correct(t, p["answer"]) for t, (p, _) in zip(texts, failed)) / len(failed)
    return rates, len(failed)


def teacher_fix_rate(model, tok, problems, attempts: list[str], fam=task) -> tuple[float, int]:
    """Greedy success of the model in the teacher template, given the verifier's feedback on `attempts`, over the
    problems whose attempt failed (the teacher's own success rate with feedback). Returns (rate, #failed)."""
    rates, n_failed = teacher_fix_rates(model, tok, problems, attempts, fam, kinds=("real",))
    return rates["real"], n_failed


def pretrain(cfg: PretrainConfig, eval_problems: list[dict], log=print):
    """Build and pretrain the tiny model, or load it from the cache. Returns (model, tokenizer, info)."""
    from transformers import AutoModelForCausalLM

    from trl_vpd.tiny import build_tiny_model

    fam = task.family(cfg.family)
    path = CACHE_DIR / f"pretrained-{cfg.key()}"
    tok = build_tokenizer(cfg.vocab_size, cfg.family)
    if (path / "info.json").exists():
        model = AutoModelForCausalLM.from_pretrained(path)
        model.generation_config.pad_token_id = tok.pad_token_id
        return model, tok, json.loads((path / "info.json").read_text())

    torch.manual_seed(cfg.seed)
    model = build_tiny_model(
        tok,
        hidden_size=cfg.hidden_size,
        num_layers=cfg.num_layers,
        num_heads=cfg.num_heads,
        num_kv_heads=cfg.num_kv_heads,
        intermediate_size=cfg.intermediate_size,
        seed=cfg.seed,
    )
    exclude = {p["question"] for p in eval_problems}
    make = getattr(fam, "make_pretrain_problems", fam.make_problems)  # a family may pretrain on a wider mix
    problems = make(cfg.num_problems, seed=cfg.seed + 100, exclude=exclude)
    data = [_encode(tok, p, t) for p, t in sft_examples(cfg, problems)]
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.learning_rate, weight_decay=0.0)
    rng = random.Random(cfg.seed)
    start, acc, step = time.time(), 0.0, 0
    model.train()
    for step in range(1, cfg.max_steps + 1):
        batch = rng.sample(data, cfg.batch_size)
        width = max(len(x) for x, _ in batch)
        ids = torch.tensor([x + [tok.pad_token_id] * (width - len(x)) for x, _ in batch])
        labels = torch.tensor([y + [-100] * (width - len(y)) for _, y in batch])
        mask = torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x, _ in batch])
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % cfg.eval_every == 0:
            acc, attempts = student_accuracy(model, tok, eval_problems[:128], fam)
            fix = copy = 1.0
            if cfg.target_teacher_fix_rate > 0:
                fix, _ = teacher_fix_rate(model, tok, eval_problems[:128], attempts, fam)
            if cfg.target_teacher_copy_rate > 0:
                copy = teacher_fix_rates(model, tok, eval_problems[:128], attempts, fam, kinds=("solution",))[0]["solution"]
            log(f"  pretrain step {step}: loss {loss.item():.3f}, greedy held-out accuracy {acc:.2f}"
                + (f", teacher fix rate {fix:.2f}" if cfg.target_teacher_fix_rate > 0 else "")
                + (f", teacher copy rate {copy:.2f}" if cfg.target_teacher_copy_rate > 0 else ""))
            if acc >= cfg.target_student_accuracy and not fix < cfg.target_teacher_fix_rate and not (
                copy < cfg.target_teacher_copy_rate
            ):
                break
    acc, attempts = student_accuracy(model, tok, eval_problems, fam)
    rates, n_failed = teacher_fix_rates(model, tok, eval_problems, attempts, fam, kinds=FEEDBACK_KINDS + COPY_KINDS)
    fix = rates["real"]
    info = {
        "config": asdict(cfg),
        "steps": step,
        "seconds": round(time.time() - start, 1),
        "student_accuracy": acc,
        "teacher_fix_rate": fix,
        "teacher_fix_rate_no_feedback": rates["none"],
        "teacher_fix_rate_misleading": rates["misleading"],
        "teacher_copy_rate": rates["solution"],
        "teacher_copy_rate_with_feedback": rates["real+solution"],
        "num_parameters": sum(p.numel() for p in model.parameters()),
    }
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    (path / "info.json").write_text(json.dumps(info, indent=1))
    return model, tok, info
