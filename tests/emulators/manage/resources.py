"""The Manage resources the emulator serves, declared on top of :mod:`collection`.

Field lists follow the spec subset (manage-2025.8.subset.json) where it has the schema;
``/company/companies`` is not in the subset and carries only the fields this project needs.
"""

import uuid

from tests.emulators.common import HttpError
from tests.emulators.manage.collection import TYPE_CHECKS, Collection

TICKET_POD_ID = 10
PODS = {
    TICKET_POD_ID: {"podDescription": "Service Ticket", "screenId": "sv300", "screenDescription": "Service Ticket"},
    4: {"podDescription": "Contact Overview", "screenId": "ct300", "screenDescription": "Contact"},
    5: {"podDescription": "Contact Details", "screenId": "ct300", "screenDescription": "Contact"},
}
FIELD_TYPES = ("TextArea", "Button", "Currency", "Date", "Hyperlink", "IPAddress", "Checkbox", "Number",
               "Percent", "PhoneNumber", "Text", "Password")
ENTRY_TYPES = ("Date", "EntryField", "List", "Option")
NUMERIC_FIELD_TYPES = ("Number", "Percent", "Currency")
BILLING = ("Billable", "DoNotBill", "NoCharge", "NoDefault")
LOW_MEDIUM_HIGH = ("Low", "Medium", "High")
DEFAULT_BOARD = "Service Desk"
CORPORATE_LEVEL = {"id": 1, "name": "Location"}
GUID_NAMESPACE = uuid.UUID("6f1c2d52-5b1e-4c1f-9a57-1d6c0c5e0a10")


def guid(kind, record_id):
    """A stable connectWiseID, so seeded data is the same on every start."""
    return str(uuid.uuid5(GUID_NAMESPACE, "%s/%d" % (kind, record_id)))


class Locations(Collection):
    key = "locations"
    path = "/system/locations"
    type_name = "Location"
    fields = "name:str ownerLevelId:int structureLevel:ref locationFlag:bool clientFlag:bool"
    required = ("name",)
    max_lengths = {"name": 50}
    unique = ("name",)

    def prepare(self, record, old, now):
        # the spec requires structureLevel; the corporate structure is not modelled, so every
        # location hangs on one invented level
        record.setdefault("structureLevel", dict(CORPORATE_LEVEL))
        record.setdefault("locationFlag", True)
        record.setdefault("clientFlag", False)


class Departments(Collection):
    key = "departments"
    path = "/system/departments"
    type_name = "Department"
    fields = "identifier:str name:str"
    required = ("identifier", "name")
    max_lengths = {"identifier": 15, "name": 50}
    unique = ("identifier",)
    lookup_keys = ("identifier", "name")
    reference_fields = ("id", "identifier", "name")


class Boards(Collection):
    key = "boards"
    path = "/service/boards"
    type_name = "Board"
    fields = """name:str location:ref department:ref inactiveFlag:bool projectFlag:bool
        dispatchMember:ref serviceManagerMember:ref dutyManagerMember:ref oncallMember:ref
        billTime:str billExpense:str billProduct:str autoAssignNewTicketsFlag:bool connectWiseId:str"""
    required = ("name", "location", "department")
    max_lengths = {"name": 50}
    enums = {"billTime": BILLING, "billExpense": BILLING, "billProduct": BILLING}
    unique = ("name",)
    references = {"location": "locations", "department": "departments", "dispatchMember": "members",
                  "serviceManagerMember": "members", "dutyManagerMember": "members", "oncallMember": "members"}
    read_only = ("connectWiseId",)

    def prepare(self, record, old, now):
        super().prepare(record, old, now)
        record.setdefault("inactiveFlag", False)
        record.setdefault("projectFlag", False)
        record["connectWiseId"] = guid("board", record["id"])


