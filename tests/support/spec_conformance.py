"""Check recorded HTTP exchanges against the vendors' own API documents.

The emulators journal every request and response; a test hands the journal to
``manage_spec().assert_conforms(journal)`` (or ``signl4_spec()``) and every exchange on a
documented path is validated both ways: the request our client sent (query parameter names
and types, JSON body) and the response the emulator gave (status and body schema).

The documents are the trimmed vendor copies in ``tests/specs`` (source and licence in its README;
``SPECS_DIR`` overrides the folder).
"""

import json
import os
import re
from functools import lru_cache

import jsonschema
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from tests.emulators.harness import REPO_ROOT

SPECS_DIR = os.environ.get("SPECS_DIR", os.path.join(REPO_ROOT, "tests", "specs"))
MANAGE_PREFIX = re.compile(r"^/+v[0-9a-z_]+/+apis/3\.0", re.IGNORECASE)


class Report:
    def __init__(self):
        self.checked = []  # "METHOD /template" of validated exchanges
        self.uncovered = []  # "METHOD /path" the document does not describe
        self.problems = []

    def __repr__(self):
        return "Report(checked=%d, uncovered=%r, problems=%r)" % (len(self.checked), self.uncovered, self.problems)


class ApiDocument:
    """One OpenAPI 3.0 or Swagger 2.0 document and the operations it describes."""

    def __init__(self, document, strip_prefix, error_schema=None):
        self.doc = document
        self.error_schema = error_schema
        self.swagger2 = "swagger" in document
        self.strip_prefix = strip_prefix
        self.partial_doc = _without_required(document)  # for answers to a ``fields`` projection
        self.templates = []
        for template, item in document["paths"].items():
            pattern = "^" + re.escape(template.rstrip("/")) + "/?$"
            for name in re.findall(r"\{([^}]+)\}", template):
                pattern = pattern.replace(re.escape("{%s}" % name), self._path_param_pattern(item, name))
            self.templates.append((template.count("{"), template, re.compile(pattern, re.IGNORECASE), item))
        self.templates.sort(key=lambda t: t[0])  # literal segments win over parameters

    def _path_param_pattern(self, item, name):
        """Integer path parameters match digits only, so ``/tickets/count`` is not ``/tickets/{id}``."""
        for operation in [item] + [v for v in item.values() if isinstance(v, dict)]:
            for param in operation.get("parameters", []) if isinstance(operation, dict) else []:
                param = self._resolve(param)
                if param.get("name") == name and param.get("in") == "path":
                    kind = param.get("type") or (param.get("schema") or {}).get("type")
                    return "[0-9]+" if kind == "integer" else "[^/]+"
        return "[^/]+"

    # ----- lookup ---------------------------------------------------------------
    def operation(self, method, path):
        path = self.strip_prefix(path)
        for _params, template, regex, item in self.templates:
            if regex.match(path) and method.lower() in item:
                return template, item[method.lower()], item.get("parameters", [])
        return None, None, None

    def _resolve(self, obj):
        while isinstance(obj, dict) and "$ref" in obj and len(obj) == 1:
            node = self.doc
            for part in obj["$ref"].lstrip("#/").split("/"):
                node = node[part]
            obj = node
        return obj

    def _validator(self, schema, partial=False):
        doc = self.partial_doc if partial else self.doc
        if self.swagger2:
            wrapped = {"definitions": doc.get("definitions", {}), "allOf": [schema]}
            return jsonschema.Draft4Validator(wrapped, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
        wrapped = {"components": doc.get("components", {}), "allOf": [schema]}
        return OAS30Validator(wrapped, format_checker=oas30_format_checker)

    def _schema_errors(self, schema, instance, where, partial=False):
        errors = sorted(self._validator(schema, partial).iter_errors(instance), key=lambda e: list(e.absolute_path))
        return ["%s: %s at %s" % (where, e.message[:300], "/".join(str(p) for p in e.absolute_path) or "(root)")
                for e in errors[:5]]

    # ----- request side -------------------------------------------------------------
    def _parameters(self, operation, shared):
        params = [self._resolve(p) for p in list(shared) + list(operation.get("parameters", []))]
        return dict(((p["in"], p["name"].lower()), p) for p in params)

    def request_problems(self, entry, operation, shared):
        problems = []
        declared = self._parameters(operation, shared)
        for name, values in (entry.get("query") or {}).items():
            param = declared.get(("query", name.lower()))
            if param is None:
                problems.append("request: undocumented query parameter %r" % name)
                continue
            schema = param.get("schema", param) if not self.swagger2 else {"type": param.get("type", "string")}
            if schema.get("type") == "integer" and not all(re.match(r"^-?\d+$", v) for v in values):
                problems.append("request: query parameter %s=%r is not an integer" % (name, values))
        for (location, name), param in declared.items():
            if param.get("required") and location == "query" and name not in {k.lower() for k in entry.get("query") or {}}:
                problems.append("request: required query parameter %r missing" % name)
        body = entry.get("request_json")
        body_schema = self._request_body_schema(operation, declared)
        if body is not None:
            if body_schema is None:
                problems.append("request: a body was sent where the document declares none")
            else:
                problems += self._schema_errors(body_schema, body, "request body")
        return problems

    def _request_body_schema(self, operation, declared):
        if self.swagger2:
            for (location, _name), param in declared.items():
                if location == "body":
                    return param.get("schema")
            return None
        content = (self._resolve(operation.get("requestBody") or {}).get("content") or {})
        for media in content.values():
            return media.get("schema")
        return None

    # ----- response side ------------------------------------------------------------
    def response_problems(self, entry, operation):
        status = str(entry["status"])
        responses = operation.get("responses", {})
        spec_response = responses.get(status) or responses.get("default")
        if entry["status"] >= 400 and spec_response is None:
            # 429 bodies have their own shape (Guide, Rate limits: ASSUMPTIONS.md §3.5); other errors use the error schema.
            if self.error_schema is None or entry["status"] == 429:
                return []
            return self._schema_errors(self.error_schema, entry.get("response_json"), "error body")
        if spec_response is None:
            return ["response: status %s not documented (documented: %s)" % (status, ", ".join(sorted(responses)))]
        spec_response = self._resolve(spec_response)
        schema = spec_response.get("schema") if self.swagger2 else next(
            iter((spec_response.get("content") or {}).values()), {}).get("schema")
        body = entry.get("response_json")
        if schema is None:
            return [] if body in (None, "", {}) else ["response: body returned where none is documented"]
        partial = any(k.lower() == "fields" for k in entry.get("query") or {})
        return self._schema_errors(schema, body, "response body", partial)

    # ----- journal ----------------------------------------------------------------------
    def check(self, journal, path_filter=None):
        report = Report()
        for entry in journal:
            if path_filter and not re.search(path_filter, entry["path"], re.IGNORECASE):
                continue
            template, operation, shared = self.operation(entry["method"], entry["path"])
            if operation is None and self._is_count(entry):
                template, operation, shared = self._count_operation(entry)
            if operation is None:
                report.uncovered.append("%s %s" % (entry["method"], entry["path"]))
                continue
            where = "%s %s -> %s" % (entry["method"], entry["raw_path"], entry["status"])
            problems = self.request_problems(entry, operation, shared) + self.response_problems(entry, operation)
            report.problems += ["%s: %s" % (where, p) for p in problems]
            report.checked.append("%s %s" % (entry["method"], template))
        return report

    def _is_count(self, entry):
        return (entry["method"] == "GET" and entry["path"].lower().endswith("/count")
                and "Count" in self.doc.get("components", {}).get("schemas", {}))

    def _count_operation(self, entry):
        """``{collection}/count`` is left out of the trimmed document; it takes the collection's
        filters and answers the ``Count`` schema (ASSUMPTIONS.md §2.5)."""
        collection = entry["path"][:-len("/count")]
        template, operation, shared = self.operation("GET", collection)
        if operation is None:
            return None, None, None
        counted = dict(operation, responses={"200": {"content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Count"}}}}})
        return template + "/count", counted, shared

    def assert_conforms(self, journal, path_filter=None, min_checked=1):
        """Fail on any non-conforming exchange; return the report (e.g. to assert coverage)."""
        report = self.check(journal, path_filter)
        assert not report.problems, "\n".join(report.problems[:40])
        assert len(report.checked) >= min_checked, "only %d exchanges validated: %r" % (len(report.checked), report)
        return report


