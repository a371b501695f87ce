"""Generic Manage REST collections.

A resource is declared by subclassing :class:`Collection` with class attributes (path, type
name, fields with their types, validation rules, references, methods) and, when needed,
overriding :meth:`Collection.prepare` (defaults, derived fields, cross-field rules) and
:meth:`Collection.render` (fields computed at read time). The class then serves

    GET, POST           {path}                 list (filters, orderBy, fields, both paging modes) / create
    GET                 {path}/count           {"count": n}
    GET, PUT, PATCH,    {path}/{id}            one record / replace / JSON-patch / 204
    DELETE

Methods left out of ``methods`` answer 405. ``{parentId}`` / ``{grandparentId}`` in the path
scope records by their ``parentId`` / ``grandParentId`` fields, and ``parent`` names the
collection that must hold the parent record.

Stored records are never changed in place: every write stores a new dict, so a response may
share them without copying while the server serializes it outside the lock.
"""

import copy
import datetime as dt
import math
import re
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from tests.emulators.common import HttpError, Response
from tests.emulators.manage.conditions import (
    CHILD_CONDITIONS,
    CUSTOM_FIELD_CONDITIONS,
    ConditionError,
    Filter,
)

API_ROOT = "/apis/3.0"
ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 1000
PATCH_OPS = ("add", "replace", "remove")
INFO_ALIASES = {name.lower(): ("_info", name) for name in ("lastUpdated", "updatedBy", "dateEntered", "enteredBy")}
CUSTOM_FIELD_VALUE_FIELDS = ("id", "caption", "type", "entryMethod", "numberOfDecimals", "value", "connectWiseId")
SCOPE_PARAMS = {"parentId": "parentId", "grandparentId": "grandParentId"}


DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def _is_datetime(value):
    """An RFC 3339 date-time, the spec's ``format: date-time``."""
    if not isinstance(value, str) or not DATE_TIME.match(value):
        return False
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


TYPE_CHECKS = {
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool) and -2**31 <= v < 2**31,
    "num": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "str": lambda v: isinstance(v, str),
    "date": _is_datetime,
    "list": lambda v: isinstance(v, list),
    "ref": lambda v: isinstance(v, dict),
    "obj": lambda v: isinstance(v, dict),
    "any": lambda v: True,
}


# ----- Manage-shaped errors ----------------------------------------------------------------
def manage_error(status, code, message, errors=None):
    body = {"code": code, "message": message}
    if errors is not None:
        body["errors"] = errors
    return HttpError(status, body)


def method_not_allowed(request):
    raise manage_error(405, "ConnectWiseApi",
                       "The requested resource does not support http method '%s'." % request.method)


def not_found_error():
    return manage_error(404, "ConnectWiseApi", "The endpoint does not exist.")


def condition_error(err):
    return manage_error(400, "ApiFindCondition", str(err))


