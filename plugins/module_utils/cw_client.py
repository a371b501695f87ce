# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ConnectWise Manage REST client: the only code that speaks HTTP to Manage.

Used by every ``cw_*`` module and by the sync agent. It discovers the codebase through
``/login/companyinfo/{company}`` (again when the API says the path is gone, as after a cloud
upgrade), applies the cloud ``api-`` host rule, authenticates with ``company+public:private``,
sends ``clientId`` and a versioned ``Accept`` header, pages through lists completely
(forward-only where the query allows it, ``Link`` headers otherwise) and quotes values into
condition strings so that no value can change a query.

Thread safety: a client may be shared by threads. Discovery runs under a lock, the lookup cache
is thread-safe, and :meth:`ManageClient.get_many` reads several paths concurrently.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import functools
import re
import threading
from urllib.parse import parse_qsl, urlsplit

from ansible_collections.signl4.connectwise.plugins.module_utils.cache import LookupCache
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import (
    AuthenticationError,
    InputError,
    NotFoundError,
    UnexpectedResponseError,
    UnknownNameError,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.timestamps import utc_naive
from ansible_collections.signl4.connectwise.plugins.module_utils.transport import (
    PooledClient,
    Transport,
    check_http_url,
)


# The model version of the vendored spec subset (tests/specs); ``cw_api_version`` changes it.
DEFAULT_API_VERSION = "2025.8"
ON_PREMISE_CODEBASE = "v4_6_release/"
MAX_PAGE_SIZE = 1000
CODEBASE_KIND = "manage-codebase"
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([a-zA-Z]+)"?')
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*$")
_IP = re.compile(r"^[0-9.]+$|^\[?[0-9a-fA-F:]+\]?$")
# A codebase as companyinfo names it (``v2025_1/``, ``v4_6_release/``): it becomes part of every request path,
# so nothing else (a ``?``, ``/``, ``..``) is taken from a cache or an answer.
_CODEBASE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.]*/")
# Option name and environment variable of each required connection setting, for messages. A caller
# with settings of its own (the agent's ``manage.company_id``, ...) passes ``options`` naming them.
REQUIRED_OPTIONS = (("url", "cw_url", "CW_URL"), ("company_id", "cw_company_id", "CW_COMPANY_ID"),
                    ("public_key", "cw_public_key", "CW_PUBLIC_KEY"), ("private_key", "cw_private_key", "CW_PRIVATE_KEY"),
                    ("client_id", "cw_client_id", "CW_CLIENT_ID"))
MODULE_OPTIONS = dict([(name, option) for name, option, _env in REQUIRED_OPTIONS], timeout="cw_timeout",
                      codebase="cw_codebase")
AUTH_HINT = ("check cw_company_id, cw_public_key, cw_private_key and cw_client_id (or CW_COMPANY_ID, "
             "CW_PUBLIC_KEY, CW_PRIVATE_KEY, CW_CLIENT_ID) and that the API member is active")


def _auth_hint(options):
    if all(options[name] == MODULE_OPTIONS[name] for name in ("company_id", "public_key", "private_key", "client_id")):
        return AUTH_HINT
    return "check %s, %s, %s and %s and that the API member is active" % tuple(
        options[name] for name in ("company_id", "public_key", "private_key", "client_id"))


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
        return "[%s]" % utc_naive(value).strftime("%Y-%m-%dT%H:%M:%SZ")
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


def equals_all(fields):
    """``field = value`` AND-joined for each ``{api field: value}`` that is not ``None``; ``None`` when
    none is (the filters of the ``_info`` modules, ``option_spec.payload`` of their options)."""
    parts = [condition(field, "=", value) for field, value in fields.items() if value is not None]
    return all_of(*parts) or None


def patch_operations(changes):
    """Minimal JSON-patch for top-level changes (references and arrays are replaced whole,
    as the Manage guide requires)."""
    return [{"op": "replace", "path": key, "value": value} for key, value in changes.items()]


def load_children(client, wanted):
    """Read nested lists concurrently on the pooled session: ``wanted`` is ``[(record, path, key)]``,
    and each list is stored as ``record[key]``. A record that has ``key`` already is not read again
    (the modules read a nested list only where it is compared or purged)."""
    wanted = [(record, path, key) for record, path, key in wanted if key not in record]
    for (record, _path, key), records in zip(wanted, client.list_many([path for _r, path, _k in wanted])):
        record[key] = records


# ----- URL rules ------------------------------------------------------------------------