def _without_required(node):
    if isinstance(node, dict):
        return dict((k, _without_required(v)) for k, v in node.items() if k != "required" or not isinstance(v, list))
    if isinstance(node, list):
        return [_without_required(v) for v in node]
    return node


def _load(name):
    with open(os.path.join(SPECS_DIR, name)) as handle:
        return json.load(handle)


@lru_cache(maxsize=None)
def manage_spec():
    document = _load("manage-2025.8.subset.json")
    # The document's known errors: PatchOperation.value and CustomFieldValue.value are typed
    # ``object``, yet the vendor's guide patches strings and arrays and real custom field values
    # are strings, numbers and booleans (Guide, PATCH and custom fields; ASSUMPTIONS.md §3.2, §4.3).
    for schema in ("PatchOperation", "CustomFieldValue"):
        document["components"]["schemas"][schema]["properties"]["value"] = {}
    return ApiDocument(document, lambda path: MANAGE_PREFIX.sub("", path),
                       error_schema={"$ref": "#/components/schemas/ErrorResponseMessage"})


@lru_cache(maxsize=None)
def signl4_spec():
    document = _load("signl4-v2.subset.json")
    base = document.get("basePath", "").rstrip("/")
    return ApiDocument(document, lambda path: path[len(base):] if base and path.startswith(base + "/") else path,
                       error_schema={"$ref": "#/definitions/ErrorResponseContent"})
