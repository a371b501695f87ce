"""Workflow rules: ``/system/workflows`` with their events, actions and the actions' custom-field
values, plus the read-only metadata a rule is built from (table types, notify types, triggers and
their options). Declared on :mod:`collection` like :mod:`resources`.

``GET .../events/{id}/test`` evaluates the event's ``eventCondition`` against the service tickets.
The real condition format is not published (ASSUMPTIONS.md §5.7); the emulator reads it as the
``conditions`` grammar in which a ticket custom field is written as its caption
(``Signl4Retrieved_c = False AND status/name = "New (not responded)"``). See ASSUMPTIONS.md.
"""

import copy

from tests.emulators.common import Response
from tests.emulators.manage.collection import (
    DEFAULT_PAGE_SIZE,
    INFO_ALIASES,
    MAX_PAGE_SIZE,
    Collection,
    _page_arg,
    condition_error,
    forward_only_page,
    manage_error,
    navigable_page,
    order_records,
    project,
)
from tests.emulators.manage.conditions import ConditionError, Filter
from tests.emulators.manage.resources import TICKET_POD_ID, guid

SEEDED = "2025-02-03T08:00:00Z"
SERVICE_TICKET = "ServiceTicket"
TABLE_TYPES = [(SERVICE_TICKET, "Service Ticket"), ("Company", "Company"), ("Contact", "Contact"),
               ("Opportunity", "Opportunity"), ("Project", "Project"), ("Activity", "Activity"),
               ("Agreement", "Agreement"), ("Configuration", "Configuration"), ("Invoice", "Invoice")]
TABLE_PODS = {SERVICE_TICKET: TICKET_POD_ID}  # where a table type's custom fields live
NOTIFY_TYPES = [
    # identifier, name, externalFlag, table types it applies to (None: all)
    ("SendEmail", "Send Email", True, None),
    ("CreateActivity", "Create Activity", False, None),
    ("AssignResource", "Assign Resource", False, (SERVICE_TICKET, "Project")),
    ("AttachConfiguration", "Attach Configuration", False, ("Company", "Contact")),
    ("UpdateStatus", "Update Status", False, (SERVICE_TICKET,)),
    ("UpdatePriority", "Update Priority", False, (SERVICE_TICKET,)),
    ("AddNote", "Add Note", False, (SERVICE_TICKET,)),
    ("UpdateCustomField", "Update Custom Field", False, None),
]
# What an action of each notify type needs besides notifyType; a tuple means "one of these".
ACTION_NEEDS = {"SendEmail": ("subject", ("specificMemberTo", "emailRecipient")), "CreateActivity": ("subject",),
                "AssignResource": ("subject", "specificMemberTo"), "AttachConfiguration": ("attachConfigurationsFor",),
                "UpdateStatus": ("boardStatus",), "UpdatePriority": ("servicePriority",), "AddNote": ("notes",)}
# Who an action notifies / sends as (NotificationRecipientReference). "Specific Member" and "Email Address"
# are the spec's names (WorkflowAction descriptions); the others are invented neighbours. Each kind names
# the field that carries the recipient, for the "to" and the "from" side.
RECIPIENTS = {1: ("Specific Member", "specificMemberTo", "specificMemberFrom"),
              2: ("Email Address", "emailRecipient", "emailFrom"),
              3: ("Ticket Owner", None, None), 4: ("Ticket Contact", None, None), 5: ("Ticket Resources", None, None)}
RECIPIENT_SIDES = (("notifyWho", 1), ("notifyFrom", 2))  # (field, index of the carrying field in RECIPIENTS)
# The frequency fields each executionTime takes (spec descriptions); the others are cleared.
FREQUENCY_FIELDS = {"Once": (), "MultipleTimes": ("frequencyUnit", "frequencyOfExecution", "maxNumberOfExecution"),
                    "Continuously": ("frequencyUnit", "frequencyOfExecution")}
