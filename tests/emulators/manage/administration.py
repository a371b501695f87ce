"""Security roles with their settings, API members, member tokens and callbacks (issue 3).
Declared on :mod:`collection` like :mod:`resources`.

Manage's REST API reads a role's permission levels but cannot write them (ASSUMPTIONS.md §6: spec, Go client);
``POST /__emulator__/securityRoles/{id}/settings`` stands for the administrator's clicks in the UI.
"""

import datetime as dt
import re
import secrets
from urllib.parse import urlsplit

from tests.emulators.common import Response
from tests.emulators.manage import seed
from tests.emulators.manage.collection import Collection, manage_error
from tests.emulators.manage.resources import MemberIdSpace, guid

LEVELS = ("None", "My", "All")
LEVEL_FIELDS = {"add": "addLevel", "edit": "editLevel", "delete": "deleteLevel", "inquire": "inquireLevel"}

# The module functions a role has a setting for: (module identifier, module name, functions), each function
# (name, myAllFlag, reportFlag, customFlag). It holds every function the SIGNL4 guide's role tables name
# (seed-signl4-connectwise.txt), in their modules, plus a few neighbours so that the list is not just those.
CATALOGUE = [
    ("Companies", "Companies", [("Company Maintenance", True, False, False), ("Contacts", True, False, False),
                                ("Configurations", True, False, False), ("Notes", True, False, False)]),
    ("ServiceDesk", "Service Desk", [("Close Service Tickets", True, False, False),
                                     ("Knowledge Base", False, False, False),
                                     ("Resource Scheduling", True, False, False),
                                     ("Service Ticket - Dependencies", True, False, False),
                                     ("Service Tickets", True, False, False),
                                     ("Service Tickets - Finance", True, False, False),
                                     ("Ticket Templates", False, False, False)]),
    ("System", "System", [("API Reports", False, True, False), ("Member Maintenance", False, False, False),
                          ("My Account", False, False, False), ("Security Roles", False, False, False),
                          ("Table Setup", False, False, True)]),
    ("TimeExpense", "Time & Expense", [("Expense Entry", True, False, False), ("Time Entry", True, False, False)]),
]

# Seeded roles (ids as seed.SECURITY_ROLES has them): Admin may do everything; a technician works tickets.
TECHNICIAN_LEVELS = {"Service Desk": ("All", "All", "My", "All"), "Companies": ("None", "None", "None", "All"),
                     "Time & Expense": ("My", "My", "My", "My"), "My Account": ("None", "All", "None", "All")}
SEED_ROLES = [("Admin", True, lambda module, function: ("All",) * 4),
              ("Technician", False, lambda module, function: TECHNICIAN_LEVELS.get(
                  function, TECHNICIAN_LEVELS.get(module, ("None",) * 4)))]

# Callback types and their levels (guide, "Levels and Types"); keys lower-case, as matching is case-insensitive.
CALLBACK_LEVELS = {
    "activity": ("Owner", "Status", "Type", "Company", "Activity"),
    "agreement": ("Owner", "Type", "Company", "Agreement"),
    "company": ("Owner", "Status", "Type", "Territory", "Company", "IntegratorTag"),
    "contact": ("Owner", "Type", "Territory", "Company", "Contact"),
    "configuration": ("Owner", "Type", "Status", "Configuration"),
    "invoice": ("Owner", "Status", "Company", "Invoice"),
    "expense": ("Owner", "ChargeToType", "Type", "Class", "Company", "Expense"),
    "member": ("Owner", "Location", "SecurityRole", "Member"),
    "opportunity": ("Owner", "StatusId", "Company", "Opportunity"),
    "productcatalog": ("Owner",),
    "project": ("Owner", "Status", "Board", "Project"),
    "purchaseorder": ("Owner", "Status", "Vendor", "Company", "PurchaseOrder"),
    "schedule": ("Owner", "Status", "Type", "Location", "Member", "Schedule"),
    "ticket": ("Owner", "Board", "Project", "Phase", "Status", "Ticket", "IntegratorTag"),
    "time": ("Owner", "Company", "Time"),
}
# The emulated collection an objectId must exist in, per (type, level); other levels take any positive id.
CALLBACK_OBJECTS = {("ticket", "board"): "boards", ("ticket", "status"): "statuses", ("ticket", "ticket"): "tickets",
                    ("member", "location"): "locations", ("schedule", "location"): "locations",
                    ("member", "securityrole"): "securityRoles", ("member", "member"): "members",
                    ("schedule", "member"): "members"}
