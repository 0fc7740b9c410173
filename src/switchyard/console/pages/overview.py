"""The overview: requests, tokens, cost and errors over time, grouped by model,
project or key; top spenders; every deployment's breaker state, error rate and latency."""

from __future__ import annotations

from dataclasses import replace

from starlette.requests import Request
from starlette.responses import Response

from switchyard.console import stats
from switchyard.console.render import render
from switchyard.console.session import Session, console_page
from switchyard.gateway.usage_report import UsageQuery
from switchyard.store.ledger import LedgerFilter
from switchyard.surfaces.context import Services

RECENT = 1000  # ledger entries the per-deployment error rates and latencies are drawn from


@console_page
async def overview(request: Request, services: Services, session: Session) -> Response:
    range_name = request.query_params.get("range", "24h")
    range_name = range_name if range_name in stats.RANGES else "24h"
    by = request.query_params.get("by", "model")
    by = by if by in stats.GROUPS else "model"
    group = stats.GROUPS[by]
    win = stats.window(range_name)
    usage = await services.metering.usage("completions", UsageQuery(
        start_time=win.start, end_time=win.end, bucket_width=win.width, limit=win.buckets, group_by=(group,)))
    days = max(1, (win.end - win.start) // 86400)
    day_window = stats.window("30d" if days > 7 else "7d")
    cost_query = UsageQuery(start_time=day_window.start, end_time=day_window.end, bucket_width="1d",
                            limit=day_window.buckets)
    costs_by_project = await services.metering.usage("costs", replace(cost_query, group_by=("project_id",)))
    costs_by_key = await services.metering.usage("costs", replace(cost_query, group_by=("api_key_id",)))
    entries, _ = await services.metering.entries(LedgerFilter(since=win.start), limit=RECENT, after=None)
    health = stats.deployment_health(entries)
    deployments = await services.deployments.list_all()
    projects = {p.id: p.name for p in await services.organization.list_projects(include_archived=True)}
    charts = {
        "requests": {"labels": win.labels, "datasets": stats.grouped_series(usage, group, "num_model_requests")},
        "tokens": {"labels": win.labels, "datasets": stats.grouped_series(usage, group, "tokens")},
        "cost": {"labels": day_window.labels, "datasets": stats.grouped_series(costs_by_project, "project_id", "cost")},
        "errors": stats.errors_series(
            await services.metering.outcome_buckets(start=win.start, end=win.end, width=win.seconds), win),
    }
    return render(request, "overview.html", session, range_name=range_name, by=by, charts=charts,
                  total_requests=int(stats.totals(usage, "num_model_requests")),
                  total_tokens=int(stats.totals(usage, "tokens")), total_cost=stats.totals(costs_by_project, "cost"),
                  total_errors=sum(charts["errors"]["errors"]), recent=RECENT,
                  top_projects=stats.top(costs_by_project, "project_id"),
                  top_keys=stats.top(costs_by_key, "api_key_id"),
                  projects=projects, deployments=deployments, health=health, ranges=list(stats.RANGES),
                  groups=list(stats.GROUPS))