def split_site(site, option="cw_url"):
    """``(scheme, host, port)`` from ``na.myconnectwise.net``, ``https://host`` or ``http://127.0.0.1:8080``;
    :class:`InputError` naming ``option`` for anything else."""
    parts = check_http_url(site, option, default_scheme="https")
    return parts.scheme.lower(), parts.hostname, parts.port


def api_host(host, codebase, is_cloud):
    """Cloud sites answer the REST API only on the ``api-`` host (``api-na.myconnectwise.net``).
    The rule applies to host names whose codebase is not the on-premise one; never to IPs or localhost."""
    if _IP.match(host) or host == "localhost" or host.lower().startswith("api-"):
        return host
    if is_cloud or codebase != ON_PREMISE_CODEBASE:
        return "api-" + host
    return host


def parse_links(header):
    """``{relation: url}`` of an RFC 5988 ``Link`` header (``first``/``prev``/``next``/``last``)."""
    return {rel.lower(): url for url, rel in _LINK.findall(header or "")}


def next_page_query(header):
    """The query of the ``next`` link as a dict, or ``None`` at the end of a list (no header,
    an empty one, or no ``next`` relation). Only the query is taken: the next page is asked of
    the same host and path, so credentials never follow a link elsewhere."""
    url = parse_links(header).get("next")
    if not url:
        return None
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


# ----- the client -----------------------------------------------------------------------

def _manage_error(status, body, text):
    """Manage's error body: ``{code, message, errors[]}``; 429 uses ``{error, message}``."""
    if isinstance(body, dict):
        code, message = body.get("code") or body.get("error"), body.get("message") or text
        errors = body.get("errors") or []
    else:
        code, message, errors = None, (text or "").strip()[:500], []
    if status == 401 and not message:  # Manage says e.g. {"code": "ConnectWiseApi", "message": "UserNotAuthenticated"}
        message = "not authenticated"
    return code, message, errors


def is_codebase(codebase):
    """Whether ``codebase`` has the shape of one (``v2025_1/``: letters, digits, ``_`` and ``.``, then ``/``)."""
    return isinstance(codebase, str) and bool(_CODEBASE.fullmatch(codebase))