# Service-ticket triggers: id -> (name, condition path, expected type, collection of its options)
TICKET_TRIGGERS = {1: ("Status", "status/name", "string", "statuses"), 2: ("Board", "board/name", "string", "boards"),
                   3: ("Priority", "priority/name", "string", "priorities"),
                   4: ("Company", "company/identifier", "string", None), 5: ("Summary", "summary", "string", None),
                   6: ("Date Entered", "dateEntered", "datetime", None)}
CUSTOM_FIELD_TRIGGER_BASE = 100  # a custom field's trigger id is this plus the field's id


def table_type(emulator, workflow):
    return emulator.collections["workflowTableTypes"].get(workflow["tableType"]["id"])["identifier"]


# ----- read-only metadata ------------------------------------------------------------------
class Catalogue(Collection):
    """Metadata computed from the state rather than stored: list, count and ``/{id}`` over ``entries``."""

    methods = "GET"

    def entries(self, scope):
        raise NotImplementedError

    def entry(self, number, kind=None, **fields):
        """One metadata record with a stable connectWiseID and seed-time ``_info``."""
        return dict(fields, id=number, connectWiseID=guid(kind or self.key, number),
                    _info=self.emulator.stamp(None, SEEDED))

    def in_scope(self, scope):
        return self.entries(scope or {})

    def get(self, record_id, scope=None):
        found = next((entry for entry in self.entries(scope or {}) if entry["id"] == record_id), None)
        if found is None:
            raise manage_error(404, "NotFound", "%s %s not found" % (self.type_name, record_id))
        return found

    def resolve(self, value, scope=None):
        entries = self.entries(scope or {})
        if isinstance(value, dict) and value.get("id") is not None:
            return next((entry for entry in entries if entry["id"] == value["id"]), None)
        for key in self.lookup_keys:
            if isinstance(value, dict) and isinstance(value.get(key), str):
                return next((e for e in entries if str(e.get(key, "")).casefold() == value[key].casefold()), None)
        return None

    def workflow(self, workflow_id):
        return self.emulator.collections["workflows"].get(workflow_id)


class TableTypes(Catalogue):
    key = "workflowTableTypes"
    path = "/system/workflows/tableTypes"
    type_name = "WorkflowTableType"
    fields = "identifier:str name:str connectWiseID:str"
    lookup_keys = ("identifier", "name")
    reference_fields = ("id", "identifier", "name")

    def entries(self, scope):
        return [self.entry(number, identifier=identifier, name=name)
                for number, (identifier, name) in enumerate(TABLE_TYPES, start=1)]


class NotifyTypes(Catalogue):
    """Per workflow, the notify types of its table type; ``/system/workflows/notifyTypes`` lists all."""

    key = "workflowNotifyTypes"
    path = "/system/workflows/{parentId}/notifyTypes"
    type_name = "WorkflowNotifyType"
    fields = "identifier:str name:str isSetupFlag:bool externalFlag:bool connectWiseID:str parentConnectWiseId:str"
    lookup_keys = ("identifier", "name")

    def register(self):
        super().register()
        self._route(r"/system/workflows/notifyTypes", {"GET": self.list_request})
        self._route(r"/system/workflows/notifyTypes/count", {"GET": self.count_request})
        self._route(r"/system/workflows/notifyTypes/(?P<id>\d+)", {"GET": self.get_request})

    def entries(self, scope):
        workflow = self.workflow(scope["parentId"]) if "parentId" in scope else None
        table = table_type(self.emulator, workflow) if workflow else None
        parent = dict(parentId=workflow["id"], parentConnectWiseId=workflow["connectWiseID"]) if workflow else {}
        return [self.entry(number, identifier=identifier, name=name, isSetupFlag=False, externalFlag=external, **parent)
                for number, (identifier, name, external, tables) in enumerate(NOTIFY_TYPES, start=1)
                if table is None or tables is None or table in tables]


