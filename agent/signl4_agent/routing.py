"""Which SIGNL4 team a ticket's Signl is raised in: the tenant's ``routes``, the first that matches the ticket,
else the default route (``signl4.team_secret``, ``signl4.service``, ``signl4.alerting_scenario``).

A route matches on the ticket's board, company, priority, type and status, by name as Manage has them
(a company by its name or its identifier), case-insensitively; each key it gives must match one of its
names, and a route without match keys matches every ticket. The route is chosen from the ticket the
cycle read (no request), when the raise is recorded: the raise intent holds its name, so a raise repeated
after a crash goes to the same team, and the ticket's state records it. A ticket whose route changes after
its Signl was raised keeps that Signl; a new Signl (``reopen: new_signl``) is routed anew.
"""

import re
from dataclasses import dataclass

from signl4_agent.records import mapping

MATCH_KEYS = ("board", "company", "priority", "type", "status")
DEFAULT_ROUTE = "default"
ROUTE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def folded(name):
    return name.strip().casefold()


def ticket_names(ticket, key):
    """The names a ticket has for a match key, folded: its reference's name (a company's identifier too)."""
    reference = mapping(mapping(ticket).get(key))
    names = [reference.get("name")] + ([reference.get("identifier")] if key == "company" else [])
    return {folded(name) for name in names if isinstance(name, str) and name.strip()}


@dataclass(frozen=True)
class Route:
    """A route: its name, the team's webhook secret, the category (``X-S4-Service``) and alerting scenario
    (``X-S4-AlertingScenario``) of its Signls, and ``match``: ``(key, frozenset of folded names)`` per match key."""

    name: str
    team_secret: str
    service: str | None = None
    alerting_scenario: str | None = None
    match: tuple = ()

    def matches(self, ticket):
        return all(names & ticket_names(ticket, key) for key, names in self.match)


def routes(config):
    """A tenant's routes in their order, the default route last (it matches every ticket)."""
    signl4 = config["signl4"]
    found = [Route(route["name"], route["team_secret"] or signl4["team_secret"], route["service"],
                   route["alerting_scenario"],
                   tuple((key, frozenset(folded(name) for name in route[key])) for key in MATCH_KEYS if route[key]))
             for route in config.get("routes") or ()]
    return found + [Route(DEFAULT_ROUTE, signl4["team_secret"], signl4["service"], signl4.get("alerting_scenario"))]


class Router:
    """A tenant's routes and, per team secret, the SIGNL4 client that raises through it (``clients``)."""

    def __init__(self, config, clients):
        self.routes = routes(config)
        self.by_name = {route.name: route for route in self.routes}
        self.clients = clients

    def choose(self, ticket):
        """The first route that matches the ticket."""
        return next(route for route in self.routes if route.matches(ticket))

    def get(self, name):
        """The route of that name (None when none is configured by it)."""
        return self.by_name.get(name) if isinstance(name, str) else None

    def client(self, route):
        return self.clients[route.team_secret]