CALLBACK_OWNER_ID = 250  # memberId of callbacks: the (unlisted) member owning the emulator's API keys
TOKEN_LIFETIME = dt.timedelta(hours=4)


class SecurityRoles(Collection):
    key = "securityRoles"
    path = "/system/securityroles"
    type_name = "SecurityRole"
    methods = "GET POST DELETE"  # no PUT/PATCH in the spec
    fields = "name:str roleType:str adminFlag:bool inactiveFlag:bool"
    required = ("name",)
    max_lengths = {"name": 30, "roleType": 30}
    unique = ("name",)

    def clear(self):
        """Seeded here: clear() runs on every reset, before seed.load() creates the members using these ids."""
        super().clear()
        for name, admin, _levels in SEED_ROLES:
            role = self.create({"name": name, "adminFlag": admin}, when=seed.timestamp(0))
            assert role["id"] == seed.SECURITY_ROLES[name]

    def prepare(self, record, old, now):
        record.setdefault("adminFlag", False)
        record.setdefault("inactiveFlag", False)

    def create_request(self, request):
        """A role created through the API starts with every module function at None."""
        response = super().create_request(request)
        self.emulator.collections["securityRoleSettings"].add_role(response.body["id"], lambda m, f: ("None",) * 4)
        return response

    def delete_request(self, request):
        role = self.find(request)
        users = [record["identifier"] for key in ("members", "apiMembers")
                 for record in self.emulator.collections[key].records.values()
                 if (record.get("securityRole") or {}).get("id") == role["id"]]
        if users:
            raise manage_error(409, "ObjectInUse", "Security role %s is assigned to %s and cannot be deleted."
                               % (role["name"], ", ".join(sorted(users))))
        return super().delete_request(request)


