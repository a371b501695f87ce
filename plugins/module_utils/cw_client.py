# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ConnectWise Manage REST client: the only code that speaks HTTP to Manage.

Used by every ``cw_*`` module and by the sync agent. It discovers the codebase through
``/login/companyinfo/{company}``, applies the cloud ``api-`` host rule, authenticates with
``company+public:private``, sends ``clientId`` and a versioned ``Accept`` header, pages
through lists completely (forward-only where the query allows it, ``Link`` headers
otherwise) and quotes values into condition strings so that no value can change a query.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError
from ansible_collections.signl4.connectwise.plugins.module_utils.transport import PooledClient, Transport

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover - Python 2 is not supported, keeps the import sanity test calm
    from urlparse import urlsplit  # type: ignore

DEFAULT_API_VERSION = "2019.1"
ON_PREMISE_CODEBASE = "v4_6_release/"
MAX_PAGE_SIZE = 1000
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([a-zA-Z]+)"?')
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*$")
_IP = re.compile(r"^[0-9.]+$|^\[?[0-9a-fA-F:]+\]?$")


# ----- conditions ---------------------------------------------------------------------

def quote_value(value):
    """A literal for a Manage condition string. Strings are always quoted, so a value holding
    quotes, ``AND`` or parentheses stays one literal; a string holding both quote kinds has its
    double quotes escaped with a backslash."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return "[%s]" % value.strftime("%Y-%m-%dT%H:%M:%SZ")
    text = str(value)
    if '"' not in text:
        return '"%s"' % text.replace("\\", "\\\\")
    if "'" not in text:
        return "'%s'" % text.replace("\\", "\\\\")
    return '"%s"' % text.replace("\\", "\\\\").replace('"', '\\"')


def condition(field, operator, value):
    """``field operator literal``; ``in`` takes a list. The field name is checked, never quoted."""
    if not _FIELD.match(field or ""):
        raise InputError("invalid condition field name: %r" % (field,))
    operator = operator.strip()
    if operator.lower() in ("in", "not in"):
        return "%s %s (%s)" % (field, operator, ", ".join(quote_value(v) for v in value))
    return "%s %s %s" % (field, operator, quote_value(value))


def all_of(*conditions):
    """AND-join conditions, each in parentheses so an inner OR cannot leak."""
    parts = [c for c in conditions if c]
    if len(parts) == 1:
        return parts[0]
    return " AND ".join("(%s)" % c for c in parts)


def equals_all(params, filters):
    """``field = value`` AND-joined for each option of ``{option: api field}`` that was given;
    ``None`` when none was (the filters of the ``_info`` modules)."""
    parts = [condition(field, "=", params[option]) for option, field in filters.items() if params.get(option) is not None]
    return all_of(*parts) or None


def patch_operations(changes):
    """Minimal JSON-patch for top-level changes (references and arrays are replaced whole,
    as the Manage guide requires)."""
    return [{"op": "replace", "path": key, "value": value} for key, value in changes.items()]


# ----- URL rules ------------------------------------------------------------------------

def split_site(site):
    """``(scheme, host, port)`` from ``na.myconnectwise.net``, ``https://host`` or ``http://127.0.0.1:8080``."""
    if "://" not in site:
        site = "https://" + site
    parts = urlsplit(site)
    if not parts.hostname:
        raise InputError("invalid Manage URL: %r" % (site,))
    return parts.scheme, parts.hostname, parts.port


def api_host(host, codebase, is_cloud):
    """Cloud sites answer the REST API only on the ``api-`` host (``api-na.myconnectwise.net``).
    The rule applies to host names whose codebase is not the on-premise one; never to IPs or localhost."""
    if _IP.match(host) or host == "localhost" or host.lower().startswith("api-"):
        return host
    if is_cloud or codebase != ON_PREMISE_CODEBASE:
        return "api-" + host
    return host


def parse_links(header):
    return dict((rel.lower(), url) for url, rel in _LINK.findall(header or ""))


# ----- the client -----------------------------------------------------------------------

def _manage_error(status, body, text):
    """Manage's error body: ``{code, message, errors[]}``; 429 uses ``{error, message}``."""
    if isinstance(body, dict):
        return (body.get("code") or body.get("error"), body.get("message") or text, body.get("errors") or [])
    return None, (text or "").strip()[:500], []


