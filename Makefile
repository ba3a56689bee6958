# vdc.xenpool — the two commands: `make demo` and `make test`. Both bootstrap .venv themselves.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help venv demo test faults sanity units simulator integration molecule lint docs build bench clean

help:
	@echo "make demo   build the reference data centre against the bundled simulators and show it"
	@echo "make test   every check (sanity, units, simulator, faults subset, integration, molecule, lint, docs, build)"
	@echo "make faults every bad-input case and crash-resume trial against the simulators (make test runs a subset)"
	@echo "finer: make sanity | units | simulator | faults | integration | molecule | lint | docs | build | bench | venv | clean"

venv:
	@bash -c 'source .ci/bootstrap.sh && echo "venv ready: $$PY ($$(ansible --version | head -1))"'

demo:
	@KEEP=$(KEEP) PLAN=$(PLAN) bash .ci/demo.sh

test:
	@bash .ci/test.sh

faults:
	@FAULTS_ALL=1 bash .ci/test.sh faults

sanity units simulator integration molecule lint docs build:
	@bash .ci/test.sh $@

bench:
	@bash .ci/bench.sh

clean:
	rm -rf .venv tests/output collections .ansible docs/build docs/temp-rst importer_result.json *.tar.gz