class BoardStatuses(Collection):
    key = "statuses"
    path = "/service/boards/{parentId}/statuses"
    parent = "boards"
    type_name = "BoardStatus"
    fields = """name:str board:ref sortOrder:int displayOnBoard:bool inactive:bool closedStatus:bool
        timeEntryNotAllowed:bool roundRobinCatchall:bool defaultFlag:bool escalationStatus:str
        customerPortalDescription:str customerPortalFlag:bool customStatusIndicatorName:str
        saveTimeAsNote:bool connectWiseId:str"""
    required = ("name",)
    max_lengths = {"name": 50, "customerPortalDescription": 500, "customStatusIndicatorName": 30}
    enums = {"escalationStatus": ("NotResponded", "Responded", "ResolutionPlan", "Resolved", "NoEscalation")}
    unique = ("name",)
    references = {"board": "boards"}
    read_only = ("board", "connectWiseId")
    href_name = "status_href"

    def prepare(self, record, old, now):
        record["board"] = {"id": record["parentId"]}
        super().prepare(record, old, now)
        record.setdefault("displayOnBoard", True)
        for flag in ("inactive", "closedStatus", "defaultFlag"):
            record.setdefault(flag, False)
        record.setdefault("sortOrder", 0)
        record.setdefault("escalationStatus", "NoEscalation")
        record["connectWiseId"] = guid("status", record["id"])

    def reference(self, record):
        return {"id": record["id"], "name": record["name"], "sort": record["sortOrder"]}


class Priorities(Collection):
    key = "priorities"
    path = "/service/priorities"
    type_name = "Priority"
    fields = "name:str color:str sortOrder:int defaultFlag:bool imageLink:str urgencySortOrder:str level:str"
    required = ("name", "color")
    max_lengths = {"name": 50}
    enums = {"color": ("Black", "Blue", "Cyan", "Gray", "Green", "Lime", "Orange", "Pink", "Purple", "Red",
                       "White", "Yellow", "Custom"),
             "level": ("Critical", "High", "Medium", "Low")}
    unique = ("name",)

    def prepare(self, record, old, now):
        record.setdefault("defaultFlag", False)

    def reference(self, record):
        ref = {"id": record["id"], "name": record["name"], "sort": record.get("sortOrder")}
        if record.get("level"):
            ref["level"] = record["level"]
        return ref


class Companies(Collection):
    key = "companies"
    path = "/company/companies"
    type_name = "Company"
    fields = """identifier:str name:str addressLine1:str addressLine2:str city:str state:str zip:str
        phoneNumber:str website:str deletedFlag:bool"""
    required = ("identifier", "name")
    max_lengths = {"identifier": 25, "name": 50}
    unique = ("identifier",)
    lookup_keys = ("identifier", "name")
    reference_fields = ("id", "identifier", "name")

    def prepare(self, record, old, now):
        record.setdefault("deletedFlag", False)


# Fields the real API returns on every member although this emulator does not model them
# (Member schema; the real API always sends them, e.g. the invoicing display options).
MEMBER_DEFAULTS = {
    "disableOnlineFlag": False, "enableMobileGpsFlag": False, "calendarSyncIntegrationFlag": False,
    "timebasedOneTimePasswordActivated": False,
    "enableLdapAuthenticationFlag": False, "phoneIntegrationType": "NONE",
    "useBrowserLanguageFlag": False, "partnerPortalFlag": False, "toastNotificationFlag": False,
    "restrictLocationFlag": False, "restrictDepartmentFlag": False, "billableForecast": 0.0,
    "hourlyCost": 0.0, "includeInUtilizationReportingFlag": False, "requireExpenseEntryFlag": False,
    "requireTimeSheetEntryFlag": False, "requireStartAndEndTimeOnTimeEntryFlag": False,
    "allowInCellEntryOnTimeSheet": False, "enterTimeAgainstCompanyFlag": False,
    "allowExpensesEnteredAgainstCompaniesFlag": False, "timeReminderEmailFlag": False, "daysTolerance": 0,
    "minimumHours": 0.0, "restrictServiceDefaultLocationFlag": False, "restrictServiceDefaultDepartmentFlag": False,
    "excludedServiceBoardIds": [], "restrictProjectDefaultLocationFlag": False,
    "restrictProjectDefaultDepartmentFlag": False, "excludedProjectBoardIds": [], "scheduleCapacity": 8.0,
    "restrictScheduleFlag": False, "hideMemberInDispatchPortalFlag": False, "restrictDefaultSalesTerritoryFlag": False,
    "restrictDefaultWarehouseFlag": False, "restrictDefaultWarehouseBinFlag": False,
    "companyActivityTabFormat": "SummaryList", "invoiceTimeTabFormat": "SummaryList",
    "invoiceScreenDefaultTabFormat": "ShowInvoicingTab", "invoicingDisplayOptions": "RemainOnInvoicingScreen",
    "agreementInvoicingDisplayOptions": "RemainOnInvoicingScreen", "autoStartStopwatch": False,
    "autoPopupQuickNotesWithStopwatch": False, "globalSearchDefaultTicketFilter": "OpenRecords",
    "globalSearchDefaultSort": "LastUpdatedDesc", "phoneSource": "Office",
}
API_MEMBER_FIELDS = ("identifier", "inactiveFlag", "inactiveDate", "timeZone", "securityRole", "structureLevel",
                     "securityLocation", "defaultLocation", "defaultDepartment", "salesDefaultLocation",
                     "serviceDefaultBoard", "notes", "excludedServiceBoardIds", "_info")