class SecurityRoleSettings(Collection):
    key = "securityRoleSettings"
    path = "/system/securityRoles/{parentId}/settings"
    parent = "securityRoles"
    type_name = "SecurityRoleSetting"
    methods = "GET"  # read-only over REST, in every spec version read
    fields = """addLevel:str editLevel:str deleteLevel:str inquireLevel:str moduleFunctionName:str
        moduleFunctionDescription:str myAllFlag:bool moduleFunctionIdentifier:str reportFlag:bool restrictFlag:bool
        customFlag:bool moduleDescription:str moduleIdentifier:str moduleName:str sortOrder:int"""
    enums = {field: LEVELS for field in LEVEL_FIELDS.values()}

    def clear(self):
        super().clear()
        for name, _admin, levels in SEED_ROLES:
            self.add_role(seed.SECURITY_ROLES[name], levels, seed.timestamp(0))

    def register(self):
        super().register()
        self.emulator.route("POST", r"/securityRoles/(?P<id>\d+)/settings", self.control_set_levels, control=True)

    def add_role(self, role_id, levels, when=None):
        """One setting per function of the catalogue; ``levels(module, function)`` = (add, edit, delete, inquire)."""
        sort = 0
        for module_id, module, functions in CATALOGUE:
            for function, my_all, report, custom in functions:
                sort += 1
                setting = dict(zip(LEVEL_FIELDS.values(), levels(module, function)))
                setting.update(moduleIdentifier=module_id, moduleName=module, moduleDescription=module,
                               moduleFunctionIdentifier=re.sub(r"\W", "", function.title()),
                               moduleFunctionName=function, moduleFunctionDescription=function,
                               myAllFlag=my_all, reportFlag=report, restrictFlag=False, customFlag=custom,
                               sortOrder=sort)
                self.create(setting, scope={"parentId": role_id}, when=when)

    def control_set_levels(self, request):
        """Test control: ``[{module, function, add, edit, delete, inquire}]`` as an admin would click them."""
        with self.emulator.lock:
            role_id = int(request.params["id"])
            self.emulator.collections["securityRoles"].get(role_id)
            changes = request.json
            if not isinstance(changes, list):
                raise manage_error(400, "InvalidObject", "The body must be a list of settings.")
            settings = self.in_scope({"parentId": role_id})
            for change in changes:
                old = self._setting(settings, change)
                record = dict(old)
                record.update((field, change[key]) for key, field in LEVEL_FIELDS.items() if key in change)
                self.store(record, old)
            return Response(200, [self.records[s["id"]] for s in settings])

    @staticmethod
    def _setting(settings, change):
        wanted = (str(change.get("module", "")).casefold(), str(change.get("function", "")).casefold())
        for setting in settings:
            modules = (setting["moduleName"].casefold(), setting["moduleIdentifier"].casefold())
            functions = (setting["moduleFunctionName"].casefold(), setting["moduleFunctionIdentifier"].casefold())
            if wanted[0] in modules and wanted[1] in functions:
                return setting
        message = "No function %r in module %r." % (change.get("function"), change.get("module"))
        raise manage_error(400, "InvalidObject", message)


class ApiMembers(MemberIdSpace, Collection):
    key = "apiMembers"
    path = "/system/apiMembers"
    type_name = "ApiMember"
    methods = "GET POST PUT PATCH"  # no DELETE: API members are deactivated, never deleted
    fields = """identifier:str name:str emailAddress:str inactiveFlag:bool inactiveDate:date timeZone:ref
        securityRole:ref structureLevel:ref securityLocation:ref defaultLocation:ref defaultDepartment:ref
        salesDefaultLocation:ref serviceDefaultBoard:ref notes:str excludedServiceBoardIds:list
        blockPriceFlag:bool blockCostFlag:bool"""
    # Beyond the spec's identifier: name is "Required On Updates", the rest the UI insists on (and the
    # SIGNL4 guide lists as required); asked for on create too, the conservative reading.
    required = ("identifier", "name", "securityRole", "defaultLocation", "defaultDepartment")
    max_lengths = {"identifier": 15, "name": 30, "emailAddress": 250}
    unique = ("identifier",)
    references = {"securityRole": "securityRoles", "securityLocation": "locations", "defaultLocation": "locations",
                  "salesDefaultLocation": "locations", "defaultDepartment": "departments",
                  "serviceDefaultBoard": "boards"}
    read_only = ("inactiveDate",)
    lookup_keys = ("identifier",)
    reference_fields = ("id", "identifier", "name")

    def clear(self):
        super().clear()
        for public_key in getattr(self, "tokens", ()):
            self.emulator.api_keys.pop(public_key, None)
            self.emulator.key_owners.pop(public_key, None)
        self.tokens = set()

    def register(self):
        super().register()
        self.emulator.api_route(r"/system/members/(?P<memberIdentifier>[^/]+)/tokens", POST=self.token_request)

    def prepare(self, record, old, now):
        super().prepare(record, old, now)
        wanted = record["identifier"].casefold()
        if any(member["identifier"].casefold() == wanted for member in self.emulator.collections["members"].records.values()):
            self.reject("identifier", "A member with identifier %s already exists." % record["identifier"], "ObjectExists")
        record.setdefault("inactiveFlag", False)
        if record["inactiveFlag"]:
            record["inactiveDate"] = (old or {}).get("inactiveDate") or now
        else:
            record.pop("inactiveDate", None)

    def token_request(self, request):
        """Impersonation keys for a member or API member (§7.4), usable at once for Basic auth."""
        identifier = request.params["memberIdentifier"]
        body = request.json or {}
        if body.get("memberIdentifier") not in (None, identifier):
            raise manage_error(400, "InvalidObject", "memberIdentifier does not match the path.")
        records = list(self.emulator.collections["members"].records.values()) + list(self.records.values())
        member = next((r for r in records if r["identifier"].casefold() == identifier.casefold()), None)
        if member is None:
            raise manage_error(404, "NotFound", "Member %s not found" % identifier)
        if member.get("inactiveFlag"):
            raise manage_error(400, "InvalidObject", "Member %s is inactive." % identifier)
        token = {"publicKey": secrets.token_hex(8), "privateKey": secrets.token_hex(8),
                 "expiration": (dt.datetime.now(dt.timezone.utc) + TOKEN_LIFETIME).strftime("%Y-%m-%dT%H:%M:%SZ")}
        self.emulator.api_keys[token["publicKey"]] = token["privateKey"]
        self.emulator.key_owners[token["publicKey"]] = member["identifier"]
        self.tokens.add(token["publicKey"])
        return Response(200, token)


