# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A SIGNL4 team's categories ("services & systems", ``/v2/categories/{teamId}``) as an object kind,
found by name within the team (the collection's one name rule: case ignored, surrounding spaces
stripped). ``X-S4-Service`` of an inbound event names one of them.

SIGNL4's spec declares ``keywords`` as strings and ``keywordMatching`` as 0 (Any) or 1 (All), while its
own samples send ``[{"value": ...}]`` and ``"Any"``: both forms are read, and categories are shown,
compared and written in the declared one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.signl4.connectwise.plugins.module_utils.engine import (
    CASE_INSENSITIVE,
    Exact,
    Resource,
    Rules,
    same_name,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError
from ansible_collections.signl4.connectwise.plugins.module_utils.object_kind import ObjectKind
from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_objects import team_id

# CategoryInfo's fields: what POST and PUT take (PUT replaces the category, so it gets all of them).
CATEGORY_KEYS = ("id", "teamId", "name", "color", "imageName", "keywordMatching", "keywords", "keywordsExcluded",
                 "isDefault", "order", "options", "augmentations", "enrichments")
KEYWORD_MATCHING = {"any": 0, "all": 1}
COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


def normalized(category, team=None):
    """A category as the modules show and compare it: keywords as strings, keyword matching as its
    number, and the team's id where SIGNL4 left it out."""
    result = dict(category)
    if isinstance(result.get("keywords"), list):
        result["keywords"] = [item.get("value") if isinstance(item, dict) else item for item in result["keywords"]]
    matching = result.get("keywordMatching")
    if isinstance(matching, str) and matching.strip().lower() in KEYWORD_MATCHING:
        result["keywordMatching"] = KEYWORD_MATCHING[matching.strip().lower()]
    if team and not result.get("teamId"):
        result["teamId"] = team
    return result


def team_categories(client, team):
    """The categories of the team with id ``team``, normalized."""
    return [normalized(category, team) for category in client.categories(team)]


def matching_categories(client, team, name=None):
    """The categories of ``team`` (a name or id; an empty one fails, never widens), optionally only
    the one named ``name``."""
    listed = team_categories(client, team_id(client, team))
    return [c for c in listed if name is None or same_name(c.get("name")) == same_name(name)]


def image_key(name):
    """``Water.svg`` and ``water`` name one image."""
    key = same_name(name)
    return key[:-len(".svg")] if key.endswith(".svg") else key


def image_named(client, wanted):
    """The spelling SIGNL4 lists (``GET /v2/categories/images``) of the image ``wanted``; an unknown
    one fails naming the known ones. When SIGNL4 lists none, ``wanted`` is taken as it is."""
    images = client.category_images()
    found = [image for image in images if image_key(image) == image_key(wanted)]
    if found:
        return found[0]
    if not images:
        return wanted.strip()
    raise InputError("unknown SIGNL4 category image %r; known: %s" % (wanted, ", ".join(sorted(images)[:50])))


class ImageName(Exact):
    """An image compared by :func:`image_key`."""

    def differs(self, desired, current):
        return image_key(desired) != image_key(current)


class Keywords:
    """Keywords compared as a set (order and repetition mean nothing to SIGNL4's matching): with
    ``purge`` the category holds exactly the desired ones, without it at least those (new ones are
    appended to the current ones)."""

    def __init__(self, purge=True):
        self.purge = purge

    def differs(self, desired, current):
        wanted, held = set(desired or []), set(current or [])
        return wanted != held if self.purge else not wanted <= held

    def merged(self, desired, current):
        if self.purge:
            return list(desired)
        current = list(current or [])
        return current + [keyword for keyword in desired if keyword not in current]


IMAGE_NAME = ImageName()


def unique_keywords(keywords):
    """The keywords stripped, each once, in the order given; a blank one fails."""
    result = []
    for index, keyword in enumerate(keywords):
        keyword = str(keyword).strip()
        if not keyword:
            raise InputError(f"keywords[{index}] must not be empty")
        if keyword not in result:
            result.append(keyword)
    return result


class Categories(ObjectKind):
    result_key = "category"
    template = {}  # the category a new one takes its color and image from (set by find, never mutated)

    def identity(self, params):
        return f"{params['team'].strip()}/{params['name']}"

    def resource(self, params):
        return CategoryResource(self.client, params["team"].strip(), params["name"].strip(),
                                removing=params["state"] == "absent")

    def rules(self, params):
        return Rules(name=CASE_INSENSITIVE, color=CASE_INSENSITIVE, imageName=IMAGE_NAME,
                     keywords=Keywords(purge=params["purge_keywords"]))

    def find(self, resource, params):
        # No lookup alongside the read: the team's id is part of the category's path, so the team is
        # resolved first (and cached for the reference in the desired object).
        current = resource.find()
        self.template = resource.template()
        return current

    def desired(self, params, current):
        desired = super().desired(params, current)
        if params["keyword_matching"] is not None:
            desired["keywordMatching"] = KEYWORD_MATCHING[params["keyword_matching"]]
        if params["keywords"] is not None:
            desired["keywords"] = unique_keywords(params["keywords"])
        image = desired.get("imageName")
        if image is not None and (current is None or IMAGE_NAME.differs(image, current.get("imageName"))):
            desired["imageName"] = image_named(self.client, image)
        if current is None:
            self.complete(desired)
        return desired

    def complete(self, desired):
        """What SIGNL4 requires of a new category and the task left out: color and image from the team's
        default category, no keywords, keyword matching Any."""
        for key in ("color", "imageName"):
            if desired.get(key) is None and self.template.get(key):
                desired[key] = self.template[key]
        if desired.get("keywords") is None:
            desired["keywords"] = []
        if desired.get("keywordMatching") is None:
            desired["keywordMatching"] = KEYWORD_MATCHING["any"]


class CategoryResource(Resource):
    """The category named ``name`` of the team named ``team``."""

    def __init__(self, client, team, name, removing=False):
        self.client = client
        self.team, self.name, self.removing = team, name, removing
        self.team_id = None
        self.listed = []
        self.identity = {"name": name}

    def find(self):
        self.team_id = team_id(self.client, self.team)
        matches = self.matches()
        if len(matches) > 1:
            raise InputError("%d categories of the team %r are named %r; rename or remove the extra ones in SIGNL4"
                             % (len(matches), self.team, self.name))
        if matches and self.removing and matches[0].get("isDefault"):
            raise InputError(f"{self.name!r} is the default category of the team {self.team!r}; SIGNL4 cannot delete it")
        return matches[0] if matches else None

    def matches(self):
        self.listed = team_categories(self.client, self.team_id)
        return [c for c in self.listed if same_name(c.get("name")) == same_name(self.name)]

    def template(self):
        """The category a new one takes its color and image from: the team's default one, else its first."""
        defaults = [c for c in self.listed if c.get("isDefault")] or self.listed
        return defaults[0] if defaults else {}

    def validate(self, desired, current):
        color = desired.get("color")
        if color is not None and not COLOR.match(str(color)):
            raise InputError(f"color must be a hex color such as #1F6FB2, got {color!r}")
        missing = [option for option, key in (("color", "color"), ("image", "imageName")) if not desired.get(key)]
        if current is None and missing:
            raise InputError("%s required to create the category %r: the team has no category to take %s from"
                             % (" and ".join(missing) + (" are" if len(missing) > 1 else " is"), self.name,
                                "them" if len(missing) > 1 else "it"))

    @staticmethod
    def _body(category):
        return {key: category[key] for key in CATEGORY_KEYS if category.get(key) is not None}

    def create(self, desired):
        return normalized(self.client.create_category(self.team_id, self._body(desired)), self.team_id)

    def update(self, current, changes, after):
        return normalized(self.client.update_category(self.team_id, current["id"], self._body(after)), self.team_id)

    def delete(self, current):
        self.client.delete_category(self.team_id, current["id"])