class Triggers(Catalogue):
    key = "workflowTriggers"
    path = "/system/workflows/{parentId}/triggers"
    type_name = "WorkflowTrigger"
    fields = """name:str description:str hasOptionsFlag:bool hasOperatorFlag:bool customField:ref
        expectedType:str connectWiseID:str parentConnectWiseId:str"""

    def entries(self, scope):
        workflow = self.workflow(scope["parentId"])
        if table_type(self.emulator, workflow) != SERVICE_TICKET:
            return []
        parent = dict(parentId=workflow["id"], parentConnectWiseId=workflow["connectWiseID"], hasOperatorFlag=True)
        found = [self.entry(number, name=name, description="Condition: %s" % path, expectedType=kind,
                            hasOptionsFlag=source is not None, **parent)
                 for number, (name, path, kind, source) in TICKET_TRIGGERS.items()]
        for udf in self.emulator.collections["userDefinedFields"].on_pod(TICKET_POD_ID):
            kind = udf["fieldTypeIdentifier"]
            found.append(self.entry(CUSTOM_FIELD_TRIGGER_BASE + udf["id"], name=udf["caption"], expectedType=kind,
                                    description="Condition: %s (custom field)" % udf["caption"],
                                    customField={"id": udf["id"], "name": udf["caption"]},
                                    hasOptionsFlag=kind == "Checkbox" or bool(udf.get("options")), **parent))
        return found


class TriggerOptions(Catalogue):
    key = "workflowTriggerOptions"
    path = "/system/workflows/{grandparentId}/triggers/{parentId}/options"
    type_name = "WorkflowTriggerOption"
    fields = "value:str name:str customField:ref connectWiseID:str parentConnectWiseId:str grandParentConnectWiseId:str"

    def entries(self, scope):
        workflow = self.workflow(scope["grandParentId"])
        trigger = self.emulator.collections["workflowTriggers"].get(scope["parentId"], {"parentId": workflow["id"]})
        parent = dict(parentId=trigger["id"], grandParentId=workflow["id"],
                      parentConnectWiseId=trigger["connectWiseID"], grandParentConnectWiseId=workflow["connectWiseID"])
        if trigger.get("customField"):
            parent["customField"] = trigger["customField"]
        return [self.entry(number, "%s/%d" % (self.key, trigger["id"]), value=value, name=name, **parent)
                for number, (value, name) in enumerate(self._choices(trigger, workflow), start=1)]

    def _choices(self, trigger, workflow):
        collections = self.emulator.collections
        if trigger.get("customField"):
            udf = collections["userDefinedFields"].records[trigger["customField"]["id"]]
            if udf["fieldTypeIdentifier"] == "Checkbox":
                return [("True", "True"), ("False", "False")]
            return [(option["optionValue"], option["optionValue"]) for option in udf.get("options", ())]
        source = TICKET_TRIGGERS[trigger["id"]][3]
        records = list(collections[source].records.values()) if source else []
        if source == "statuses" and workflow.get("board"):  # a rule's board narrows the statuses
            records = collections["statuses"].in_scope({"parentId": workflow["board"]["id"]})
        return [(str(record["id"]), record["name"]) for record in records]


# ----- workflows, events, actions ----------------------------------------------------------
class Workflows(Collection):
    key = "workflows"
    path = "/system/workflows"
    type_name = "Workflow"
    fields = """name:str tableType:ref location:ref department:ref activateFlag:bool batchInterval:int
        batchFrequencyUnit:str batchLastRan:date batchSchedule:str board:ref connectWiseID:str"""
    required = ("name", "tableType")
    max_lengths = {"name": 100}
    enums = {"batchFrequencyUnit": ("Minutes", "Hours", "Days"),
             "batchSchedule": ("AnyTime", "MyCompanyOfficeHours", "SlaHours")}
    ranges = {"batchInterval": (1, 2 ** 31 - 1)}
    references = {"tableType": "workflowTableTypes", "location": "locations", "department": "departments",
                  "board": "boards"}
    read_only = ("batchLastRan", "connectWiseID")

    def register(self):
        super().register()
        self.emulator.api_route(r"/system/workflows/(?P<id>\d+)/copy", POST=self.copy_request)

    def prepare(self, record, old, now):
        super().prepare(record, old, now)
        if old and record["tableType"]["id"] != old["tableType"]["id"]:
            self.reject("tableType", "The table type of an existing workflow cannot be changed.")
        if record.get("activateFlag") is None:
            record["activateFlag"] = False
        if record.get("batchInterval") is not None and record.get("batchFrequencyUnit") is None:
            record["batchFrequencyUnit"] = "Minutes"
        if record["activateFlag"] and not record.get("batchSchedule"):
            self.reject("batchSchedule", "If activateFlag is true, batchSchedule is required.", "MissingRequiredField")
        events = self.emulator.collections["workflowEvents"].in_scope({"parentId": record["id"]})
        if record["activateFlag"] and not events:
            self.reject("activateFlag", "Batches can not be turned on until after the workflow is created and it "
                                        "has at least one event associated with it.")
        record["connectWiseID"] = guid("workflow", record["id"])

    def copy_request(self, request):
        source = self.get(int(request.params["id"]))
        rule = self.create(dict(source, name=("Copy of " + source["name"])[:100], activateFlag=False))
        events = self.emulator.collections["workflowEvents"]
        for event in events.in_scope({"parentId": source["id"]}):
            events.copy_into(event, rule["id"])
        return Response(200, self.render(rule, self.emulator.api_base(request)))


