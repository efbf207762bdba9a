"""Benchmarks of trl-vpd: what VPD learns per rollout (`benchmarks.learning`) and what it costs per step
(`benchmarks.cost`). Both run offline, on a locally built model; see `benchmarks/README.md`."""