def _page_arg(request, name, default):
    raw = request.arg(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < (0 if name == "pageId" else 1):
        raise manage_error(400, "InvalidObject", "The value '%s' is not valid for %s." % (raw, name))
    return value


# ----- the query pipeline pieces -----------------------------------------------------------
def project(record, fields_param):
    """The ``fields`` partial response: comma-separated paths, ``/`` for nested fields."""
    if not fields_param:
        return record
    out = {}
    for spec in fields_param.split(","):
        path = [part for part in spec.strip().split("/") if part]
        if path:
            _copy_path(record, out, path)
    return out


def _copy_path(source, target, path):
    key = _find_key(source, path[0])
    if key is None:
        return
    value = source[key]
    if len(path) == 1 or target.get(key) is value:
        target[key] = value
    elif isinstance(value, dict):
        _copy_path(value, target.setdefault(key, {}), path[1:])
    elif isinstance(value, list):
        items = target.setdefault(key, [{} for element in value])
        for element, item in zip(value, items):
            if isinstance(element, dict):
                _copy_path(element, item, path[1:])


def _find_key(record, name):
    if name in record:
        return name
    lowered = name.lower()
    return next((key for key in record if key.lower() == lowered), None)


def _lookup(record, path):
    for segment in path:
        key = _find_key(record, segment) if isinstance(record, dict) else None
        if key is None:
            return None
        record = record[key]
    return record


def _sort_key(value):
    """SQL Server order: NULL first, text case-insensitive."""
    if value is None:
        return (0, 0)
    if isinstance(value, str):
        return (1, value.casefold())
    if isinstance(value, (dict, list)):
        return (1, str(value))
    return (1, value)


def order_records(records, order_by, known_fields):
    """Sort in place by ``field [asc|desc], ...``; id ascending breaks ties."""
    keys = []
    for clause in order_by.split(","):
        words = clause.split()
        if not words:
            continue
        direction = words[1].lower() if len(words) > 1 else "asc"
        path = words[0].split("/")
        path = list(INFO_ALIASES.get(path[0].lower(), path)) if len(path) == 1 else path
        if len(words) > 2 or direction not in ("asc", "desc") or path[0].lower() not in known_fields:
            raise manage_error(400, "ApiFindCondition", "%s is not a recognized name." % clause.strip())
        keys.append((path, direction == "desc"))
    for path, descending in reversed(keys):
        records.sort(key=lambda record: _sort_key(_lookup(record, path)), reverse=descending)


def page_url(request, **overrides):
    """This request's absolute URL with the paging parameters replaced and put last, as real Manage
    writes them (``...?pageSize=25&page=2``: clients read the number with ``page=(\\d+)>``)."""
    parts = urlsplit(request.raw_path)
    wanted = {name.lower() for name in overrides}
    query = [(name, value) for name, value in parse_qsl(parts.query, keep_blank_values=True)
             if name.lower() not in wanted]
    query.extend(overrides.items())
    host = request.header("host", "127.0.0.1")
    return "http://%s%s?%s" % (host, parts.path, urlencode(query, quote_via=quote, safe="/"))


def _link_header(links):
    return ", ".join('<%s>; rel="%s"' % (url, rel) for url, rel in links)


def navigable_page(request, records, page_size):
    """``first``/``prev`` from page 2 on, ``next`` before the last page, ``last`` always (Guide, Pagination)."""
    page = _page_arg(request, "page", 1)
    last = max(1, math.ceil(len(records) / page_size))
    numbers = []
    if page > 1:
        numbers += [(1, "first"), (page - 1, "prev")]
    if page < last:
        numbers.append((page + 1, "next"))
    numbers.append((last, "last"))
    links = [(page_url(request, pageSize=page_size, page=number), rel) for number, rel in numbers]
    start = (page - 1) * page_size
    return records[start:start + page_size], _link_header(links)


def _forward_only_after(request):
    """The id a forward-only page starts after (0: the first page, or not forward-only). Skipping the
    records up to it before they are rendered and filtered keeps reading a long list page by page
    linear in its length instead of one whole scan per page."""
    if (request.header("pagination-type") or "").lower() != "forward-only":
        return 0
    return _page_arg(request, "pageId", 0)


def forward_only_page(request, records, page_size):
    """Ids ascending after ``pageId``. The ``next`` link is always sent ("there will always be a link
    header in the response for the next pageId", Guide): the end is an empty page."""
    if request.arg("orderBy"):
        raise manage_error(400, "InvalidObject", "orderBy cannot be used with forward-only pagination.")
    page_id = _page_arg(request, "pageId", 0)
    page = [record for record in records if record["id"] > page_id][:page_size]
    next_id = page[-1]["id"] if page else page_id
    return page, _link_header([(page_url(request, pageSize=page_size, pageId=next_id), "next")])


# ----- the collection ----------------------------------------------------------------------
class Collection:
    key = None              # the name references and ``parent`` use, e.g. "boards"
    path = None             # e.g. "/service/boards/{parentId}/statuses"
    type_name = None        # schema name, used in 404 messages: "BoardStatus 7 not found"
    resource = None         # name in 400 bodies; defaults to type_name with a lower-case initial
    methods = "GET POST PUT PATCH DELETE"
    # "name:type ..." (types in TYPE_CHECKS); nothing else is stored. id, _info and the parent
    # ids of a nested path are added.
    fields = ""
    required = ()
    max_lengths = {}
    enums = {}
    ranges = {}             # field -> (lowest, highest)
    unique = ()             # field names or tuples of them, unique (case-insensitive) per parent
    references = {}         # field -> collection key, or (collection key, field of the parent scope)
    read_only = ()          # set by the server; ignored in POST/PUT bodies, refused in PATCH
    write_only = ()         # accepted on writes, never stored or returned
    parent = None           # collection key holding the {parentId} records
    lookup_keys = ("name",)  # how a reference object may designate a record, besides its id
    reference_fields = ("id", "name")
    href_name = None        # key of a reference's _info link; defaults to resource + "_href"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.scope_fields = tuple(SCOPE_PARAMS[name] for name in re.findall(r"\{(\w+)\}", cls.path or ""))
        specs = ["id:int"] + cls.fields.split() + ["%s:int" % field for field in cls.scope_fields] + ["_info:obj"]
        cls.field_types = dict(spec.split(":") for spec in specs)
        cls.known_fields = {name.lower() for name in cls.field_types}
        cls.server_fields = ("id", "_info") + tuple(cls.read_only) + cls.scope_fields
        if cls.resource is None and cls.type_name:
            cls.resource = cls.type_name[0].lower() + cls.type_name[1:]
        if cls.href_name is None and cls.resource:
            cls.href_name = cls.resource + "_href"

    def __init__(self, emulator):
        self.emulator = emulator
        self.clear()

    def clear(self):
        self.records = {}
        self.next_id = 1

    # ----- routes -------------------------------------------------------------------------
    def register(self):
        base = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>\\d+)", re.escape(self.path))
        self._route(base, {"GET": self.list_request, "POST": self.create_request})
        self._route(base + "/count", {"GET": self.count_request})
        self._route(base + r"/(?P<id>\d+)", {"GET": self.get_request, "PUT": self.replace_request,
                                             "PATCH": self.patch_request, "DELETE": self.delete_request})

    def _route(self, pattern, handlers):
        allowed = self.methods.split()
        self.emulator.api_route(pattern, **{m: handler for m, handler in handlers.items() if m in allowed})

    # ----- request handlers ---------------------------------------------------------------
    def list_request(self, request):
        records = self.query(request)
        page_size = min(_page_arg(request, "pageSize", DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE)
        if (request.header("pagination-type") or "").lower() == "forward-only":
            page, link = forward_only_page(request, records, page_size)
        else:
            if request.arg("orderBy"):
                order_records(records, request.arg("orderBy"), self.known_fields)
            page, link = navigable_page(request, records, page_size)
        fields = request.arg("fields")
        return Response(200, [project(record, fields) for record in page], {"Link": link})

    def count_request(self, request):
        return Response(200, {"count": len(self.query(request))})

    def get_request(self, request):
        record = self.render(self.find(request), self.emulator.api_base(request))
        return Response(200, project(record, request.arg("fields")))

    def create_request(self, request):
        scope = self.scope(request)
        record = self.create(self._body(request, dict), scope)
        return Response(201, self.render(record, self.emulator.api_base(request)))

    def replace_request(self, request):
        old = self.find(request)
        record = self.store(self._writable(self._body(request, dict), old), old)
        return Response(200, self.render(record, self.emulator.api_base(request)))

    def patch_request(self, request):
        old = self.find(request)
        record = copy.deepcopy(old)
        for operation in self._body(request, list):
            self._apply_patch(record, operation)
        record = self.store(record, old)
        return Response(200, self.render(record, self.emulator.api_base(request)))

    def delete_request(self, request):
        record = self.find(request)
        self.delete(record["id"])
        return Response(204)

    # ----- reading ------------------------------------------------------------------------
    def scope(self, request):
        """The parent ids a nested path names, as record fields; 404 when the parent is missing."""
        scope = {field: int(request.params[param]) for param, field in SCOPE_PARAMS.items()
                 if param in request.params}
        if self.parent:
            parent_scope = {"parentId": scope["grandParentId"]} if "grandParentId" in scope else {}
            self.emulator.collections[self.parent].get(scope["parentId"], parent_scope)
        return scope

    def in_scope(self, scope):
        if not scope:
            return list(self.records.values())
        return [r for r in self.records.values() if all(r.get(k) == v for k, v in scope.items())]

    def get(self, record_id, scope=None):
        record = self.records.get(record_id)
        if record is None or any(record.get(k) != v for k, v in (scope or {}).items()):
            raise manage_error(404, "NotFound", "%s %s not found" % (self.type_name, record_id))
        return record

    def find(self, request):
        return self.get(int(request.params["id"]), self.scope(request))

    def query(self, request):
        """Records in scope, rendered, that pass conditions, childConditions and customFieldConditions."""
        base = self.emulator.api_base(request)
        after = _forward_only_after(request)  # records before a forward-only page cannot be on it
        records = [self.render(record, base) for record in self.in_scope(self.scope(request)) if record["id"] > after]
        try:
            for record_filter in self._filters(request):
                records = [record for record in records if record_filter(record)]
        except ConditionError as err:
            raise condition_error(err) from None
        return records

    def _filters(self, request):
        filters = []
        text = request.arg("conditions")
        if text:
            filters.append(Filter(text, self.field_types, INFO_ALIASES))
        text = request.arg("childConditions")
        if text:
            filters.append(Filter(text, self.field_types, INFO_ALIASES, CHILD_CONDITIONS))
        text = request.arg("customFieldConditions")
        if text:
            if "customFields" not in self.field_types:
                raise ConditionError("customFieldConditions are not supported on this endpoint.")
            entry = Filter(text, CUSTOM_FIELD_VALUE_FIELDS, kind=CUSTOM_FIELD_CONDITIONS)
            filters.append(lambda record: any(entry(item) for item in record.get("customFields") or ()))
        return filters

    # ----- writing ------------------------------------------------------------------------
    def create(self, body, scope=None, when=None):
        """Validate and store a new record from a request body (also used to seed)."""
        record = self._writable(body, None)
        record.update(scope or {})
        return self.store(record, None, when)

    def store(self, record, old, when=None):
        errors = self.validate(record)
        if errors:
            raise self.invalid(errors)
        now = when or self.emulator.now()
        record["id"] = old["id"] if old else self.next_id
        self.prepare(record, old, now)
        self._check_unique(record)
        record["_info"] = self.emulator.stamp(old, now)
        record = {field: record[field] for field in self.field_types
                  if field in record and field not in self.write_only}
        if old is None:
            self.next_id += 1
        self.records[record["id"]] = record
        return record

    def delete(self, record_id):
        del self.records[record_id]
        for child in self.emulator.collections.values():
            if child.parent is not None and self.emulator.collections[child.parent] is self:
                for record in child.in_scope({"parentId": record_id}):
                    child.delete(record["id"])

    def _body(self, request, kind):
        try:
            body = request.json
        except HttpError:
            body = None
        if not isinstance(body, kind):
            expected = "an array of patch operations" if kind is list else "a %s object" % self.resource
            raise manage_error(400, "InvalidObject", "The request body must be %s." % expected)
        return body

    def _writable(self, body, old):
        """The body's known, writable fields (unknown ones are ignored), plus what the server keeps."""
        record = {key: copy.deepcopy(value) for key, value in body.items()
                  if key in self.field_types and key not in self.server_fields}
        for field in self.server_fields:
            if old is not None and field in old:
                record[field] = old[field]
        return record

    def _apply_patch(self, record, operation):
        op, path = (operation.get("op"), operation.get("path")) if isinstance(operation, dict) else (None, None)
        if op not in PATCH_OPS or not isinstance(path, str):
            self.reject(str(path), "A patch operation needs an op (add, replace or remove) and a path.")
        field = path[1:] if path.startswith("/") else path
        if field not in self.field_types or field in self.server_fields:
            self.reject(field, "The path %s cannot be patched." % path)
        if op == "remove":
            record.pop(field, None)
        elif "value" not in operation:
            self.reject(field, "A value is required to %s %s." % (op, path))
        else:
            record[field] = copy.deepcopy(operation["value"])

    # ----- validation ---------------------------------------------------------------------
    def field_error(self, code, message, field):
        return {"code": code, "message": message, "resource": self.resource, "field": field}

    def invalid(self, errors):
        return manage_error(400, "InvalidObject", "%s object is invalid" % self.resource, errors)

    def reject(self, field, message, code="InvalidField"):
        raise self.invalid([self.field_error(code, message, field)])

    def validate(self, record):
        """The declarative rules: required, types, max lengths, enums, ranges."""
        errors = [self.field_error("MissingRequiredField", "The %s field is required." % field, field)
                  for field in self.required if record.get(field) in (None, "")]
        for field, value in record.items():
            message = None if value is None else self._field_problem(field, value)
            if message:
                errors.append(self.field_error("InvalidField", message, field))
        return errors

    def _field_problem(self, field, value):
        kind = self.field_types.get(field, "any")
        if not TYPE_CHECKS[kind](value):
            return "The value supplied for %s is not a valid %s." % (field, kind)
        if field in self.max_lengths and len(value) > self.max_lengths[field]:
            return "The field %s must be a string with a maximum length of %d." % (field, self.max_lengths[field])
        if field in self.enums and value not in self.enums[field]:
            return "%s must be one of: %s." % (field, ", ".join(self.enums[field]))
        if field in self.ranges and not self.ranges[field][0] <= value <= self.ranges[field][1]:
            return "%s must be between %d and %d." % ((field,) + tuple(self.ranges[field]))
        return None

    def _check_unique(self, record):
        scope = {field: record.get(field) for field in self.scope_fields}
        for fields in self.unique:
            fields = (fields,) if isinstance(fields, str) else fields
            wanted = _unique_key(record, fields)
            if wanted is not None and any(other["id"] != record["id"] and _unique_key(other, fields) == wanted
                                          for other in self.in_scope(scope)):
                self.reject(fields[-1], "A matching %s already exists." % self.resource, "ObjectExists")

    # ----- references ---------------------------------------------------------------------
    def resolve(self, value, scope=None):
        """The record a reference object designates: by id, else by one of ``lookup_keys``."""
        if not isinstance(value, dict):
            return None
        if value.get("id") is not None:
            record = self.records.get(value["id"]) if TYPE_CHECKS["int"](value["id"]) else None
            return record if record and all(record.get(k) == v for k, v in (scope or {}).items()) else None
        for key in self.lookup_keys:
            if isinstance(value.get(key), str):
                wanted = value[key].casefold()
                return next((r for r in self.in_scope(scope) if str(r.get(key, "")).casefold() == wanted), None)
        return None

    def reference(self, record):
        """The reference object other records embed to point at ``record``."""
        return {key: record[key] for key in self.reference_fields if record.get(key) is not None}

    def item_path(self, record_id):
        record = self.records.get(record_id, {})
        path = self.path
        for param, field in SCOPE_PARAMS.items():
            path = path.replace("{%s}" % param, str(record.get(field)))
        return "%s/%d" % (path, record_id)

    def resolve_references(self, record, fields=None):
        """Replace each reference by the full reference of the record it designates, or 400."""
        for field in fields or self.references:
            if record.get(field) is None:
                continue
            target = self._target(field)
            scope_field = self.references[field][1] if isinstance(self.references[field], tuple) else None
            scope = {"parentId": record[scope_field]["id"]} if scope_field else None
            found = target.resolve(record[field], scope)
            if found is None:
                where = " on this %s" % scope_field if scope_field else ""
                self.reject(field, "The %s could not be found%s." % (field, where))
            record[field] = target.reference(found)

    def _target(self, field):
        spec = self.references[field]
        return self.emulator.collections[spec[0] if isinstance(spec, tuple) else spec]

    # ----- hooks ---------------------------------------------------------------------------
    def prepare(self, record, old, now):
        """Defaults, derived fields, references and cross-field rules; ``reject`` to refuse.
        ``old`` is the stored record on PUT/PATCH, ``now`` the write's timestamp."""
        self.resolve_references(record)

    def render(self, record, base):
        """The record as the API returns it: references refreshed, with their _info links."""
        if not self.references:
            return record
        out = dict(record)
        for field in self.references:
            ref = out.get(field)
            if isinstance(ref, dict) and ref.get("id") is not None:
                target = self._target(field)
                live = target.records.get(ref["id"])
                out[field] = dict(target.reference(live) if live else ref)
                out[field]["_info"] = {target.href_name: base + target.item_path(ref["id"])}
        return out


def _unique_key(record, fields):
    values = [record.get(field) for field in fields]
    if any(value is None for value in values):
        return None
    return tuple(value.casefold() if isinstance(value, str) else value for value in values)