class ManageClient(PooledClient):
    """One pooled session per client. Lookups by name are cached (TTL and size bound, see
    :class:`LookupCache`) and dropped for a collection on a 404 or a write to it.

    ``run_cache`` (a :class:`~run_cache.RunCache`) shares the discovered codebase with the other
    tasks of a run; ``deadline`` bounds each request with its retries (default: twice ``timeout``);
    ``options`` names the caller's settings in messages (``{"company_id": "manage.company_id", ...}``,
    default ``MODULE_OPTIONS``)."""

    def __init__(self, url, company_id, public_key, private_key, client_id, codebase=None,
                 api_version=DEFAULT_API_VERSION, validate_certs=True, timeout=30.0, retry=None, log=None,
                 deadline=None, lookup_cache=None, run_cache=None, options=None):
        options = dict(MODULE_OPTIONS, **(options or {}))
        values = dict(url=url, company_id=company_id, public_key=public_key, private_key=private_key, client_id=client_id)
        for name, option, env in REQUIRED_OPTIONS:
            if not values[name] or not str(values[name]).strip():
                where = " (or the %s environment variable)" % env if options[name] == option else ""
                raise InputError("the Manage connection option %s is required%s" % (options[name], where))
        self.scheme, self.host, self.port = split_site(url, options["url"])
        self.company_id = company_id
        self.codebase = codebase.strip("/") + "/" if codebase else None
        self._codebase_pinned = bool(codebase)
        self.codebase_option = options["codebase"]
        if self._codebase_pinned and not is_codebase(self.codebase):
            raise InputError(f"{options['codebase']} must be a codebase such as v2025_1/ or v4_6_release/ (letters, "
                             f"digits, _ and . only), got {codebase[:100]!r}")
        self.api_version = api_version or DEFAULT_API_VERSION
        self.transport = Transport(
            self._origin(self.host), "ConnectWise Manage", _manage_error,
            headers={"clientId": client_id,
                     "Accept": "application/vnd.connectwise.com+json; version=%s" % self.api_version},
            auth=("%s+%s" % (company_id, public_key), private_key),
            timeout=timeout, validate_certs=validate_certs, retry=retry, secrets=[private_key], log=log,
            deadline=deadline, options={"timeout": options["timeout"], "url": options["url"]})
        self.auth_hint = _auth_hint(options)
        self._discovered = False
        self._lock = threading.RLock()
        self.cache = LookupCache() if lookup_cache is None else lookup_cache
        self.run_cache = run_cache

    @classmethod
    def from_params(cls, params, log=None, run_cache=None):
        """Build from the shared connection options (see ``cw_module.CW_CONNECTION_SPEC``)."""
        timeout = params.get("cw_timeout")
        return cls(params.get("cw_url"), params.get("cw_company_id"), params.get("cw_public_key"),
                   params.get("cw_private_key"), params.get("cw_client_id"), codebase=params.get("cw_codebase"),
                   api_version=params.get("cw_api_version"), validate_certs=params.get("cw_validate_certs", True),
                   timeout=30.0 if timeout is None else timeout, log=log, run_cache=run_cache)

    def _origin(self, host):
        port = ":%d" % self.port if self.port else ""
        return "%s://%s%s" % (self.scheme, host, port)

    # ----- discovery -------------------------------------------------------------------
    @property
    def site_key(self):
        """The run cache's key of this site and company (no secret in it)."""
        return "%s|%s" % (self._origin(self.host).lower(), str(self.company_id).lower())

    def company_info(self):
        response = self.transport.request("GET", self._origin(self.host) + "/login/companyinfo/%s" % self.company_id)
        return self.transport.json(response, dict, "company info")

    def _discover(self):
        """``(codebase, is_cloud)`` from the run cache or from ``/login/companyinfo``. A cached codebase of
        another shape than a codebase's is not used (discovered again); a discovered one is an error."""
        cached = self.run_cache.get(CODEBASE_KIND, self.site_key) if self.run_cache else None
        if isinstance(cached, dict) and is_codebase(cached.get("codebase")):
            return cached["codebase"], bool(cached.get("is_cloud"))
        info = self.company_info()
        codebase = str(info.get("Codebase") or ON_PREMISE_CODEBASE)
        if not is_codebase(codebase):
            raise UnexpectedResponseError(f"company info names the codebase {codebase[:100]!r}, which is not one "
                                          f"(letters, digits, _ and . ending in /); set {self.codebase_option}",
                                          api="ConnectWise Manage")
        is_cloud = str(info.get("IsCloud", "")).lower() == "true"
        if self.run_cache:
            self.run_cache.put(CODEBASE_KIND, self.site_key, {"codebase": codebase, "is_cloud": is_cloud})
        return codebase, is_cloud

    def _ensure_base(self):
        with self._lock:
            if self._discovered:
                return
            is_cloud = False
            if not self._codebase_pinned:
                self.codebase, is_cloud = self._discover()
            self.transport.base_url = f"{self._origin(api_host(self.host, self.codebase, is_cloud))}/{self.codebase}apis/3.0"
            self._discovered = True

    def _rediscover(self, stale_base):
        """Discover the codebase again after the API said a path is gone; ``True`` when it moved."""
        with self._lock:
            if self._codebase_pinned:
                return False
            if self.transport.base_url != stale_base:
                return True  # another thread already moved on
            if self.run_cache:
                self.run_cache.drop(CODEBASE_KIND, self.site_key)
            self._discovered = False
            self._ensure_base()
            return self.transport.base_url != stale_base

    @property
    def base_url(self):
        self._ensure_base()
        return self.transport.base_url

    def request(self, method, path, **kwargs):
        """One request below the API base. A 404 saying the endpoint does not exist (not a record
        that is missing) makes the client discover the codebase again and retry once."""
        self._ensure_base()
        base = self.transport.base_url
        writes = method.upper() != "GET"
        try:
            try:
                return self.transport.request(method, path, **kwargs)
            except NotFoundError as exc:
                self._forget(path)
                if exc.code == "NotFound" or not self._rediscover(base):
                    raise
                return self.transport.request(method, path, **kwargs)
        except AuthenticationError as exc:
            exc.hint = exc.hint or self.auth_hint  # the connection settings to check, apart from Manage's words
            raise
        finally:
            if writes:  # applied or maybe applied: no lookup of that collection may outlive it
                self._forget(path)

    def _forget(self, path):
        """Drop the cached lookups of the collections ``path`` is in (a write or a 404 there may
        have renamed or removed a record)."""
        path = urlsplit(path).path.lower().rstrip("/")
        self.cache.invalidate(lambda key: path.startswith(key[0].rstrip("/")))

    def _json(self, method, path, expect, **kwargs):
        return self.transport.json(self.request(method, path, **kwargs), expect, "%s %s" % (method, path))

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
        concurrent inserts) is used unless an ``order_by`` is asked for, which it forbids.
        The list ends on a page shorter than the page size asked for (Manage fills every page
        up to it, at most ``MAX_PAGE_SIZE``, which is never exceeded here), on an empty page, or
        when the ``Link`` header has no ``next`` relation. A short page ends it without the read of
        the empty page after it: most lists fit in one page, so that read would double them."""
        if forward_only is None:
            forward_only = not order_by
        params = self._query(conditions, custom_field_conditions, child_conditions, fields, order_by)
        page_size = params["pageSize"] = min(int(page_size), MAX_PAGE_SIZE)
        headers = {"pagination-type": "forward-only"} if forward_only else None
        if fields and forward_only and "id" not in params["fields"].split(","):
            params["fields"] += ",id"  # forward-only pages continue after the last id
        if not forward_only:
            params["page"] = 1
        seen = set()
        while params is not None:
            seen.add(tuple(sorted(params.items())))
            response = self.request("GET", path, params=params, headers=headers)
            records = self._records(response, path)
            yield from records
            params = next_page_query(response.headers.get("Link")) if len(records) >= page_size else None
            if params is not None and tuple(sorted(params.items())) in seen:
                return  # a link back to a page already read would loop forever

    def _records(self, response, path):
        records = self.transport.json(response, list, "list of %s" % path)
        if not all(isinstance(record, dict) for record in records):
            raise self.transport.unexpected(response, "a list whose items are not all JSON objects")
        return records

    def list(self, path, **kwargs):
        return list(self.iterate(path, **kwargs))

    def count(self, path, conditions=None, custom_field_conditions=None):
        params = self._query(conditions, custom_field_conditions)
        response = self.request("GET", path.rstrip("/") + "/count", params=params)
        body = self.transport.json(response, dict, "count")
        if not isinstance(body.get("count"), int) or isinstance(body.get("count"), bool):
            raise self.transport.unexpected(response, "no integer count")
        return body["count"]

    def get(self, path, params=None):
        return self._json("GET", path, dict, params=params)

    def get_many(self, paths, max_workers=4):
        """``get`` of each path, concurrently on the pooled session; results in the order of ``paths``.
        The first error is raised once all reads have ended."""
        return self._concurrently(self.get, paths, max_workers)

    def list_many(self, paths, max_workers=4):
        """``list`` of each path (every record, all pages), concurrently on the pooled session; results
        in the order of ``paths``. The first error is raised once all reads have ended."""
        return self._concurrently(self.list, paths, max_workers)

    def _concurrently(self, read, paths, max_workers):
        return self.concurrently(*[functools.partial(read, path) for path in paths], max_workers=max_workers)

    def prepare(self):
        self._ensure_base()  # discovery once, before the threads

    def find(self, path, conditions, **kwargs):
        """All records matching ``conditions``."""
        return self.list(path, conditions=conditions, **kwargs)

    def resolve(self, path, value, field="name", what=None):
        """The one record of ``path`` whose ``field`` equals ``value``; cached (see :class:`LookupCache`).

        Raises :class:`InputError` naming the unknown value and the known ones, so a typo in a
        board or status name fails before any write."""
        if isinstance(value, int) and not isinstance(value, bool):
            field = "id"
        elif value is None or not str(value).strip():
            raise InputError("a %s name is required, got %r" % (what or path, value))  # never a lookup of nothing
        key = (path.lower(), field.lower(), str(value).lower())
        return self.cache.get_or_load(key, lambda: self._resolve_uncached(path, value, field, what))

    def _resolve_uncached(self, path, value, field, what):
        matches = self.find(path, condition(field, "=", value))
        if not matches:
            known = sorted(str(r.get(field)) for r in self.list(path, fields=[field, "id"]))[:50]
            raise UnknownNameError("unknown %s %r; known: %s" % (what or path, value, ", ".join(known) or "none"))
        if len(matches) > 1:
            raise InputError("%s %r is ambiguous: %d records share that %s" % (what or path, value, len(matches), field))
        return matches[0]

    # ----- writes ----------------------------------------------------------------------
    def create(self, path, body):
        return self._json("POST", path, dict, json=body)

    def put(self, path, body):
        return self._json("PUT", path, dict, json=body)

    def patch(self, path, operations):
        return self._json("PATCH", path, dict, json=operations)

    def delete(self, path):
        self.request("DELETE", path)
