"""ConnectWise Manage (PSA) REST API emulator for the integration tests.

Serves ``/{codebase}apis/3.0/...`` for any ``vYYYY_N/`` or ``v4_6_release/`` codebase and
``/login/companyinfo/{company}``, with Basic ``company+public:private`` auth and a required
``clientId`` header. The resources live in :mod:`.resources` (declared on :mod:`.collection`),
the conditions language in :mod:`.conditions`, the seeded service desk in :mod:`.seed`.
Behaviour the vendor sources leave open is listed in ``tests/emulators/ASSUMPTIONS.md``.

Test controls, besides the common ones (reset, journal, faults, latency, clock):

    GET  /__emulator__/callbacks           delivered callbacks: settings, pending, counts, deliveries
    POST /__emulator__/callbacks           {"duplicates": 2, "delay": 5, "jitter": 3, "seed": 7, "drop": 1, "retries": 2,
                                            "timeout": 5} (see tests/emulators/deliveries.py)
    POST /__emulator__/callbacks/drain     {"timeout": 5} -> 200 once nothing due is pending, 504 otherwise
    POST /__emulator__/callbacks/key       {"auth": true}: the key_url wants the API's Basic auth and clientId
                                           (default false: it answers without credentials; ASSUMPTIONS.md)
    POST /__emulator__/memberScope         {"identifier": "apiautomation", "location": 1, "department": 1,
                                            "board": 2}: the tickets that member may read
    POST /__emulator__/securityRoles/{id}/settings   role levels, as an administrator sets them in the UI
"""

import base64
import binascii
import datetime as dt
import re

from tests.emulators.clock import Clock
from tests.emulators.common import Emulator, HttpError, Response
from tests.emulators.manage.callback_delivery import KEY_PATH, CallbackDeliveries
from tests.emulators.manage import seed
from tests.emulators.manage.collection import ALL_METHODS, API_ROOT, manage_error, method_not_allowed, not_found_error
from tests.emulators.manage import administration, resources, ticket_notes, workflows
from tests.emulators.manage.resources import TICKET_POD_ID  # noqa: F401 - re-exported

RESOURCES = resources.RESOURCES + ticket_notes.RESOURCES + workflows.RESOURCES + administration.RESOURCES

API_VERSION = "2025.8"
OLDEST_VERSION = (2019, 1)  # the scheme since 2019.1 is the release number (Guide, Versioning)
MEDIA_TYPE = "application/vnd.connectwise.com+json"
CONTENT_TYPE = "%s; version=%s" % (MEDIA_TYPE, API_VERSION)
ACCEPT_VERSION = re.compile(r"version\s*=\s*([^;,\s]*)", re.IGNORECASE)
RELEASE = re.compile(r"^(\d{4})\.(\d{1,2})$")
COMPANY_NAME = "Contoso MSP"
API_MEMBER = seed.CALLER["identifier"]  # the API member that owns the seeded keys; stamps _info.updatedBy
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
DEFAULTS = {
    "company_id": "signl4demo",
    "public_key": "demopublic",
    "private_key": "demoprivate",
    "client_id": "00000000-0000-4000-8000-000000000001",
    "codebase": "v2025_1/",
}
API_PATH = re.compile(r"^/+(?:v\d+_\d+|v4_6_release)/+apis/3\.0(?=/|$)(.*)$", re.IGNORECASE)
COMPANY_INFO_PATH = r"/login/companyinfo/(?P<company>[^/]+)"
CALLBACK_KEY_PATH = re.compile(r"^/+(?:v\d+_\d+|v4_6_release)/+system/callbackkey/index\.rails$", re.IGNORECASE)


