.PHONY: serve test lint typecheck bench

# Install everything (embedded model included) and serve on 127.0.0.1:8000.
serve:
	./scripts/bootstrap.sh local
	./scripts/install-sandbox.sh --optional
	.venv/bin/switchyard serve $(ARGS)

# Install everything and run the whole test suite (slow tests included).
test:
	./scripts/bootstrap.sh local,test
	./scripts/install-agents.sh "$${SWITCHYARD_AGENTS_DIR:-$$HOME/.cache/switchyard-agents}"
	./scripts/install-clients-js.sh "$${SWITCHYARD_CLIENTS_JS_DIR:-$$HOME/.cache/switchyard-clients-js}"
	./scripts/install-browser.sh
	./scripts/install-audio-tools.sh
	./scripts/install-sandbox.sh
	./scripts/install-nginx.sh
	.venv/bin/ruff check src tests bench
	.venv/bin/mypy
	.venv/bin/python -m pytest -q -ra $(ARGS)

lint:
	.venv/bin/ruff check src tests bench

# mypy --strict on src/switchyard/core and src/switchyard/codecs ([tool.mypy] in pyproject.toml).
typecheck:
	.venv/bin/mypy
