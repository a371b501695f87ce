"""Prometheus metrics of one agent, in their own registry (``/metrics`` serves it)."""

import re
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import Metric

CONTENT_TYPE = CONTENT_TYPE_LATEST
_ID = re.compile(r"/(\d+|[0-9a-f-]{36}|\d{19}_[0-9a-f-]{36}|[^/]*@[^/]*)(?=/|$)", re.IGNORECASE)


def endpoint(method, url):
    """``POST /webhook/{secret}``, ``GET /service/tickets/{id}``: ids and secrets never become labels."""
    path = re.sub(r"^[a-z]+://[^/]+", "", url.split("?")[0])
    path = re.sub(r"/webhook/[^/]+", "/webhook/{secret}", path)
    path = re.sub(r"/v2/events/[^/]+", "/v2/events/{secret}", path)
    path = re.sub(r"^(/[^/]+)?/apis/3\.0", "", path)
    path = re.sub(r"^/api", "", path)
    return f"{method} {_ID.sub('/{id}', path)}"


class Metrics:
    def __init__(self):
        self.registry = registry = CollectorRegistry()
        self.tickets_seen = Counter("signl4_agent_tickets_seen", "Tickets returned by the trigger", registry=registry)
        self.signls_raised = Counter("signl4_agent_signls_raised", "Signls raised through the webhook", registry=registry)
        self.transitions = Counter("signl4_agent_transitions", "Status transitions applied", ["direction", "kind"],
                                   registry=registry)
        self.notes = Counter("signl4_agent_notes_written", "Ticket notes written", registry=registry)
        self.escalations = Counter("signl4_agent_escalations", "Signl escalations recorded on tickets", ["kind"],
                                   registry=registry)
        self.annotations = Counter("signl4_agent_annotations_written", "SIGNL4 annotations written from ticket notes",
                                   registry=registry)
        # registered by the first check of the tenant's Manage callbacks (``callback_health``): absent before
        self.callback_ok = Gauge("signl4_agent_callback_ok", "1: the agent's Manage callback is registered and active; "
                                 "0: missing or inactive (checked hourly)", registry=None)
        self.callback_reactivations = Counter("signl4_agent_callback_reactivations", "Manage callbacks of the agent "
                                              "found inactive and re-activated", registry=registry)
        self.errors = Counter("signl4_agent_errors", "Errors by kind", ["kind"], registry=registry)
        self.api_calls = Counter("signl4_agent_api_calls", "API calls", ["api", "endpoint", "status"], registry=registry)
        self.api_latency = Histogram("signl4_agent_api_latency_seconds", "API call latency", ["api", "endpoint"],
                                     registry=registry)
        self.deliveries = Counter("signl4_agent_webhook_deliveries", "Inbound deliveries by outcome",
                                  ["source", "outcome"], registry=registry)
        self.quarantined = Gauge("signl4_agent_quarantined_records", "Records in quarantine (failed in a cycle, "
                                 "skipped, tried again each cycle; see the status command)", ["kind"], registry=registry)
        self.queue_depth = Gauge("signl4_agent_queue_depth", "Pending intents", registry=registry)
        self.cycle_seconds = Gauge("signl4_agent_last_cycle_duration_seconds", "Duration of the last cycle",
                                   registry=registry)
        self.last_good_cycle = Gauge("signl4_agent_last_good_cycle_timestamp", "Unix time of the last good cycle",
                                     registry=registry)
        self.last_ok = {}  # api -> unix time of its last successful answer
        self.last_failure = {}  # api -> unix time of its last outage (no answer, 5xx, 429)

    def observe(self, api):
        """A transport observer (``Transport.observers``) counting calls and latency of one API."""
        def hook(response):
            label = endpoint(response.request.method, response.request.url)
            self.api_calls.labels(api=api, endpoint=label, status=str(response.status_code)).inc()
            self.api_latency.labels(api=api, endpoint=label).observe(response.elapsed.total_seconds())
            if response.status_code < 500 and response.status_code != 429:
                self.last_ok[api] = time.time()
            else:
                self.last_failure[api] = time.time()
            return response
        return hook

    def calls(self, api=None):
        """Total API calls so far (of one API): the idle-cost figure."""
        total = 0.0
        for metric in self.api_calls.collect():
            for sample in metric.samples:
                if sample.name.endswith("_total") and (api is None or sample.labels.get("api") == api):
                    total += sample.value
        return total

    def render(self):
        return generate_latest(self.registry)


class _Tenants:
    """Every tenant's metrics as one registry would collect them, each sample labelled with its ``tenant``."""

    def __init__(self, metrics):
        self.metrics = metrics

    def collect(self):
        families = {}
        for tenant, metrics in sorted(self.metrics.items()):
            for family in metrics.registry.collect():
                merged = families.setdefault(family.name, Metric(family.name, family.documentation, family.type,
                                                                 family.unit))
                for sample in family.samples:
                    merged.add_sample(sample.name, dict(sample.labels, tenant=tenant), sample.value, sample.timestamp,
                                      sample.exemplar)
        return list(families.values())


def render_tenants(metrics):
    """``/metrics`` of an agent with several tenants (``{tenant: Metrics}``): one exposition, a ``tenant`` label."""
    return generate_latest(_Tenants(metrics))