class MemberIdSpace:
    """Members and API members draw their ids from one counter on the emulator, as on real Manage."""

    @property
    def next_id(self):
        return self.emulator.next_member_id

    @next_id.setter
    def next_id(self, value):
        self.emulator.next_member_id = value


class Members(MemberIdSpace, Collection):
    key = "members"
    path = "/system/members"
    type_name = "Member"
    methods = "GET POST PUT PATCH"
    fields = """identifier:str password:str licenseClass:str firstName:str middleInitial:str lastName:str
        title:str notes:str hireDate:date inactiveFlag:bool inactiveDate:date officeEmail:str mobileEmail:str
        homeEmail:str primaryEmail:str defaultEmail:str officePhone:str mobilePhone:str homePhone:str
        defaultPhone:str securityRole:ref adminFlag:bool defaultLocation:ref defaultDepartment:ref
        serviceDefaultLocation:ref serviceDefaultDepartment:ref serviceDefaultBoard:ref timeZone:ref
        enableMobileFlag:bool dailyCapacity:num"""
    required = ("identifier", "licenseClass", "firstName", "lastName", "hireDate", "defaultEmail",
                "defaultPhone", "securityRole")
    max_lengths = {"identifier": 15, "password": 60, "firstName": 30, "lastName": 30, "middleInitial": 1,
                   "officeEmail": 250, "mobileEmail": 250, "homeEmail": 250, "primaryEmail": 250,
                   "officePhone": 15, "mobilePhone": 15, "homePhone": 15}
    enums = {"licenseClass": ("A", "C", "F", "X"), "defaultEmail": ("Office", "Mobile", "Home"),
             "defaultPhone": ("Office", "Mobile", "Home")}
    unique = ("identifier",)
    references = {"defaultLocation": "locations", "defaultDepartment": "departments",
                  "serviceDefaultLocation": "locations", "serviceDefaultDepartment": "departments",
                  "serviceDefaultBoard": "boards"}
    write_only = ("password",)
    lookup_keys = ("identifier",)

    def prepare(self, record, old, now):
        super().prepare(record, old, now)
        record.setdefault("inactiveFlag", False)
        record.setdefault("adminFlag", False)

    def reference(self, record):
        name = " ".join(part for part in (record["firstName"], record["lastName"]) if part)
        return {"id": record["id"], "identifier": record["identifier"], "name": name}

    # API members share the members' id space (MemberIdSpace) and are listed with them (licenseClass
    # "A"), as on real Manage (django-connectwise filters them out of /system/members by licenseClass).

    def in_scope(self, scope):
        return super().in_scope(scope) + [self.api_member_view(record) for record
                                          in self.emulator.collections["apiMembers"].records.values()]

    def get(self, record_id, scope=None):
        api_member = self.emulator.collections["apiMembers"].records.get(record_id)
        return self.api_member_view(api_member) if api_member else super().get(record_id, scope)

    def store(self, record, old, when=None):
        if old is not None and old.get("licenseClass") == "A":
            self.reject("licenseClass", "An API member is changed through /system/apiMembers.")
        return super().store(record, old, when)

    @staticmethod
    def api_member_view(record):
        """An API member as /system/members shows it. Real API members may lack lastName and hireDate;
        the spec requires both, so they are filled (lastName empty, hireDate the creation date)."""
        view = {field: record[field] for field in API_MEMBER_FIELDS if field in record}
        view.update(id=record["id"], licenseClass="A", firstName=record["name"], lastName="",
                    hireDate=record["_info"]["dateEntered"], officeEmail=record.get("emailAddress"),
                    defaultEmail="Office", defaultPhone="Office", adminFlag=False)
        return {key: value for key, value in view.items() if value is not None}

    def render(self, record, base):
        out = dict(MEMBER_DEFAULTS, **super().render(record, base))
        out["primaryEmail"] = out.get("primaryEmail") or out.get("officeEmail")
        return out


