# Two commands do everything on a fresh machine (Python 3.11 + make):
#   make demo   install, then run the main job end to end on the embedded defaults
#   make test   install, then run the test suite (and, as root with apt, install Debian's chromium
#               for the report's screenshot test; make test BROWSER=0 to leave the system alone)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_HOME ?= $(CURDIR)/data/prefect
export DO_NOT_TRACK := 1

.PHONY: install demo test bench clean browser check-deployments

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/meterrisk demo

# The report's screenshot test needs a headless browser, and pip cannot bring one: Debian's
# chromium is the only one a fresh machine can install (nothing else is downloaded). Done only
# when it is missing and we are root with apt-get (CI and fresh containers are); otherwise one
# line says why and the test skips with its own reason. Never fails the build.
BROWSER ?= 1
APT     := DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=300
browser:
	@if [ "$(BROWSER)" = 0 ] || command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then \
	  :; \
	elif [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
	  echo "note: chromium is not installed (needs root and apt-get: apt-get install chromium);" \
	       "the report's screenshot test will skip"; \
	else \
	  echo "installing Debian's chromium for the report's screenshot test ..."; \
	  { apt-cache policy chromium 2>/dev/null | grep -q 'Candidate: [0-9]' || $(APT) update; } >/dev/null 2>&1; \
	  $(APT) install -y --no-install-recommends chromium >/dev/null 2>&1 \
	    || echo "note: apt-get install chromium failed; the report's screenshot test will skip"; \
	fi

test: $(STAMP) browser
	$(BIN)/python -m pytest -n 2 -q

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run $(if $(QUICK),--quick,)

# The work-pool path for real: a Prefect server, a process pool and worker, prefect deploy and a run
# of each deployment on a throwaway town (about 2 minutes; docs/operations.md).
check-deployments: $(STAMP)
	$(BIN)/python -m pipelines.check_deployments

clean:
	rm -rf $(VENV) data/meterrisk.duckdb* data/prefect data/demo
