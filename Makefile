# GraphMill: `make demo` sets everything up and runs the demo; `make test` sets up and runs the tests.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: setup demo test bench clean pyfiles

$(VENV)/.installed: pyproject.toml
	@command -v java >/dev/null || { echo "PySpark needs Java 17: e.g. apt-get install openjdk-17-jre-headless"; exit 1; }
	@$(PYTHON) -c 'import sys, ensurepip; assert sys.version_info >= (3, 10)' 2>/dev/null || { \
	  echo "$(PYTHON) must be Python >= 3.10 with venv/ensurepip (Debian: apt-get install python3-venv);"; \
	  echo "choose another with: make PYTHON=/path/to/python3 ..."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install torch==2.13.0        # first: the CPU build; the project then accepts it
	$(PIP) install -e '.[test]' 'pandas<3'
	touch $@

setup: $(VENV)/.installed

demo: setup
	OMP_NUM_THREADS=1 $(VENV)/bin/gm-demo --workdir work/demo

test: setup
	$(PY) -m pytest -q

bench: setup
	$(PY) bench/sampler.py
	$(PY) bench/pipeline.py

clean:
	rm -rf work bench_out .pytest_cache

# For spark-submit in cluster mode: the packages as one --py-files archive.
pyfiles:
	mkdir -p dist && rm -f dist/graphmill-pyfiles.zip
	zip -qr dist/graphmill-pyfiles.zip graphmill gsprocessing partition -x '*__pycache__*'
	@echo "spark-submit --py-files dist/graphmill-pyfiles.zip gsprocessing/__main__.py --config ..."