class Events(Collection):
    key = "workflowEvents"
    path = "/system/workflows/{parentId}/events"
    parent = "workflows"
    type_name = "WorkflowEvent"
    fields = """name:str eventCondition:str frequencyUnit:str frequencyOfExecution:int maxNumberOfExecution:int
        executionTime:str dateTestedUTC:date testRecordsMatched:int connectWiseID:str parentConnectWiseId:str"""
    required = ("eventCondition",)
    enums = {"frequencyUnit": ("Minutes", "Hours", "Days", "Months"), "executionTime": tuple(FREQUENCY_FIELDS)}
    ranges = {"frequencyOfExecution": (1, 2 ** 31 - 1), "maxNumberOfExecution": (1, 2 ** 31 - 1)}
    read_only = ("dateTestedUTC", "testRecordsMatched", "connectWiseID", "parentConnectWiseId")

    def register(self):
        super().register()
        item = r"/system/workflows/(?P<parentId>\d+)/events/(?P<id>\d+)"
        self.emulator.api_route(item + "/test", GET=self.test_request)
        self.emulator.api_route(item + "/copy", POST=self.copy_request)

    def prepare(self, record, old, now):
        if record.get("executionTime") is None:
            record["executionTime"] = "Once"
        needed = FREQUENCY_FIELDS[record["executionTime"]]
        for field in FREQUENCY_FIELDS["MultipleTimes"]:
            if field not in needed:
                record.pop(field, None)
            elif record.get(field) is None:
                self.reject(field, "The %s field is required when executionTime is %s."
                            % (field, record["executionTime"]), "MissingRequiredField")
        workflow = self.emulator.collections["workflows"].records[record["parentId"]]
        record.update(connectWiseID=guid("workflowEvent", record["id"]), parentConnectWiseId=workflow["connectWiseID"])

    def copy_into(self, event, workflow_id, name=None):
        """A copy of ``event`` and its actions in workflow ``workflow_id``."""
        twin = self.create(dict(event, name=name) if name else event, {"parentId": workflow_id})
        actions = self.emulator.collections["workflowActions"]
        for action in actions.in_scope({"parentId": event["id"]}):
            actions.copy_into(action, twin)
        return twin

    def copy_request(self, request):
        event = self.find(request)
        twin = self.copy_into(event, event["parentId"], "Copy of %s" % (event.get("name") or event["id"]))
        return Response(200, self.render(twin, self.emulator.api_base(request)))

    # ----- the test run -----------------------------------------------------------------
    def test_request(self, request):
        """The tickets the event's condition selects, each as ``{"ticket": {...}}``, paged like a list."""
        event = self.find(request)
        workflow = self.emulator.collections["workflows"].records[event["parentId"]]
        tickets = self.emulator.collections["tickets"]
        matches = self.matching_tickets(request, workflow, event)
        self.records[event["id"]] = dict(event, dateTestedUTC=self.emulator.now(), testRecordsMatched=len(matches))
        page_size = min(_page_arg(request, "pageSize", DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE)
        if (request.header("pagination-type") or "").lower() == "forward-only":
            page, link = forward_only_page(request, matches, page_size)
        else:
            if request.arg("orderBy"):
                order_records(matches, request.arg("orderBy"), tickets.known_fields)
            page, link = navigable_page(request, matches, page_size)
        body = [{"ticket": project(ticket, request.arg("fields"))} for ticket in page]
        return Response(200, body, {"Link": link})

    def matching_tickets(self, request, workflow, event):
        if table_type(self.emulator, workflow) != SERVICE_TICKET:
            raise manage_error(400, "InvalidObject", "The emulator tests events of Service Ticket workflows only.")
        tickets = self.emulator.collections["tickets"]
        listing = copy.copy(request)
        listing.params = {}  # the ticket list, with the request's own conditions applied
        records = tickets.query(listing)
        captions = [udf["caption"] for udf in self.emulator.collections["userDefinedFields"].on_pod(TICKET_POD_ID)]
        scope = [(field, workflow[field]["id"]) for field in ("board", "location", "department") if workflow.get(field)]
        try:
            selects = Filter(event["eventCondition"], list(tickets.field_types) + captions, INFO_ALIASES)
            return [ticket for ticket in records
                    if all((ticket.get(field) or {}).get("id") == ref for field, ref in scope)
                    and selects(with_captions(ticket))]
        except ConditionError as err:
            raise condition_error(err) from None


def with_captions(ticket):
    """The ticket as a condition sees it: each custom field also under its caption. An unset
    Checkbox reads as False (the UI shows it unchecked); any other unset field reads as null."""
    view = dict(ticket)
    for entry in ticket.get("customFields", ()):
        unset = False if entry["type"] == "Checkbox" else None
        view[entry["caption"]] = unset if entry.get("value") is None else entry["value"]
    return view


class Actions(Collection):
    key = "workflowActions"
    path = "/system/workflows/{grandparentId}/events/{parentId}/actions"
    parent = "workflowEvents"
    type_name = "WorkflowAction"
    fields = """notifyType:ref notifyWho:ref specificMemberTo:ref emailRecipient:str notifyFrom:ref
        specificMemberFrom:ref emailFrom:str
        subject:str notes:str daysToExecute:int board:ref boardStatus:ref detailNotesFlag:bool
        internalNotesFlag:bool auditNotesFlag:bool servicePriority:ref updateOwnerFlag:bool
        attachConfigurationsFor:str connectWiseID:str parentConnectWiseId:str grandParentConnectWiseId:str"""
    required = ("notifyType",)
    max_lengths = {"emailRecipient": 250, "emailFrom": 250, "subject": 100}
    enums = {"attachConfigurationsFor": ("Company", "Contact")}
    references = {"specificMemberTo": "members", "specificMemberFrom": "members", "board": "boards",
                  "servicePriority": "priorities"}
    read_only = ("connectWiseID", "parentConnectWiseId", "grandParentConnectWiseId")

    def prepare(self, record, old, now):
        super().prepare(record, old, now)
        collections = self.emulator.collections
        workflow = collections["workflows"].records[record["grandParentId"]]
        notify = collections["workflowNotifyTypes"].resolve(record["notifyType"], {"parentId": workflow["id"]})
        if notify is None:
            self.reject("notifyType", "The notifyType could not be found for the workflow's table type.")
        record["notifyType"] = {key: notify[key] for key in ("id", "identifier", "name")}
        for side, carrier in RECIPIENT_SIDES:
            self._resolve_recipient(record, side, carrier)
        self._resolve_status(record, workflow)
        for need in ACTION_NEEDS.get(notify["identifier"], ()):
            choices = need if isinstance(need, tuple) else (need,)
            if all(record.get(field) in (None, "") for field in choices):
                self.reject(choices[0], "The %s field is required when notifyType is %s."
                            % (" or ".join(choices), notify["name"]), "MissingRequiredField")
        event = collections["workflowEvents"].records[record["parentId"]]
        record.update(connectWiseID=guid("workflowAction", record["id"]), parentConnectWiseId=event["connectWiseID"],
                      grandParentConnectWiseId=workflow["connectWiseID"])

    def _resolve_recipient(self, record, side, carrier):
        """``notifyWho``/``notifyFrom`` by id or name; the field its kind names must be set
        ("emailRecipient: Required when notifyWho is set to: Email Address", spec). Without one, the
        kind follows from the member or address given, as the UI fills it in."""
        reference = record.get(side)
        if reference is None:
            given = [number for number, kind in RECIPIENTS.items() if kind[carrier] and record.get(kind[carrier])]
            if given:
                record[side] = {"id": given[0], "name": RECIPIENTS[given[0]][0]}
            return
        found = _recipient(reference)
        if found is None:
            self.reject(side, "The %s could not be found." % side)
        field = RECIPIENTS[found][carrier]
        if field and record.get(field) in (None, ""):
            self.reject(field, "The %s field is required when %s is set to: %s."
                        % (field, side, RECIPIENTS[found][0]), "MissingRequiredField")
        for number, kind in RECIPIENTS.items():
            if number != found and kind[carrier] and kind[carrier] != field and record.get(kind[carrier]):
                self.reject(kind[carrier], "%s is only valid when %s is set to: %s."
                            % (kind[carrier], side, kind[0]))
        record[side] = {"id": found, "name": RECIPIENTS[found][0]}

    def render(self, record, base):
        out = super().render(record, base)
        for side, _carrier in RECIPIENT_SIDES:
            if out.get(side):
                out[side] = dict(out[side], _info={"notifyRecipient_href": "%s/system/workflows/notifyRecipients/%d"
                                                   % (base, out[side]["id"])})
        return out

    def _resolve_status(self, record, workflow):
        """A status of the action's board, else of the workflow's board."""
        if record.get("boardStatus") is None:
            return
        board = record.get("board") or workflow.get("board")
        if board is None:
            self.reject("boardStatus", "A boardStatus needs a board on the action or on the workflow.")
        statuses = self.emulator.collections["statuses"]
        found = statuses.resolve(record["boardStatus"], {"parentId": board["id"]})
        if found is None:
            self.reject("boardStatus", "The boardStatus could not be found on this board.")
        record["boardStatus"] = statuses.reference(found)

    def copy_into(self, action, event):
        twin = self.create(action, {"parentId": event["id"], "grandParentId": event["parentId"]})
        values = self.emulator.collections["workflowActionCustomFields"]
        for value in values.in_scope({"parentId": action["id"]}):
            values.create(value, {"parentId": twin["id"], "grandParentId": event["id"]})


def _recipient(reference):
    """The RECIPIENTS number a reference designates by id, else by name (case-insensitive), or None."""
    if not isinstance(reference, dict):
        return None
    if reference.get("id") is not None:
        return reference["id"] if reference["id"] in RECIPIENTS and not isinstance(reference["id"], bool) else None
    name = reference.get("name")
    if isinstance(name, str):
        return next((n for n, kind in RECIPIENTS.items() if kind[0].casefold() == name.strip().casefold()), None)
    return None


class ActionCustomFields(Collection):
    """``WorkflowActionUserDefinedField``: custom-field values an action sets. Its endpoints do not
    follow the usual pattern: POST per event, GET per action, PUT/PATCH by id, DELETE per action."""

    key = "workflowActionCustomFields"
    path = "/system/workflows/userdefinedfields/events/{grandparentId}/actions/{parentId}"
    parent = "workflowActions"
    type_name = "WorkflowActionUserDefinedField"
    methods = "GET"
    fields = """eventId:int actionId:int caption:str userDefinedFieldId:int value:str overwriteFlag:bool
        podDescription:str fieldTypeId:str entryTypeId:str requiredFlag:bool inactiveFlag:bool connectWiseID:str
        parentConnectWiseId:str grandParentConnectWiseId:str"""
    read_only = ("eventId", "actionId", "podDescription", "fieldTypeId", "entryTypeId", "requiredFlag",
                 "inactiveFlag", "connectWiseID", "parentConnectWiseId", "grandParentConnectWiseId")
    unique = ("userDefinedFieldId",)

    def register(self):
        super().register()
        base = r"/system/workflows/userdefinedfields"
        self.emulator.api_route(base + r"/events/(?P<grandparentId>\d+)", POST=self.create_for_event)
        self.emulator.api_route(base + r"/events/actions", GET=self.list_request)
        self.emulator.api_route(base + r"/(?P<id>\d+)", PUT=self.replace_request, PATCH=self.patch_request)
        self.emulator.api_route(base + r"/actions/(?P<parentId>\d+)", DELETE=self.delete_for_action)

    def scope(self, request):
        return super().scope(request) if "parentId" in request.params else {}  # paths that name no action

    def create_for_event(self, request):
        event_id = int(request.params["grandparentId"])
        body = self._body(request, dict)
        if event_id not in self.emulator.collections["workflowEvents"].records:
            raise manage_error(404, "NotFound", "WorkflowEvent %d not found" % event_id)
        actions = self.emulator.collections["workflowActions"].records
        action = actions.get(body["actionId"]) if isinstance(body.get("actionId"), int) else None
        if action is None or action["parentId"] != event_id:
            self.reject("actionId", "The actionId must name an action of this event.")
        record = self.create(body, {"parentId": action["id"], "grandParentId": event_id})
        return Response(201, self.render(record, self.emulator.api_base(request)))

    def delete_for_action(self, request):
        for record in self.in_scope(self.scope(request)):
            self.delete(record["id"])
        return Response(204)

    def prepare(self, record, old, now):
        collections = self.emulator.collections
        action = collections["workflowActions"].records[record["parentId"]]
        event = collections["workflowEvents"].records[record["grandParentId"]]
        workflow = collections["workflows"].records[action["grandParentId"]]
        udf = self._custom_field(record, TABLE_PODS.get(table_type(self.emulator, workflow)))
        if record.get("value") is not None and not _value_fits(udf, record["value"]):
            self.reject("value", "The value is not a valid %s." % udf["fieldTypeIdentifier"])
        if record.get("overwriteFlag") is None:
            record["overwriteFlag"] = False
        record.update(eventId=record["grandParentId"], actionId=record["parentId"], userDefinedFieldId=udf["id"],
                      caption=udf["caption"], podDescription=udf["podDescription"],
                      fieldTypeId=udf["fieldTypeIdentifier"], entryTypeId=udf["entryTypeIdentifier"],
                      requiredFlag=udf["requiredFlag"], inactiveFlag=False,
                      connectWiseID=guid("workflowActionUserDefinedField", record["id"]),
                      parentConnectWiseId=action["connectWiseID"], grandParentConnectWiseId=event["connectWiseID"])

    def _custom_field(self, record, pod_id):
        """The custom field named by ``userDefinedFieldId``, else by ``caption``, on the table type's pod."""
        fields = self.emulator.collections["userDefinedFields"].on_pod(pod_id) if pod_id else []
        if record.get("userDefinedFieldId") is not None:
            udf = next((f for f in fields if f["id"] == record["userDefinedFieldId"]), None)
        else:
            caption = str(record.get("caption") or "").casefold()
            udf = next((f for f in fields if f["caption"].casefold() == caption), None)
        if udf is None:
            self.reject("userDefinedFieldId", "The custom field could not be found for the workflow's table type.")
        return udf


def _value_fits(udf, value):
    """Values are strings; a Checkbox takes True/False and a numeric field a number."""
    if udf["fieldTypeIdentifier"] == "Checkbox":
        return value.lower() in ("true", "false")
    if udf["fieldTypeIdentifier"] in ("Number", "Percent", "Currency"):
        try:
            float(value)
        except ValueError:
            return False
    return True


RESOURCES = (TableTypes, NotifyTypes, Triggers, TriggerOptions, Workflows, Events, Actions, ActionCustomFields)