class UserDefinedFields(Collection):
    key = "userDefinedFields"
    path = "/system/userDefinedFields"
    type_name = "UserDefinedField"
    fields = """podId:int podDescription:str caption:str sequenceNumber:int screenId:str screenDescription:str
        helpText:str fieldTypeIdentifier:str numberDecimals:int entryTypeIdentifier:str requiredFlag:bool
        displayOnScreenFlag:bool readOnlyFlag:bool listViewFlag:bool buttonUrl:str options:list
        businessUnitIds:list locationIds:list addAllBusinessUnits:bool removeAllBusinessUnits:bool
        addAllLocations:bool removeAllLocations:bool connectWiseID:str displayScreenInASIO:bool dateCreated:date"""
    required = ("podId", "caption", "sequenceNumber", "fieldTypeIdentifier")
    max_lengths = {"caption": 25, "screenId": 25, "helpText": 1000, "buttonUrl": 1000}
    enums = {"fieldTypeIdentifier": FIELD_TYPES, "entryTypeIdentifier": ENTRY_TYPES}
    ranges = {"sequenceNumber": (1, 500), "numberDecimals": (0, 5)}
    unique = (("podId", "caption"),)
    read_only = ("podDescription", "screenDescription", "connectWiseID", "dateCreated")
    write_only = ("addAllBusinessUnits", "removeAllBusinessUnits", "addAllLocations", "removeAllLocations")

    def clear(self):
        super().clear()
        self.next_option_id = 1
        self._pod_fields = {}

    def prepare(self, record, old, now):
        pod = PODS.get(record["podId"])
        if pod is None:
            self.reject("podId", "The pod %s does not exist." % record["podId"])
        record.update(podDescription=pod["podDescription"], screenDescription=pod["screenDescription"])
        record.setdefault("screenId", pod["screenId"])
        record.setdefault("entryTypeIdentifier", "EntryField")
        record.setdefault("numberDecimals", 0)
        for flag in ("requiredFlag", "displayOnScreenFlag", "readOnlyFlag", "listViewFlag", "displayScreenInASIO"):
            record.setdefault(flag, False)
        self._check_rules(record)
        self._scope_ids(record, "businessUnitIds", "BusinessUnits", "departments")
        self._scope_ids(record, "locationIds", "Locations", "locations")
        self._number_options(record, old)
        record["connectWiseID"] = guid("userDefinedField", record["id"])
        record["dateCreated"] = old["dateCreated"] if old else now

    def _check_rules(self, record):
        if record["requiredFlag"] and record["readOnlyFlag"]:
            self.reject("readOnlyFlag", "A custom field cannot be both required and read-only.")
        if record["numberDecimals"] and record["fieldTypeIdentifier"] not in NUMERIC_FIELD_TYPES:
            self.reject("numberDecimals", "numberDecimals is only valid for Number, Percent or Currency fields.")
        if record["fieldTypeIdentifier"] == "Button" and not record.get("buttonUrl"):
            self.reject("buttonUrl", "The buttonUrl field is required.", "MissingRequiredField")
        if record.get("options") and record["entryTypeIdentifier"] not in ("List", "Option"):
            self.reject("options", "options are only valid for the List and Option entry types.")

    def _scope_ids(self, record, field, suffix, collection):
        if record.get("addAll" + suffix):
            record[field] = sorted(self.emulator.collections[collection].records)
        elif record.get("removeAll" + suffix):
            record[field] = []
        record.setdefault(field, [])
        known = self.emulator.collections[collection].records
        if not all(isinstance(item, int) and item in known for item in record[field]):
            self.reject(field, "%s contains an id that does not exist." % field)

    def _number_options(self, record, old):
        """Give new options ids (an id sent again is kept) and fill their defaults."""
        old_ids = {option["id"] for option in (old or {}).get("options", [])}
        options = []
        for index, option in enumerate(record.pop("options", None) or []):
            if not _valid_option(option):
                self.reject("options", "Each option needs an optionValue; flags are booleans, sortOrder an integer.")
            option_id = option.get("id")
            if option_id not in old_ids:
                option_id, self.next_option_id = self.next_option_id, self.next_option_id + 1
            options.append({"id": option_id, "optionValue": option["optionValue"],
                            "defaultFlag": option.get("defaultFlag", False),
                            "inactiveFlag": option.get("inactiveFlag", False),
                            "sortOrder": option.get("sortOrder", index)})
        if options:
            record["options"] = options

    def store(self, record, old, when=None):
        self._pod_fields = {}
        return super().store(record, old, when)

    def delete(self, record_id):
        self._pod_fields = {}
        super().delete(record_id)

    def on_pod(self, pod_id):
        """The pod's custom fields in screen order (cached until the next write)."""
        if pod_id not in self._pod_fields:
            fields = [r for r in self.records.values() if r["podId"] == pod_id]
            self._pod_fields[pod_id] = sorted(fields, key=lambda r: (r["sequenceNumber"], r["id"]))
        return self._pod_fields[pod_id]


