"""Ticket notes and tasks (``/service/tickets/{parentId}/notes`` and ``/tasks``), the schemas
``ServiceNote`` and ``ServiceTask`` of the spec subset. Declared on :mod:`collection`.
"""

from tests.emulators.manage.collection import Collection

NOTE_KINDS = ("detailDescriptionFlag", "internalAnalysisFlag", "resolutionFlag")


class TicketChild(Collection):
    """A record under one ticket: stored with ``parentId``, returned with the spec's ``ticketId``."""

    parent = "tickets"

    def render(self, record, base):
        out = super().render(record, base)
        out = {("ticketId" if key == "parentId" else key): value for key, value in out.items()}
        return out


class TicketNotes(TicketChild):
    """A note written through the API is a change of its ticket: the ticket's ``_info.lastUpdated`` and
    ``updatedBy`` move and its callbacks are delivered (action ``updated``). ASSUMPTIONS.md, Service tickets."""

    key = "ticketNotes"
    path = "/service/tickets/{parentId}/notes"
    type_name = "ServiceNote"
    fields = """text:str detailDescriptionFlag:bool internalAnalysisFlag:bool resolutionFlag:bool issueFlag:bool
        member:ref contact:ref customerUpdatedFlag:bool processNotifications:bool dateCreated:str createdBy:str
        internalFlag:bool externalFlag:bool sentimentScore:num"""
    required = ("text",)
    references = {"member": "members"}
    read_only = ("dateCreated", "createdBy", "internalFlag", "externalFlag", "sentimentScore")

    def prepare(self, record, old, now):
        super().prepare(record, old, now)
        for flag in NOTE_KINDS + ("issueFlag", "customerUpdatedFlag", "processNotifications"):
            record.setdefault(flag, False)
        if not any(record[flag] for flag in NOTE_KINDS):
            # Manage files a note under Discussion, Internal or Resolution; a note in none is refused.
            self.reject("detailDescriptionFlag", "At least one of detailDescriptionFlag, internalAnalysisFlag or "
                        "resolutionFlag must be true.", "MissingRequiredField")
        record["dateCreated"] = old["dateCreated"] if old else now
        record["createdBy"] = old["createdBy"] if old else self.emulator.api_member
        # internal = visible to the service team only: an internal-analysis note
        record["internalFlag"] = record["internalAnalysisFlag"]
        record["externalFlag"] = record["detailDescriptionFlag"] or record["resolutionFlag"]

    def create_request(self, request):
        response = super().create_request(request)
        self._ticket_changed(request)
        return response

    def replace_request(self, request):
        response = super().replace_request(request)
        self._ticket_changed(request)
        return response

    def patch_request(self, request):
        response = super().patch_request(request)
        self._ticket_changed(request)
        return response

    def delete_request(self, request):
        response = super().delete_request(request)
        self._ticket_changed(request)
        return response

    def _ticket_changed(self, request):
        tickets = self.emulator.collections["tickets"]
        ticket_id = int(request.params["parentId"])
        old = tickets.records[ticket_id]
        now = self.emulator.now()
        tickets.records[ticket_id] = dict(old, _info=dict(old["_info"], lastUpdated=now, updatedBy=self.emulator.api_member))
        self.emulator.ticket_saved(request, tickets.render(tickets.records[ticket_id], self.emulator.api_base(request)),
                                   action="updated")


class TicketTasks(TicketChild):
    key = "ticketTasks"
    path = "/service/tickets/{parentId}/tasks"
    type_name = "ServiceTask"
    fields = """notes:str closedFlag:bool priority:int schedule:ref code:ref member:ref resolution:str
        childScheduleAction:str childTicketId:int summary:str"""
    required = ("notes",)
    max_lengths = {"summary": 100}
    enums = {"childScheduleAction": ("Transfer", "Delete", "Done")}
    references = {"member": "members"}

    def prepare(self, record, old, now):
        super().prepare(record, old, now)
        record.setdefault("closedFlag", False)
        if record.get("priority") is None:
            siblings = self.in_scope({"parentId": record["parentId"]})
            record["priority"] = 1 + max((task.get("priority") or 0 for task in siblings
                                          if task["id"] != record["id"]), default=0)


RESOURCES = (TicketNotes, TicketTasks)