class ManageEmulator(Emulator):
    """ConnectWise Manage REST API emulator (API 2025.8 subset) on 127.0.0.1."""

    name = "manage"
    content_type = CONTENT_TYPE
    api_member = API_MEMBER

    def __init__(self, company_id=DEFAULTS["company_id"], public_key=DEFAULTS["public_key"],
                 private_key=DEFAULTS["private_key"], client_id=DEFAULTS["client_id"],
                 codebase=DEFAULTS["codebase"], extra_tickets=0, new_tickets=None):
        self.company_id = company_id
        self.api_keys = {public_key: private_key}
        self.key_owners = {public_key: API_MEMBER}  # public key -> identifier of the member it acts as
        self.client_id = client_id
        self.codebase = codebase
        self.extra_tickets = extra_tickets
        self.new_tickets = new_tickets
        self.next_member_id = 1  # members and API members share one id space
        self.collections = {resource.key: resource(self) for resource in RESOURCES}
        self.clock = Clock()
        self.callback_deliveries = CallbackDeliveries(self)
        super().__init__()  # sets up routing, then reset() seeds the collections
        for collection in self.collections.values():
            collection.register()
        self.api_route("/system/info", GET=self.system_info)
        self.route("GET", COMPANY_INFO_PATH, self.company_info)
        self.route("GET", re.escape(KEY_PATH), self.callback_key)
        self.route("GET", "/callbacks", lambda r: Response(200, self.callback_deliveries.snapshot()), control=True)
        self.route("POST", "/callbacks", self.control_callbacks, control=True)
        self.route("POST", "/callbacks/drain", self.control_drain, control=True)
        self.route("POST", "/callbacks/key", self.control_key, control=True)
        self.route("POST", "/memberScope", self.control_member_scope, control=True)

    @classmethod
    def from_args(cls, args):
        """ConnectWise Manage REST API emulator (API 2025.8 subset) on 127.0.0.1."""
        return cls(args.company_id, args.public_key, args.private_key, args.client_id, args.codebase,
                   args.tickets, args.new_tickets)

    # ----- Emulator hooks -------------------------------------------------------------------
    def reset_state(self):
        self.callback_deliveries.reset()
        self.member_scopes = {}  # member identifier (lower case) -> {"location"|"department"|"board": id}
        for collection in self.collections.values():
            collection.clear()
        seed.load(self, self.extra_tickets, self.new_tickets)

    def clock_listeners(self):
        return (self.callback_deliveries.condition(),)

    def strip_prefix(self, path):
        if re.fullmatch(COMPANY_INFO_PATH, path, re.IGNORECASE):
            return path
        if CALLBACK_KEY_PATH.match(path):
            return KEY_PATH
        match = API_PATH.match(path)
        if match is None:
            return None
        return API_ROOT + re.sub("/+", "/", match.group(1)).rstrip("/")

    def authenticate(self, request):
        if re.fullmatch(COMPANY_INFO_PATH, request.path, re.IGNORECASE):
            return  # codebase discovery needs no credentials
        if CALLBACK_KEY_PATH.match(request.path) and not self.callback_deliveries.key_auth:
            return  # the callback key URL is a capability URL (its id): see ASSUMPTIONS.md
        # the body real clients report (PS module issue 18), whatever was wrong
        public_key = self._valid_credentials(request.header("authorization"))
        if public_key is None:
            raise manage_error(401, "ConnectWiseApi", "UserNotAuthenticated")
        request.member = self.key_owners.get(public_key, API_MEMBER)
        if (request.header("clientid") or "").lower() != self.client_id.lower():
            raise manage_error(401, "ConnectWiseApi", "UserNotAuthenticated")
        request.api_version = self.requested_version(request)

    def requested_version(self, request):
        """The model version ``Accept`` pins (none: the current one). A version the server does not
        serve is refused the way ASP.NET API versioning refuses it on real Manage
        (covenanttechnologysolutions/connectwise-rest issue 35)."""
        accept = request.header("accept") or ""
        if MEDIA_TYPE not in accept.lower():
            return API_VERSION
        match = ACCEPT_VERSION.search(accept)
        if match is None:
            return API_VERSION
        wanted = match.group(1)
        release = RELEASE.match(wanted)
        current = tuple(int(n) for n in API_VERSION.split("."))
        if release is None or not OLDEST_VERSION <= (int(release.group(1)), int(release.group(2))) <= current:
            raise manage_error(400, "ConnectWiseApi", "The HTTP resource that matches the request URI '%s' does not "
                               "support the API version '%s'." % (request.path, wanted))
        return wanted

    def _valid_credentials(self, header):
        scheme, encoded = (header or "").partition(" ")[::2]
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, private_key = decoded.partition(":")[::2]
        company, public_key = user.partition("+")[::2]
        valid = (scheme.lower() == "basic" and company.lower() == self.company_id.lower()
                 and public_key in self.api_keys and self.api_keys[public_key] == private_key)
        return public_key if valid else None

    # ----- what the calling member may read -----------------------------------------------------
    def ticket_scope(self, request):
        """The ticket fields a read is limited to for the member the keys belong to: the SIGNL4
        guide says the API member's location, business unit and default board decide which tickets
        it retrieves. Off until a test sets it (``POST /__emulator__/memberScope``)."""
        return self.member_scopes.get((getattr(request, "member", None) or "").lower(), {})

    def control_member_scope(self, request):
        body = request.json
        if not isinstance(body, dict) or not isinstance(body.get("identifier"), str):
            raise HttpError(400, {"message": 'expected {"identifier": "...", "location": id, "department": id, '
                                             '"board": id} (null or absent = not limited)'})
        kinds = {"location": "locations", "department": "departments", "board": "boards"}
        unknown = sorted(set(body) - set(kinds) - {"identifier"})
        if unknown:
            raise HttpError(400, {"message": "unknown scope field(s): %s" % ", ".join(unknown)})
        scope = {}
        for field, collection in kinds.items():
            value = body.get(field)
            if value is not None and (isinstance(value, bool) or value not in self.collections[collection].records):
                raise HttpError(400, {"message": "%s %r does not exist" % (field, value)})
            if value is not None:
                scope[field] = value
        with self.lock:
            self.member_scopes[body["identifier"].lower()] = scope
        return Response(200, {"identifier": body["identifier"], **scope})

    def not_found(self, request):
        return not_found_error()

    def fault_body(self, status):
        if status == 429:  # the guide's example: a different shape from the other errors
            return {"error": "ConnectWiseAPI", "message": "Too many requests. Please try again in 30 seconds."}
        return {"code": "ConnectWiseApi", "message": "An error has occurred (injected %d)." % status}

    def error_body(self, status, message):
        return {"code": "ConnectWiseApi", "message": message}

    def finish(self, request, response):
        response.headers.setdefault("api-current-version", API_VERSION)
        version = getattr(request, "api_version", None)
        if version and "Content-Type" not in response.headers:
            response.headers["Content-Type"] = "%s; version=%s" % (MEDIA_TYPE, version)

    # ----- services for the collections ---------------------------------------------------
    def api_route(self, pattern, **handlers):
        """Route a path regex under ``/{codebase}apis/3.0``: ``api_route("/system/info", GET=handler)``.
        The other methods answer 405."""
        for method in ALL_METHODS:
            self.route(method, re.escape(API_ROOT) + pattern, handlers.get(method, method_not_allowed))

    def api_base(self, request):
        """Absolute API root for hrefs, on the host the client called."""
        return "http://%s/%sapis/3.0" % (request.header("host", "127.0.0.1"), self.codebase)

    @staticmethod
    def now():
        return dt.datetime.now(dt.timezone.utc).strftime(TIME_FORMAT)

    def stamp(self, old, now):
        """A record's _info after a write at ``now``."""
        entered = old["_info"] if old else {"dateEntered": now, "enteredBy": self.api_member}
        return {"lastUpdated": now, "updatedBy": self.api_member,
                "dateEntered": entered["dateEntered"], "enteredBy": entered["enteredBy"]}

    # ----- routes that are not collections --------------------------------------------------
    def system_info(self, request):
        return Response(200, {
            "version": "v" + API_VERSION, "isCloud": self.is_cloud, "serverTimeZone": "Eastern Standard Time",
            "licenseBits": [{"name": "CustomFields", "activeFlag": True}, {"name": "Workflows", "activeFlag": True}],
            "cloudRegion": "NA" if self.is_cloud else "", "maxWorkFlowRecordsAllowed": 1000,
        })

    def company_info(self, request):
        if request.params["company"].lower() != self.company_id.lower():
            raise manage_error(404, "NotFound", "Company %s not found" % request.params["company"])
        return Response(200, {
            "CompanyName": COMPANY_NAME, "Codebase": self.codebase, "VersionCode": "v" + API_VERSION,
            "VersionNumber": "v4.6.%s" % API_VERSION.replace(".", ""), "CompanyID": self.company_id,
            "IsCloud": str(self.is_cloud),
        }, {"Content-Type": "application/json; charset=utf-8"})

    def callback_key(self, request):
        """``Metadata.key_url`` of a delivered callback: the key its signature is made with."""
        answer = self.callback_deliveries.key_answer(request)
        if answer is None:
            raise not_found_error()
        return Response(200, answer, {"Content-Type": "application/json; charset=utf-8"})

    def ticket_saved(self, request, ticket, action=None):
        """A ticket was created, changed or deleted through the API (``action``: what the callbacks say, by default
        the request's: a note written is the ticket ``updated``): deliver the callbacks."""
        body = request.json if isinstance(request.json, dict) else {}
        self.callback_deliveries.ticket_saved(request, ticket, list(self.collections["callbacks"].records.values()),
                                              suppressed=body.get("skipCallback") is True, action=action)

    def callback_outcome(self, callback_id, delivered):
        """The last attempt of a delivery to a callback ended: a callback whose deliveries all failed for
        ``DISABLE_AFTER`` seconds is switched off (``inactiveFlag``), as Manage does after three days."""
        with self.lock:
            callbacks = self.collections["callbacks"]
            if not self.callback_deliveries.failing(callback_id, delivered) or callback_id not in callbacks.records:
                return
            old = callbacks.records[callback_id]
            if not old.get("inactiveFlag"):
                callbacks.records[callback_id] = dict(old, inactiveFlag=True, _info=self.stamp(old, self.now()))

    def control_callbacks(self, request):
        try:
            return Response(200, self.callback_deliveries.configure(**(request.json or {})))
        except (TypeError, ValueError) as exc:
            raise HttpError(400, {"message": str(exc)}) from None

    def control_key(self, request):
        body = request.json
        if not isinstance(body, dict) or not isinstance(body.get("auth"), bool) or set(body) != {"auth"}:
            raise HttpError(400, {"message": 'expected {"auth": true|false}'})
        with self.lock:
            self.callback_deliveries.key_auth = body["auth"]
        return Response(200, {"auth": body["auth"]})

    def control_drain(self, request):
        done = self.callback_deliveries.drain(float((request.json or {}).get("timeout", 10)))
        return Response(200 if done else 504, self.callback_deliveries.snapshot())

    @property
    def is_cloud(self):
        return self.codebase.lower() != "v4_6_release/"


def add_arguments(parser):
    """The ``python -m tests.emulators.manage`` flags (``--port`` comes from ``run_main``)."""
    options = [("--company-id", "company_id", "Manage company id (login and companyinfo)"),
               ("--public-key", "public_key", "API public key"),
               ("--private-key", "private_key", "API private key"),
               ("--client-id", "client_id", "clientId header value the requests must carry"),
               ("--codebase", "codebase", "codebase returned by companyinfo and used in hrefs")]
    for flag, name, text in options:
        parser.add_argument(flag, dest=name, default=DEFAULTS[name], help=text + " (default: %(default)s)")
    parser.add_argument("--tickets", type=int, default=0,
                        help="extra generated tickets to seed, for paging tests (default: %(default)s)")
    parser.add_argument("--new-tickets", type=int, default=None,
                        help="of the generated tickets, the last N are 'New (not responded)' and no others "
                             "(default: every generated status in turn)")
