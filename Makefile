# The two commands a newcomer needs: `make demo` and `make test`. Both set up everything first.
SHELL := /bin/bash
VENV := .venv
STAMP := $(VENV)/.wildwatch-setup

.PHONY: setup demo test stack stack-test airflow airflow-stop cluster cluster-stop lint clean

$(STAMP): pyproject.toml uv.lock scripts/setup.sh
	scripts/setup.sh
	touch $@

setup: $(STAMP)

## A full monthly survey of the demo marketplaces through Airflow; PostgreSQL keeps running afterwards.
demo: setup
	$(VENV)/bin/wildwatch demo

## The whole test suite against a real PostgreSQL, real crawls and a real Chromium.
test: setup
	$(VENV)/bin/pytest -n 2 --dist load --maxschedchunk 2

## The production stack (docker-compose.yml) with podman, images built here, the demo marketplaces in it:
## https://localhost:8943 (stop: deploy/stack.sh down; remove with its volumes: deploy/stack.sh destroy).
stack: setup
	scripts/setup-podman.sh
	deploy/stack.sh build
	deploy/stack.sh up --demo

## The production stack built, surveyed through, recreated and checked (slow: ~20 min; CI runs it).
stack-test: setup
	scripts/setup-podman.sh
	WILDWATCH_STACK_TEST=1 $(VENV)/bin/pytest tests/stack -p no:xdist -p no:cacheprovider

## Airflow UI, scheduler and DAG processor on 127.0.0.1 (stop with `make airflow-stop`).
airflow: setup
	$(VENV)/bin/wildwatch airflow start

airflow-stop:
	$(VENV)/bin/wildwatch airflow stop

## Redis, Airflow (CeleryExecutor: api-server, scheduler, dag-processor) and two Celery workers on 127.0.0.1.
cluster: setup
	$(VENV)/bin/wildwatch cluster start

cluster-stop:
	$(VENV)/bin/wildwatch cluster stop

lint: setup
	$(VENV)/bin/ruff check .

clean:
	-$(VENV)/bin/wildwatch db stop
	rm -rf $(VENV) var
