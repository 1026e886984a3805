# xlplan — två kommandon: `make demo` och `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-all lint install sysdeps clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# LibreOffice (PDF, omräkning av formler) och poppler (PDF -> PNG i tester).
# Installeras på Debian/Ubuntu när vi kör som root; annars hoppar testerna över med skäl.
sysdeps:
	@if command -v soffice >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1; then \
	  echo "LibreOffice och poppler finns redan."; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installerar LibreOffice och poppler-utils (apt-get)..."; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    libreoffice-calc-nogui libreoffice-writer-nogui poppler-utils fonts-dejavu-core >/dev/null) \
	  || echo "VARNING: kunde inte installera LibreOffice; PDF-tester hoppas över."; \
	else \
	  echo "VARNING: LibreOffice saknas och kan inte installeras här; PDF-delar hoppas över."; \
	fi

demo: $(STAMP) sysdeps
	$(VENV)/bin/xlplan demo --out demo-output

# ruff och mypy på src/, sedan testsviten utan de långa omgångarna (markerade slow).
lint: $(STAMP)
	$(VENV)/bin/ruff check src
	$(VENV)/bin/mypy

test: lint sysdeps
	$(PY) -m pytest -q -m "not slow"

# Allt, också de långa omgångarna (formler mot Python, slumpade cykler).
test-all: lint sysdeps
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) demo-output
