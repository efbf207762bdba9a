"""Ready-made verifiers, each usable as a TRL reward function (`.reward_func`) and a VPD feedback function
(`.feedback_func`), sharing one verdict per completion; and the sandbox that runs model-written code."""

from __future__ import annotations

from trl_vpd.verifiers.base import Verdict, Verifier
from trl_vpd.verifiers.choice import ChoiceVerifier
from trl_vpd.verifiers.code import CodeVerifier, TestCase, extract_program, parse_tests
from trl_vpd.verifiers.math import MathVerifier
from trl_vpd.verifiers.sandbox import Isolation, Sandbox, SandboxResult

__all__ = [
    "ChoiceVerifier",
    "CodeVerifier",
    "Isolation",
    "MathVerifier",
    "Sandbox",
    "SandboxResult",
    "TestCase",
    "Verdict",
    "Verifier",
    "extract_program",
    "parse_tests",
]
