"""Self-critique feedback: the model reads its own attempt and writes what is wrong with it.

For environments that return only a scalar, the model's own critique is a source of language feedback (ALGORITHM.md,
source 3). Critiques are generated in one batch through GRPO's own generation path (`_generate_single_turn`: vLLM,
continuous batching or `generate`, with the trainer's sampling settings), and their cost is logged.
"""

from __future__ import annotations

import time
from contextlib import nullcontext

from .utils import completion_transcript, message_text

DEFAULT_CRITIQUE_TEMPLATE = (
    "Here is a problem and an attempt at solving it.\n\nProblem:\n{prompt}\n\nAttempt:\n{attempt}\n\n"
    "The attempt {verdict}. In a few sentences, say what is wrong with it and how to fix it. Do not write the full "
    "solution."
)


class SelfCritique:
    """A feedback function whose feedback is a critique the model writes of each (failed) attempt.

    Args:
        template: critique prompt with `{prompt}`, `{attempt}` and `{verdict}`.
        only_failed: critique only attempts whose reward is below the trainer's `success_reward_threshold` (on one
            process; with several processes every attempt is critiqued so that all ranks generate together).
        critic: `"student"` or `"teacher"` (the teacher's parameters, e.g. the teacher adapter; not with vLLM, whose
            weights are the student's).

    `VPDTrainer` binds the instance to itself (`bind_trainer`) when it is passed in `feedback_funcs`.
    """

    __name__ = "self_critique"

    def __init__(self, template: str = DEFAULT_CRITIQUE_TEMPLATE, only_failed: bool = True, critic: str = "student"):
        if critic not in ("student", "teacher"):
            raise ValueError(f"critic must be 'student' or 'teacher', got {critic!r}.")
        for placeholder in ("{prompt}", "{attempt}"):
            if placeholder not in template:
                raise ValueError(f"The critique template needs {placeholder}.")
        self.template = template
        self.only_failed = only_failed
        self.critic = critic
        self.trainer = None

    def bind_trainer(self, trainer) -> None:
        if self.critic == "teacher" and trainer.use_vllm:
            raise ValueError("critic='teacher' generates with the teacher's weights, which vLLM does not hold.")
        if self.critic == "teacher" and getattr(trainer.teacher, "module", None) is not None:
            raise ValueError(
                "critic='teacher' generates through GRPO's generation, which runs the student's model; this teacher "
                f"(teacher_mode={trainer.args.teacher_mode!r} on a full-weights student) is a model of its own. Use "
                "critic='student', or train with PEFT (the teacher is then an adapter on the student's model)."
            )
        self.trainer = trainer

    def __call__(self, prompts, completions, completion_ids=None, rewards=None, **kwargs) -> list[str | None]:
        trainer = self.trainer
        if trainer is None:
            raise RuntimeError("SelfCritique must be passed to VPDTrainer(feedback_funcs=...), which binds it.")
        threshold = trainer.args.success_reward_threshold
        failed = [rewards is None or not (r >= threshold) for r in (rewards or [None] * len(prompts))]
        distributed = trainer.accelerator.num_processes > 1
        chosen = [i for i in range(len(prompts)) if failed[i] or not self.only_failed or distributed]
        if not chosen:
            return [None] * len(prompts)
        critique_prompts = [self._prompt(prompts[i], completions[i], failed[i]) for i in chosen]
        # each critique prompt rendered like its sample's own prompt (with that sample's tool schema)
        prompt_ids = trainer._tokenize_sample_prompts(critique_prompts, chosen)
        budget = trainer.args.max_teacher_prompt_length
        prompt_ids = [ids[-budget:] for ids in prompt_ids]

        start = time.perf_counter()
        model = trainer.model_wrapped
        with trainer.teacher.activate(model) if self.critic == "teacher" else nullcontext():
            critique_ids, _ = trainer._generate_single_turn(prompt_ids, None, {}, 1)
        seconds = time.perf_counter() - start
        texts = trainer._tokenizer.batch_decode(critique_ids, skip_special_tokens=True)
        metrics = trainer._metrics["train" if trainer.model.training else "eval"]
        metrics["vpd/critique_seconds"].append(seconds)
        metrics["vpd/critique_tokens"].append(float(sum(len(ids) for ids in critique_ids)))

        out: list[str | None] = [None] * len(prompts)
        for i, text in zip(chosen, texts, strict=True):
            if failed[i] or not self.only_failed:
                out[i] = text
        return out

    def _prompt(self, prompt, completion, failed: bool):
        verdict = "is incorrect" if failed else "was judged correct"
        if isinstance(prompt, str):
            return self.template.format(prompt=prompt, attempt=completion_transcript(completion), verdict=verdict)
        question = next((message_text(m) for m in reversed(prompt) if m.get("role") == "user"), "")
        system = [m for m in prompt if m.get("role") == "system"]
        text = self.template.format(prompt=question, attempt=completion_transcript(completion), verdict=verdict)
        return [*system, {"role": "user", "content": text}]