class Tickets(Collection):
    key = "tickets"
    path = "/service/tickets"
    type_name = "Ticket"
    fields = """summary:str recordType:str board:ref status:ref workRole:ref workType:ref company:ref
        site:ref siteName:str addressLine1:str addressLine2:str city:str stateIdentifier:str zip:str
        country:ref contact:ref contactName:str contactPhoneNumber:str contactPhoneExtension:str
        contactEmailAddress:str type:ref subType:ref item:ref team:ref owner:ref priority:ref
        serviceLocation:ref source:ref requiredDate:date budgetHours:num opportunity:ref agreement:ref
        agreementType:str severity:str impact:str externalXRef:str poNumber:str
        allowAllClientsPortalView:bool customerUpdatedFlag:bool automaticEmailContactFlag:bool
        automaticEmailResourceFlag:bool automaticEmailCcFlag:bool automaticEmailCc:str
        initialDescription:str initialInternalAnalysis:str initialResolution:str initialDescriptionFrom:str
        contactEmailLookup:str processNotifications:bool skipCallback:bool closedDate:str closedBy:str
        closedFlag:bool actualHours:num approved:bool billTime:str billExpenses:str billProducts:str
        dateResolved:str dateResplan:str dateResponded:str resolveMinutes:int resPlanMinutes:int
        respondMinutes:int isInSla:bool resources:str parentTicketId:int hasChildTicket:bool
        hasMergedChildTicketFlag:bool estimatedStartDate:date duration:int location:ref department:ref
        mobileGuid:str sla:ref slaStatus:str requestForChangeFlag:bool currency:ref
        mergedParentTicket:obj integratorTags:list customFields:list"""
    required = ("summary", "company")
    max_lengths = {"summary": 100, "siteName": 50, "addressLine1": 50, "addressLine2": 50, "city": 50,
                   "stateIdentifier": 50, "zip": 12, "contactName": 62, "contactPhoneNumber": 20,
                   "contactPhoneExtension": 15, "contactEmailAddress": 250, "externalXRef": 100,
                   "poNumber": 50, "automaticEmailCc": 1000}
    enums = {"recordType": ("ProjectIssue", "ProjectTicket", "ServiceTicket"), "severity": LOW_MEDIUM_HIGH,
             "impact": LOW_MEDIUM_HIGH, "billTime": BILLING, "billExpenses": BILLING, "billProducts": BILLING}
    references = {"board": "boards", "status": ("statuses", "board"), "company": "companies",
                  "priority": "priorities", "owner": "members", "location": "locations",
                  "department": "departments"}
    read_only = ("closedDate", "closedBy", "closedFlag", "mobileGuid")
    write_only = ("initialDescription", "initialInternalAnalysis", "initialResolution",
                  "processNotifications", "skipCallback")
    lookup_keys = ()
    reference_fields = ("id", "summary")

    # ----- reads see only the calling member's tickets (ManageEmulator.ticket_scope) ----------
    def query(self, request):
        scope = self.emulator.ticket_scope(request)
        return [ticket for ticket in super().query(request) if _in_member_scope(ticket, scope)]

    def get_request(self, request):
        response = super().get_request(request)
        ticket = self.records[int(request.params["id"])]
        if not _in_member_scope(ticket, self.emulator.ticket_scope(request)):
            raise self.not_found_for(ticket["id"])
        return response

    def not_found_for(self, ticket_id):
        return HttpError(404, {"code": "NotFound", "message": "%s %s not found" % (self.type_name, ticket_id)})

    # ----- writes through the API deliver the callbacks (callback_delivery.py) --------------
    def create_request(self, request):
        response = super().create_request(request)
        self.emulator.ticket_saved(request, response.body)
        return response

    def replace_request(self, request):
        response = super().replace_request(request)
        self.emulator.ticket_saved(request, response.body)
        return response

    def patch_request(self, request):
        response = super().patch_request(request)
        self.emulator.ticket_saved(request, response.body)
        return response

    def delete_request(self, request):
        ticket = self.render(self.find(request), self.emulator.api_base(request))
        response = super().delete_request(request)
        self.emulator.ticket_saved(request, ticket)
        return response

    def prepare(self, record, old, now):
        collections = self.emulator.collections
        if record.get("board") is None:
            record["board"] = {"name": DEFAULT_BOARD}
        self.resolve_references(record, ("board",))
        board = collections["boards"].records[record["board"]["id"]]
        if record.get("status") is None:
            record["status"] = self._default(collections["statuses"].in_scope({"parentId": board["id"]}))
        if record.get("status") is None:
            self.reject("status", "The status field is required.", "MissingRequiredField")
        if record.get("priority") is None:
            record["priority"] = self._default(collections["priorities"].records.values())
        record.setdefault("location", board["location"])
        record.setdefault("department", board["department"])
        self.resolve_references(record, [field for field in self.references if field != "board"])
        record.setdefault("recordType", "ServiceTicket")
        record.setdefault("severity", "Medium")
        record.setdefault("impact", "Medium")
        record["mobileGuid"] = guid("ticket", record["id"])
        record["customFields"] = self._custom_values(record, old)
        self._track_closing(record, old, now)

    @staticmethod
    def _default(records):
        default = next((r for r in records if r.get("defaultFlag")), None)
        return {"id": default["id"]} if default else None

    def _track_closing(self, record, old, now):
        status = self.emulator.collections["statuses"].records[record["status"]["id"]]
        if not status["closedStatus"]:
            record["closedFlag"] = False
            record.pop("closedDate", None)
            record.pop("closedBy", None)
        elif not (old or {}).get("closedFlag"):
            record.update(closedFlag=True, closedDate=now, closedBy=self.emulator.api_member)

    def _custom_values(self, record, old):
        """The stored form of customFields: [{id, value}] for set values. Entries left out of a
        written array are cleared, as the whole array is replaced."""
        entries = record.get("customFields") or []
        if old is not None and entries == old.get("customFields"):
            return entries
        fields = self.emulator.collections["userDefinedFields"].on_pod(TICKET_POD_ID)
        definitions = {udf["id"]: udf for udf in fields}
        values = []
        for entry in entries:
            udf = definitions.get(entry.get("id")) if isinstance(entry, dict) else None
            if udf is None:
                self.reject("customFields", "Custom field %r is not defined for service tickets."
                            % (entry.get("id") if isinstance(entry, dict) else entry))
            value = entry.get("value")
            if value is not None and not _fits(udf["fieldTypeIdentifier"], value):
                self.reject("customFields", "The value for custom field %s is not a valid %s."
                            % (udf["caption"], udf["fieldTypeIdentifier"]))
            if value is not None:
                values.append({"id": udf["id"], "value": value})
        return values

    def render(self, record, base):
        out = super().render(record, base)
        values = {entry["id"]: entry["value"] for entry in record.get("customFields", ())}
        out["customFields"] = [_custom_field_value(udf, values) for udf
                               in self.emulator.collections["userDefinedFields"].on_pod(TICKET_POD_ID)]
        return out


def _in_member_scope(ticket, scope):
    return all((ticket.get(field) or {}).get("id") == wanted for field, wanted in scope.items())


def _valid_option(option):
    return (isinstance(option, dict) and isinstance(option.get("optionValue"), str) and option["optionValue"]
            and all(isinstance(option.get(flag, False), bool) for flag in ("defaultFlag", "inactiveFlag"))
            and TYPE_CHECKS["int"](option.get("sortOrder", 0)))


def _fits(field_type, value):
    if field_type == "Checkbox":
        return isinstance(value, bool)
    if field_type in NUMERIC_FIELD_TYPES:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, str)


def _custom_field_value(udf, values):
    entry = {"id": udf["id"], "caption": udf["caption"], "type": udf["fieldTypeIdentifier"],
             "entryMethod": udf["entryTypeIdentifier"], "numberOfDecimals": udf["numberDecimals"],
             "connectWiseId": udf["connectWiseID"], "value": values.get(udf["id"])}
    return entry


RESOURCES = (Locations, Departments, Boards, BoardStatuses, Priorities, Companies, Members,
             UserDefinedFields, Tickets)
