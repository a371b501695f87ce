"""Categories ("services & systems") of each team: ``/v2/categories/...`` as the spec subset describes
them (``CategoryInfo``), validated where the spec says what is required and, for what it does not say,
as ASSUMPTIONS.md ("SIGNL4", [A-cat]) decides. Mixed into :class:`Signl4Emulator`, whose ``categories``
maps a team id to its list of categories (seeded per team by ``seed.categories``)."""

import re
import uuid

from tests.emulators.common import Response

# What GET /v2/categories/images answers: names as the spec's sample writes them (``water.svg``). [A-cat]
IMAGES = ("alert.svg", "cloud.svg", "database.svg", "fire.svg", "network.svg", "phone.svg", "security.svg",
          "server.svg", "ticket.svg", "water.svg")
REQUIRED = ("name", "color", "imageName", "keywordMatching", "keywords")
OPTIONAL = ("keywordsExcluded", "order", "options", "augmentations", "enrichments")
COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
MATCHING = {"any": 0, "all": 1}
DENY_DELETE = 2  # CategoryInfoOptions


def _invalid(error, details):
    return error(400, "The category is not valid.", details)


def _keyword_values(value):
    """``["a"]`` or the spec sample's ``[{"value": "a"}]`` as ``["a"]``; ``None`` when neither."""
    if not isinstance(value, list):
        return None
    values = [item.get("value") if isinstance(item, dict) else item for item in value]
    return values if all(isinstance(item, str) for item in values) else None


def _matching(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value in (0, 1) else None
    return MATCHING.get(str(value).strip().lower())


class CategoryRoutes:
    """The category endpoints of the SIGNL4 emulator (a mixin: ``self`` is the emulator)."""

    def register_category_routes(self, route):
        team, category = "/v2/categories/(?P<team_id>[^/]+)", "/(?P<category_id>[^/]+)"
        route("GET", "/v2/categories/images", lambda q: Response(200, list(IMAGES)))  # before the team's list
        route("GET", team, lambda q: Response(200, self.clean(self.team_categories(q))))
        route("POST", team, self.create_category)
        route("GET", team + category, lambda q: Response(200, self.clean(self.get_category(q))))
        route("PUT", team + category, self.update_category)
        route("DELETE", team + category, self.delete_category)

    def team_categories(self, request):
        return self.categories[self.get_team(request.params["team_id"])["id"]]

    def get_category(self, request):
        found = [c for c in self.team_categories(request) if c["id"] == request.params["category_id"]]
        if not found:
            raise self.error(404, "The category was not found.", "No category with ID %s." % request.params["category_id"])
        return found[0]

    def category_fields(self, body, siblings):
        """The ``CategoryInfo`` fields of ``body`` SIGNL4 keeps, checked; ``siblings`` are the team's other categories."""
        missing = [key for key in REQUIRED if body.get(key) is None]
        if missing:
            raise _invalid(self.error, "Missing: %s" % ", ".join(missing))
        name = body["name"]
        if not isinstance(name, str) or not name.strip():
            raise _invalid(self.error, "name must not be empty.")
        if any(c["name"].strip().lower() == name.strip().lower() for c in siblings):
            raise _invalid(self.error, "A category named %s exists." % name)
        if not isinstance(body["color"], str) or not COLOR.match(body["color"]):
            raise _invalid(self.error, "color must be a hex color such as #0000cc.")
        if body["imageName"] not in IMAGES:
            raise _invalid(self.error, "imageName must be one of the names GET /v2/categories/images lists.")
        fields = dict(name=name.strip(), color=body["color"], imageName=body["imageName"],
                      keywordMatching=_matching(body["keywordMatching"]), keywords=_keyword_values(body["keywords"]))
        if fields["keywordMatching"] is None:
            raise _invalid(self.error, "keywordMatching must be 0 (Any) or 1 (All).")
        if fields["keywords"] is None:
            raise _invalid(self.error, "keywords must be a list of strings.")
        fields.update((key, body[key]) for key in OPTIONAL if body.get(key) is not None)
        return fields

    def create_category(self, request):
        team_id = self.get_team(request.params["team_id"])["id"]
        fields = self.category_fields(self.body(request), self.categories[team_id])
        category = dict(fields, id=str(uuid.uuid4()), teamId=team_id, isDefault=False)
        category.setdefault("order", len(self.categories[team_id]))
        self.categories[team_id].append(category)
        return Response(201, self.clean(category))

    def update_category(self, request):
        """PUT replaces what the body carries; ``id``, ``teamId`` and ``isDefault`` stay. [A-cat]"""
        category = self.get_category(request)
        siblings = [c for c in self.team_categories(request) if c is not category]
        category.update(self.category_fields(self.body(request), siblings))
        return Response(200, self.clean(category))

    def delete_category(self, request):
        category = self.get_category(request)
        if category.get("isDefault") or (category.get("options") or 0) & DENY_DELETE:
            raise self.error(400, "The category cannot be deleted.", "It is the team's default category or denies deletion.")
        self.team_categories(request).remove(category)
        return Response(200)
