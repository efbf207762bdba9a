"""The teacher context: the prompt, rewritten to carry feedback and a demonstration, that the teacher reads before it
scores the student's own completion tokens.

One place decides what the teacher sees: which sibling is shown, how feedback sources combine, how the template is
filled, and how the result is cut to its token budget without ever dropping the original question silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .utils import completion_transcript, message_text

TRUNCATION_MARKER = "\n...[truncated {n} tokens]...\n"
_THINK_RE = re.compile(r"<think>.*?</think>\s*", flags=re.DOTALL)


@dataclass
class TeacherContextStats:
    """Counts for the `vpd/` metrics of one batch."""

    num_samples: int = 0
    with_feedback: int = 0
    with_solution: int = 0
    empty_feedback: int = 0
    truncated_parts: int = 0
    truncated_prompts: int = 0


@dataclass
class TeacherContexts:
    """Teacher prompt token ids (unpadded) and, per sample, whether the teacher was given anything (the distillation
    mask) and the feedback/solution texts it was given (for logging)."""

    prompt_ids: list[list[int]]
    has_context: list[bool]
    feedback: list[str | None]
    solution: list[str | None]
    stats: TeacherContextStats = field(default_factory=TeacherContextStats)


def normalize_feedback(text: str | None) -> str | None:
    """Feedback that is None, empty or whitespace counts as no feedback."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise TypeError(f"Feedback must be a string or None, got {type(text).__name__}.")
    return text if text.strip() else None


def combine_feedback(sources: Sequence[Sequence[str | None]], num_samples: int) -> tuple[list[str | None], int]:
    """Join the non-empty feedback of every source per sample (blank line between sources). Returns the combined
    feedback and how many given strings were empty or whitespace."""
    combined: list[str | None] = []
    empty = 0
    for i in range(num_samples):
        parts = []
        for source in sources:
            raw = source[i]
            text = normalize_feedback(raw)
            if text is None and raw is not None:
                empty += 1
            if text is not None:
                parts.append(text.strip())
        combined.append("\n\n".join(parts) if parts else None)
    return combined, empty