class ManageClient(PooledClient):
    """One pooled session per client. Lookups by name are cached for the client's lifetime."""

    def __init__(self, url, company_id, public_key, private_key, client_id, codebase=None,
                 api_version=DEFAULT_API_VERSION, validate_certs=True, timeout=30.0, retry=None, log=None):
        for name, value in (("url", url), ("company_id", company_id), ("public_key", public_key),
                            ("private_key", private_key), ("client_id", client_id)):
            if not value:
                raise InputError("the Manage connection option %s is required (or its environment variable)" % name)
        self.scheme, self.host, self.port = split_site(url)
        self.company_id = company_id
        self.codebase = codebase
        self.api_version = api_version or DEFAULT_API_VERSION
        self.transport = Transport(
            self._origin(self.host), "ConnectWise Manage", _manage_error,
            headers={"clientId": client_id,
                     "Accept": "application/vnd.connectwise.com+json; version=%s" % self.api_version},
            auth=("%s+%s" % (company_id, public_key), private_key),
            timeout=timeout, validate_certs=validate_certs, retry=retry, secrets=[private_key], log=log)
        self._discovered = False
        self._cache = {}

    @classmethod
    def from_params(cls, params, log=None):
        """Build from the shared connection options (see ``arguments.CW_CONNECTION_SPEC``)."""
        return cls(params["cw_url"], params["cw_company_id"], params["cw_public_key"], params["cw_private_key"],
                   params["cw_client_id"], codebase=params.get("cw_codebase"),
                   api_version=params.get("cw_api_version"), validate_certs=params.get("cw_validate_certs", True),
                   timeout=params.get("cw_timeout") or 30.0, log=log)

    def _origin(self, host):
        port = ":%d" % self.port if self.port else ""
        return "%s://%s%s" % (self.scheme, host, port)

    # ----- discovery -------------------------------------------------------------------
    def company_info(self):
        return self.transport.request("GET", self._origin(self.host) + "/login/companyinfo/%s" % self.company_id).json()

    def _ensure_base(self):
        if self._discovered:
            return
        is_cloud = False
        if not self.codebase:
            info = self.company_info() or {}
            self.codebase = info.get("Codebase") or ON_PREMISE_CODEBASE
            is_cloud = str(info.get("IsCloud", "")).lower() == "true"
        codebase = self.codebase.strip("/") + "/"
        self.transport.base_url = "%s/%sapis/3.0" % (self._origin(api_host(self.host, codebase, is_cloud)), codebase)
        self._discovered = True

    @property
    def base_url(self):
        self._ensure_base()
        return self.transport.base_url

    def request(self, method, path, **kwargs):
        self._ensure_base()
        return self.transport.request(method, path, **kwargs)

    # ----- reads -----------------------------------------------------------------------
    @staticmethod
    def _query(conditions=None, custom_field_conditions=None, child_conditions=None, fields=None, order_by=None):
        params = {}
        for key, value in (("conditions", conditions), ("customFieldConditions", custom_field_conditions),
                           ("childConditions", child_conditions), ("orderBy", order_by)):
            if value:
                params[key] = value
        if fields:
            params["fields"] = fields if isinstance(fields, str) else ",".join(fields)
        return params

    def iterate(self, path, conditions=None, custom_field_conditions=None, child_conditions=None, fields=None,
                order_by=None, page_size=MAX_PAGE_SIZE, forward_only=None):
        """Yield every record of a list, page by page. Forward-only paging (stable under
        concurrent inserts) is used unless an ``order_by`` is asked for, which it forbids."""
        if forward_only is None:
            forward_only = not order_by
        params = self._query(conditions, custom_field_conditions, child_conditions, fields, order_by)
        params["pageSize"] = min(int(page_size), MAX_PAGE_SIZE)
        headers = {"pagination-type": "forward-only"} if forward_only else None
        if fields and forward_only and "id" not in params["fields"].split(","):
            params["fields"] += ",id"  # forward-only pages continue after the last id
        if not forward_only:
            params["page"] = 1
        url = path
        while url:
            response = self.request("GET", url, params=params, headers=headers)
            records = response.json() or []
            yield from records
            # The next link carries the whole query; no link (or an empty one) ends the list.
            url = parse_links(response.headers.get("Link")).get("next") if records else None
            params = None

    def list(self, path, **kwargs):
        return list(self.iterate(path, **kwargs))

    def count(self, path, conditions=None, custom_field_conditions=None):
        params = self._query(conditions, custom_field_conditions)
        return int(self.request("GET", path.rstrip("/") + "/count", params=params).json()["count"])

    def get(self, path, params=None):
        return self.request("GET", path, params=params).json()

    def find(self, path, conditions, **kwargs):
        """All records matching ``conditions``."""
        return self.list(path, conditions=conditions, **kwargs)

    def resolve(self, path, value, field="name", what=None):
        """The one record of ``path`` whose ``field`` equals ``value``; cached per client.

        Raises :class:`InputError` naming the unknown value and the known ones, so a typo in a
        board or status name fails before any write."""
        if isinstance(value, int) and not isinstance(value, bool):
            field = "id"
        key = (path.lower(), field.lower(), str(value).lower())
        if key not in self._cache:
            matches = self.find(path, condition(field, "=", value))
            if not matches:
                known = sorted(str(r.get(field)) for r in self.list(path, fields=[field, "id"]))[:50]
                raise InputError("unknown %s %r; known: %s" % (what or path, value, ", ".join(known) or "none"))
            if len(matches) > 1:
                raise InputError("%s %r is ambiguous: %d records share that %s" % (what or path, value, len(matches), field))
            self._cache[key] = matches[0]
        return self._cache[key]

    # ----- writes ----------------------------------------------------------------------
    def create(self, path, body):
        return self.request("POST", path, json=body).json()

    def put(self, path, body):
        return self.request("PUT", path, json=body).json()

    def patch(self, path, operations):
        return self.request("PATCH", path, json=operations).json()

    def delete(self, path):
        self.request("DELETE", path)