class Callbacks(Collection):
    key = "callbacks"
    path = "/system/callbacks"
    type_name = "CallbackEntry"
    fields = """description:str url:str objectId:int type:str level:str memberId:int payloadVersion:str
        inactiveFlag:bool isSoapCallbackFlag:bool isSelfSuppressedFlag:bool connectWiseID:str"""
    required = ("url", "objectId", "type", "level")
    max_lengths = {"description": 100}
    read_only = ("memberId", "connectWiseID")

    def store(self, record, old, when=None):
        """Both observed checks are reported together, as in the captured 400 body (§3.3)."""
        errors = self.validate(record)
        if not errors:
            errors = [self.field_error(code, message, field) for code, message, field in self._problems(record)]
        if errors:
            raise self.invalid(errors)
        return super().store(record, old, when)

    @staticmethod
    def _problems(record):
        parts = urlsplit(record["url"])
        if parts.scheme not in ("http", "https") or not parts.hostname or re.search(r"\s", record["url"]):
            yield "InvalidField", "Invalid URL", "url"
        levels = CALLBACK_LEVELS.get(record["type"].lower(), ())
        if record["level"].lower() not in (level.lower() for level in levels):
            yield ("InvalidObject", "Unrecognized level for type, see documentation for supported levels for "
                                    "each type", "level")

    def prepare(self, record, old, now):
        kind = (record["type"].lower(), record["level"].lower())
        if kind[1] == "owner":
            record["objectId"] = 1  # the guide: objectId is 1 at the Owner level; observed 0 -> 1
        elif kind in CALLBACK_OBJECTS and record["objectId"] not in self.emulator.collections[CALLBACK_OBJECTS[kind]].records:
            self.reject("objectId", "The %s %s does not exist." % (record["level"], record["objectId"]))
        elif record["objectId"] < 1:
            self.reject("objectId", "objectId must name the %s." % record["level"])
        for flag in ("inactiveFlag", "isSoapCallbackFlag", "isSelfSuppressedFlag"):
            record.setdefault(flag, False)
        if old is not None and old.get("inactiveFlag") and not record["inactiveFlag"]:
            self.emulator.callback_deliveries.switched_on(record["id"])
        record["memberId"] = CALLBACK_OWNER_ID
        record["connectWiseID"] = guid("callback", record["id"])
        if any(other["id"] != record["id"] and _callback_key(other) == _callback_key(record)
               for other in self.records.values()):
            self.reject("objectId", "A matching callback entry already exists", "ObjectExists")


def _callback_key(record):
    return (record["url"], record["type"].lower(), record["level"].lower(), record["objectId"])


RESOURCES = (SecurityRoles, SecurityRoleSettings, ApiMembers, Callbacks)
