"""The ``switchyard`` command."""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import socket
import sys
from types import FrameType
from typing import Any

from switchyard import __version__, cli_tenancy, usage_cli
from switchyard.config import ConfigError, Settings, load_settings
from switchyard.gateway.deployments import declared_deployments, materialise
from switchyard.gateway.drain import Drain


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="switchyard",
        description="Switchyard: the OpenAI and Anthropic APIs, served from any backend.",
    )
    parser.add_argument("--version", action="version", version=f"switchyard {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the API server")
    serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to bind (default 8000)")
    serve.add_argument("--config", help="YAML config file (default: $SWITCHYARD_CONFIG)")
    serve.add_argument("--data-dir", help="data directory (default: $SWITCHYARD_DATA_DIR or ./data)")
    serve.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    models = sub.add_parser("models", help="list the models the config serves")
    models.add_argument("--config", help="YAML config file (default: $SWITCHYARD_CONFIG)")
    usage_cli.add_parser(sub)
    cli_tenancy.add_parsers(sub)
    return parser


DRAIN_GRACE_SECONDS = 3.0  # after the drain deadline, for streams to write their error event
# The cyclic garbage collector's first threshold for a serving process (CPython's default is
# 700): a streamed answer allocates thousands of short-lived containers that reference
# counting frees, yet with the default the collector ran ~150 times a second under load and,
# with every startup object in its oldest generation, took a quarter of the CPU
# (bench/README.md, "garbage collector"). The objects of the started app are frozen out of
# its reach (gc.freeze) once the server listens.
GC_THRESHOLDS = (10_000, 20, 20)


def _serve(settings: Settings) -> None:
    import uvicorn

    from switchyard.app import create_app
    from switchyard.gateway.telemetry.logs import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    gc.set_threshold(*GC_THRESHOLDS)
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,  # surfaces/observe.py logs one line per request, with its id
        log_config=None,  # the handler configure_logging installed
        loop="uvloop",
        http="httptools",
        # the client's address is worked out once, by trusted_proxies (gateway/client_ip.py):
        # uvicorn's own rewrite would believe X-Forwarded-For from any loopback peer
        proxy_headers=False,
        ws_max_size=settings.max_body_bytes,  # a WebSocket event is held to the limit of a request body
        timeout_graceful_shutdown=settings.drain_seconds + DRAIN_GRACE_SECONDS,
    )
    _draining_server(config, app.state.drain, settings.drain_seconds).run()


def _draining_server(config: Any, drain: Drain, seconds: float) -> Any:
    """uvicorn's server, whose first SIGTERM or SIGINT begins the app's drain: uvicorn stops
    accepting and waits for requests in flight; streams still open at the deadline end
    with their error event (gateway/drain.py), and what is left is cut after the grace.

    uvicorn would close every WebSocket (1012) as its shutdown begins; here they stay open
    until the app closes them (once idle, or at the deadline), and uvicorn's own shutdown
    follows, with what is left of the grace."""
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)  # the app's lifespan has started: its objects live on
            gc.collect()
            gc.freeze()

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            drain.begin(seconds)
            super().handle_exit(sig, frame)

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            for server in self.servers:
                server.close()
            for sock in sockets or []:
                sock.close()
            for connection in list(self.server_state.connections):
                if not _is_websocket(connection):
                    connection.shutdown()
            loop = asyncio.get_running_loop()
            limit = loop.time() + seconds + DRAIN_GRACE_SECONDS
            while drain.sockets and not self.force_exit and loop.time() < limit:
                await asyncio.sleep(0.1)
            if drain.deadline is not None:
                left = drain.deadline + DRAIN_GRACE_SECONDS - loop.time()
                self.config.timeout_graceful_shutdown = max(math.ceil(left), 1)
            await super().shutdown(sockets)

    return Server(config)


def _is_websocket(connection: object) -> bool:
    """A connection upgraded to a WebSocket (uvicorn keeps one protocol object per connection)."""
    return type(connection).__module__.startswith("uvicorn.protocols.websockets")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            settings = load_settings(
                args.config, host=args.host, port=args.port, data_dir=args.data_dir,
                log_level=args.log_level,
            )
            _serve(settings)
        elif args.command == "models":
            settings = load_settings(args.config)
            for model in settings.models:
                for ident, declared in declared_deployments(model):
                    served = materialise(model, declared)
                    upstream = served.base_url or ("embedded" if served.provider == "local" else "default")
                    extra = f"\t{ident} (priority {declared.priority}, weight {declared.weight:g})" \
                        if model.deployments else ""
                    print(f"{model.name}\t{served.provider}\t{served.upstream_model}\t{upstream}{extra}")
        elif args.command == "usage":
            return usage_cli.run(load_settings(args.config, data_dir=args.data_dir), args)
        elif args.command in cli_tenancy.COMMANDS:
            return cli_tenancy.run(args, load_settings(args.config, data_dir=args.data_dir))
    except ConfigError as exc:
        print(f"switchyard: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
