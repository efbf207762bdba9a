# Two commands on a fresh machine, each setting up what is missing first (.venv, CPU torch, trl-vpd):
#   make demo    VPD on the built-in tiny task (no download), metrics and plot in outputs/demo
#   make test    the whole test suite, offline, on CPU (what CI runs)
.PHONY: demo test setup

demo:
	bash scripts/setup.sh plots
	.venv/bin/trl-vpd demo --output_dir outputs/demo

test:
	bash scripts/setup.sh test
	bash scripts/test.sh

setup:
	bash scripts/setup.sh test