def choose_sibling(
    index: int, rewards: Sequence[float], group_size: int, threshold: float, successful: bool = True
) -> int | None:
    """Index of the first successful (or, with `successful=False`, failed) sibling of `index` in its group, never
    `index` itself (SDPO's choice). Unscored (NaN) siblings are neither."""
    start = (index // group_size) * group_size
    for j in range(start, min(start + group_size, len(rewards))):
        if j != index and rewards[j] == rewards[j] and (rewards[j] >= threshold) == successful:
            return j
    return None


def group_pairing(has_context: Sequence[bool], rewards: Sequence[float], group_size: int, threshold: float) -> list[int]:
    """For `e_step_pairing="group"`: the index whose teacher prompt scores each sample. In every group the first
    failed rollout that has a context (its critique) conditions the teacher for all siblings; groups without one keep
    each sample's own context. Indices are local, so groups must not straddle processes."""
    owners = list(range(len(has_context)))
    for start in range(0, len(has_context), group_size):
        members = range(start, min(start + group_size, len(has_context)))
        critic = next((j for j in members if has_context[j] and not rewards[j] >= threshold), None)
        if critic is not None:
            for j in members:
                owners[j] = critic
    return owners


def swapped_feedback(feedback_global: Sequence[str | None], offset: int, count: int, group_size: int) -> list[str | None]:
    """For `e_step_swapped_feedback`: per local sample `offset .. offset+count` that has feedback, the feedback of
    another problem (another group of the global batch: the first sample with feedback, scanning cyclically from the
    same position one group on) that differs from its own; None where the sample has no feedback or no other problem
    has any. Deterministic, so every process agrees."""
    total = len(feedback_global)
    swapped: list[str | None] = []
    for g in range(offset, offset + count):
        own = feedback_global[g]
        group = g // group_size
        choice = None
        if own is not None:
            for step in range(total):
                j = (g + group_size + step) % total
                if j // group_size != group and feedback_global[j] is not None and feedback_global[j] != own:
                    choice = feedback_global[j]
                    break
        swapped.append(choice)
    return swapped


class TeacherContextBuilder:
    """Builds teacher prompts from student prompts, feedback and sibling demonstrations.

    `tokenize(prompts, samples)` maps prompts (chat message lists or strings), each belonging to the local sample
    whose index is in `samples`, to token id lists the way that sample's student prompt was tokenized (the trainer
    passes GRPO's own `_tokenize_prompts`, with the sample's tool schema), so teacher and student share one format.
    Demonstrations, contrasts and attempts are completion transcripts: a tool-calling sibling keeps its calls and the
    tools' results.
    """

    def __init__(self, tokenizer, args, tokenize: Callable[[list, list[int]], list[list[int]]] | None = None):
        self.tokenizer = tokenizer
        self.args = args
        self.tokenize = tokenize or self._default_tokenize

    def build(
        self,
        prompts: Sequence,
        completions_global: Sequence,
        rewards_global: Sequence[float],
        feedback: Sequence[str | None],
        offset: int,
        group_size: int,
        empty_feedback: int = 0,
        use_siblings: bool | None = None,
    ) -> TeacherContexts:
        """Teacher prompts for the local samples `offset .. offset+len(prompts)` of the global batch; `use_siblings`
        overrides `args.use_sibling_solutions`."""
        args = self.args
        use_siblings = args.use_sibling_solutions if use_siblings is None else use_siblings
        stats = TeacherContextStats(num_samples=len(prompts), empty_feedback=empty_feedback)
        texts, solutions, used_feedback, has_context = [], [], [], []
        for i, prompt in enumerate(prompts):
            solution = contrast = None
            if use_siblings:
                solution = self._sibling_text(offset + i, completions_global, rewards_global, group_size, True)
                if solution is not None and args.sibling_contrast:
                    contrast = self._sibling_text(offset + i, completions_global, rewards_global, group_size, False)
            fb = feedback[i]
            if fb is not None and args.feedback_only_without_solution and solution is not None:
                fb = None
            if fb is not None:
                fb, cut = self._truncate_text(fb, args.max_feedback_length)
                stats.truncated_parts += cut
            attempt = completion_transcript(completions_global[offset + i]) if args.include_attempt else None
            stats.with_feedback += fb is not None
            stats.with_solution += solution is not None
            has_context.append(fb is not None or solution is not None)
            solutions.append(solution)
            used_feedback.append(fb)
            texts.append({"attempt": attempt, "feedback": fb, "contrast": contrast, "solution": solution})

        prompt_ids = []
        for i, (prompt, parts, ctx) in enumerate(zip(prompts, texts, has_context, strict=True)):
            if ctx:
                ids, cut_parts, cut_prompt = self._fit(prompt, parts, i)
            else:
                ids, cut_parts, cut_prompt = self.tokenize([prompt], [i])[0], 0, False
            stats.truncated_parts += cut_parts
            stats.truncated_prompts += cut_prompt
            prompt_ids.append(ids)
        return TeacherContexts(prompt_ids, has_context, used_feedback, solutions, stats)

    def render(self, prompt, parts: dict[str, str | None]):
        """The teacher prompt (same type as `prompt`): the last user turn replaced by the filled template."""
        args = self.args
        sections = {
            name: getattr(args, f"{name}_template").format(**{name: parts[name]}) if parts.get(name) else ""
            for name in ("attempt", "feedback", "contrast", "solution")
        }
        if isinstance(prompt, str):
            return args.teacher_template.format(prompt=prompt, **sections)
        last_user = max((k for k, m in enumerate(prompt) if m.get("role") == "user"), default=None)
        if last_user is None:
            raise ValueError("A conversational prompt needs at least one user message to build the teacher context.")
        text = args.teacher_template.format(prompt=message_text(prompt[last_user]), **sections)
        return [*prompt[:last_user], {"role": "user", "content": text}, *prompt[last_user + 1 :]]

    def _fit(self, prompt, parts: dict[str, str | None], sample: int) -> tuple[list[int], int, bool]:
        """Tokenize the rendered prompt, shrinking the optional parts (longest first, each re-cut from its original
        text) until it fits the budget; only if the bare prompt is already too long is it cut from the left, as the
        student's prompt would be. Returns (ids, number of parts cut, whether the prompt itself was cut)."""
        budget = self.args.max_teacher_prompt_length
        original = {k: v for k, v in parts.items() if v}
        limits = {k: self._num_tokens(v) for k, v in original.items()}
        current = dict(parts)
        cut: set[str] = set()
        for _ in range(4 * len(original) + 1):
            ids = self.tokenize([self.render(prompt, current)], [sample])[0]
            overflow = len(ids) - budget
            if overflow <= 0:
                return ids, len(cut), False
            live = {k: n for k, n in limits.items() if n > 0}
            if not live:
                break
            name = max(live, key=live.get)
            # The cut text carries the marker (and decoding may merge a token or two at the seams): aim below.
            limits[name] = max(live[name] - overflow - 2, 0)
            fits_marker = limits[name] >= self._num_tokens(TRUNCATION_MARKER.format(n=live[name])) + 2
            current[name] = self._truncate_text(original[name], limits[name])[0] if fits_marker else None
            limits[name] = limits[name] if fits_marker else 0
            cut.add(name)
        ids = self.tokenize([self.render(prompt, current)], [sample])[0]
        return ids[-budget:], len(cut), len(ids) > budget

    def _sibling_text(self, index, completions, rewards, group_size, successful: bool) -> str | None:
        j = choose_sibling(index, rewards, group_size, self.args.success_reward_threshold, successful)
        if j is None:
            return None
        text = completion_transcript(completions[j])
        if self.args.remove_thinking_from_demonstration:
            text = _THINK_RE.sub("", text)
        return normalize_feedback(text)

    def _num_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _truncate_text(self, text: str, max_tokens: int) -> tuple[str, int]:
        """Keep the head and the tail of `text` (errors and final answers sit at either end) within `max_tokens`,
        the marker saying how much was cut included. Returns (text, 1 if cut else 0)."""
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        if len(ids) <= max_tokens:
            return text, 0
        keep = max_tokens - self._num_tokens(TRUNCATION_MARKER.format(n=len(ids)))
        if keep < 2:  # no room for any of the text: say that it was there
            return TRUNCATION_MARKER.format(n=len(ids)).strip(), 1
        head, tail = keep - keep // 2, keep // 2
        marker = TRUNCATION_MARKER.format(n=len(ids) - head - tail)
        return self.tokenizer.decode(ids[:head]) + marker + self.tokenizer.decode(ids[len(ids) - tail :]), 1

    def _default_tokenize(self, prompts: list, samples: list[int] | None = None) -> list[list[int]]:
        out = []
        for prompt in prompts:
            if isinstance(prompt, str):
                out.append(self.tokenizer(prompt, add_special_tokens=False)["input_ids"])
            else:
                out.append(
                    self.tokenizer.apply_chat_template(
                        prompt, add_generation_prompt=True, tokenize=True, return_dict=True
                    )["input_ids"]
                )
        return out
