"""The seeded state: a small MSP service desk. Records are created through the collections,
so the seed is validated like any client write, and references are given by name.

Ids are assigned in the order below (each collection counts from 1), so tests may rely on them.
"""

import datetime as dt

from tests.emulators.manage.resources import TICKET_POD_ID

SEED_START = dt.datetime(2025, 2, 3, 8, 0, tzinfo=dt.timezone.utc)

LOCATIONS = ["Tampa Office", "Remote"]
DEPARTMENTS = [("SVC", "Services"), ("PS", "Professional Services")]

# The roles administration.SecurityRoles seeds on every reset; the members reference these ids.
SECURITY_ROLES = {"Admin": 1, "Technician": 2}

BOARDS = [
    ("Service Desk", "Tampa Office", "Services", [
        # name, closed, default, escalation
        ("New (not responded)", False, True, "NotResponded"),
        ("New", False, False, "NotResponded"),
        ("Assigned", False, False, "Responded"),
        ("In Progress", False, False, "ResolutionPlan"),
        ("Waiting on Client", False, False, "Responded"),
        ("Acknowledged", False, False, "Responded"),
        ("Closed (resolved)", True, False, "Resolved"),
        ("Closed (cancelled)", True, False, "Resolved"),
    ]),
    ("Network Operations", "Tampa Office", "Services", [
        ("New", False, True, "NotResponded"),
        ("Acknowledged", False, False, "Responded"),
        ("In Progress", False, False, "ResolutionPlan"),
        ("Closed (resolved)", True, False, "Resolved"),
    ]),
    ("Projects", "Remote", "Professional Services", [
        ("New", False, True, "NoEscalation"),
        ("In Progress", False, False, "NoEscalation"),
        ("Completed", True, False, "NoEscalation"),
    ]),
]

PRIORITIES = [
    # name, color, level, default
    ("Priority 1 - Emergency Response", "Red", "Critical", False),
    ("Priority 2 - Quick Response", "Orange", "High", False),
    ("Priority 3 - Normal Response", "Yellow", "Medium", True),
    ("Priority 4 - Scheduled Maintenance", "Blue", "Low", False),
    ("Do not respond", "Gray", "Low", False),
]

COMPANIES = [
    ("ContosoMSP", "Contoso MSP", "Tampa"),
    ("Fabrikam", "Fabrikam, Inc.", "Orlando"),
    ("Northwind", "Northwind Traders", "Clearwater"),
    ("AdventureWorks", "Adventure Works Cycles", "St. Petersburg"),
    ("Tailspin", "Tailspin Toys", "Sarasota"),
    ("WideWorld", "Wide World Importers", "Lakeland"),
]
CUSTOMERS = [company[0] for company in COMPANIES[1:]]

MEMBERS = [
    # identifier, first, last, title, role, location, inactive
    ("jdoe", "John", "Doe", "Service Manager", "Admin", "Tampa Office", False),
    ("asmith", "Alice", "Smith", "Senior Engineer", "Technician", "Tampa Office", False),
    ("bjones", "Bob", "Jones", "Network Engineer", "Technician", "Tampa Office", False),
    ("cgarcia", "Carla", "Garcia", "Support Technician", "Technician", "Remote", False),
    ("dkim", "Daniel", "Kim", "Support Technician", "Technician", "Remote", False),
    ("elee", "Emma", "Lee", "Project Manager", "Technician", "Tampa Office", False),
    ("fnguyen", "Frank", "Nguyen", "Support Technician", "Technician", "Remote", True),
]
MEMBER_EMAIL_DOMAIN = "contoso-msp.com"
CALLER = {"identifier": "apiautomation", "name": "API Automation", "emailAddress": "apiautomation@" + MEMBER_EMAIL_DOMAIN,
          "securityRole": {"name": "Admin"}, "defaultLocation": {"name": "Tampa Office"},
          "defaultDepartment": {"identifier": "SVC"}, "serviceDefaultBoard": {"name": "Service Desk"}}

CUSTOM_FIELDS = [
    # podId, caption, type, entry, sequence
    (TICKET_POD_ID, "Customer VIP", "Checkbox", "EntryField", 1),
    (TICKET_POD_ID, "Outage ID", "Text", "EntryField", 2),
    (TICKET_POD_ID, "Escalation Level", "Number", "EntryField", 3),
    (4, "Preferred Contact", "Text", "List", 1),
]
PREFERRED_CONTACT_OPTIONS = ["Email", "Phone"]

TICKETS = [
    # summary, company, board, status, priority, owner, contact, custom field values by caption
    ("Email not syncing on CEO's phone", "Fabrikam", "Service Desk", "New (not responded)",
     "Priority 2 - Quick Response", None, "Megan Bowen", {"Customer VIP": True}),
    ("Printer offline - 2nd floor", "Northwind", "Service Desk", "New",
     "Priority 3 - Normal Response", None, "Lee Gu", {}),
    ("VPN tunnel down to branch office", "AdventureWorks", "Network Operations", "In Progress",
     "Priority 1 - Emergency Response", "bjones", "Alex Wilber", {"Outage ID": "OUT-1042"}),
    ("New hire laptop setup - J. Rivera", "Tailspin", "Service Desk", "Assigned",
     "Priority 3 - Normal Response", "asmith", "Diego Siciliani", {}),
    ("Firewall firmware update", "ContosoMSP", "Network Operations", "Acknowledged",
     "Priority 4 - Scheduled Maintenance", "dkim", None, {}),
    ("Password reset request", "Fabrikam", "Service Desk", "Closed (resolved)",
     "Priority 3 - Normal Response", "jdoe", "Isaiah Langer", {}),
    ("Backup job failed on FS01", "Northwind", "Service Desk", "Waiting on Client",
     "Priority 2 - Quick Response", "cgarcia", "Lee Gu", {"Escalation Level": 2}),
    ("Office 365 migration - phase 2", "WideWorld", "Projects", "In Progress",
     "Priority 4 - Scheduled Maintenance", "elee", "Nestor Wilke", {}),
    ("Duplicate ticket - ignore", "Tailspin", "Service Desk", "Closed (cancelled)",
     "Do not respond", None, None, {}),
    ("Server CPU alert on SQL02", "AdventureWorks", "Service Desk", "New (not responded)",
     "Priority 1 - Emergency Response", None, "Alex Wilber",
     {"Customer VIP": False, "Outage ID": "OUT-1043", "Escalation Level": 1}),
    ("Wi-Fi dropping in conference room", "Northwind", "Service Desk", "Acknowledged",
     "Priority 3 - Normal Response", "bjones", "Lee Gu", {}),
]
GENERATED_STATUSES = ["New (not responded)", "New", "Assigned", "In Progress", "Acknowledged"]
NEW_STATUS = GENERATED_STATUSES[0]  # the status a new ticket arrives in (the SIGNL4 trigger rule tests it)
GENERATED_PRIORITIES = [priority[0] for priority in PRIORITIES[:4]]


def timestamp(minutes):
    return (SEED_START + dt.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def load(emulator, extra_tickets=0, new_tickets=None):
    """Create the seeded records, then ``extra_tickets`` generated ones (deterministic). With
    ``new_tickets``, the last (newest) that many generated tickets are in ``NEW_STATUS`` and the
    others in the other generated statuses in turn (a desk with a known number of new tickets, for
    load tests); without, every generated status comes in turn."""
    collections = emulator.collections
    for name in LOCATIONS:
        collections["locations"].create({"name": name, "ownerLevelId": 1}, when=timestamp(0))
    for identifier, name in DEPARTMENTS:
        collections["departments"].create({"identifier": identifier, "name": name},
                                          when=timestamp(0))
    _load_boards(collections)
    for sort, (name, color, level, default) in enumerate(PRIORITIES, start=1):
        collections["priorities"].create({"name": name, "color": color, "level": level, "sortOrder": sort,
                                          "defaultFlag": default}, when=timestamp(2))
    for identifier, name, city in COMPANIES:
        collections["companies"].create({"identifier": identifier, "name": name, "city": city, "state": "FL"},
                                        when=timestamp(3))
    for number, member in enumerate(MEMBERS, start=101):
        collections["members"].create(_member(number, *member), when=timestamp(4))
    # The API member the seeded keys act as: /system/members lists it too (licenseClass "A"), as real Manage does.
    collections["apiMembers"].create(CALLER, when=timestamp(4))
    _load_custom_fields(collections)
    for minutes, ticket in enumerate(TICKETS):
        collections["tickets"].create(_ticket(collections, *ticket), when=timestamp(60 * (minutes + 1)))
    for number in range(1, extra_tickets + 1):
        collections["tickets"].create(_generated_ticket(number, generated_status(number, new_tickets, extra_tickets)),
                                      when=timestamp(24 * 60 + number))


def _load_boards(collections):
    for name, location, department, statuses in BOARDS:
        board = collections["boards"].create({"name": name, "location": {"name": location},
                                              "department": {"name": department}}, when=timestamp(1))
        for sort, (status, closed, default, escalation) in enumerate(statuses):
            collections["statuses"].create({"name": status, "sortOrder": sort, "closedStatus": closed,
                                            "defaultFlag": default, "escalationStatus": escalation},
                                           scope={"parentId": board["id"]}, when=timestamp(1))


def _member(extension, identifier, first, last, title, role, location, inactive):
    return {
        "identifier": identifier, "firstName": first, "lastName": last, "title": title,
        "licenseClass": "F", "hireDate": "2019-03-01T00:00:00Z", "inactiveFlag": inactive,
        "officeEmail": "%s@%s" % (identifier, MEMBER_EMAIL_DOMAIN), "defaultEmail": "Office",
        "officePhone": "8135550%03d" % extension, "defaultPhone": "Office",
        "securityRole": {"id": SECURITY_ROLES[role], "name": role},
        "defaultLocation": {"name": location}, "defaultDepartment": {"identifier": "SVC"},
        "serviceDefaultBoard": {"name": "Service Desk"},
    }


def _load_custom_fields(collections):
    for pod, caption, field_type, entry, sequence in CUSTOM_FIELDS:
        body = {"podId": pod, "caption": caption, "fieldTypeIdentifier": field_type,
                "entryTypeIdentifier": entry, "sequenceNumber": sequence, "displayOnScreenFlag": True}
        if entry == "List":
            body["options"] = [{"optionValue": value} for value in PREFERRED_CONTACT_OPTIONS]
        collections["userDefinedFields"].create(body, when=timestamp(5))


def _ticket(collections, summary, company, board, status, priority, owner, contact, custom_values):
    ids = {udf["caption"]: udf["id"] for udf in collections["userDefinedFields"].on_pod(TICKET_POD_ID)}
    ticket = {
        "summary": summary, "company": {"identifier": company}, "board": {"name": board},
        "status": {"name": status}, "priority": {"name": priority},
        "customFields": [{"id": ids[caption], "value": value} for caption, value in custom_values.items()],
    }
    if owner:
        ticket["owner"] = {"identifier": owner}
    if contact:
        ticket["contactName"] = contact
    return ticket


def generated_status(number, new_tickets=None, generated=0):
    """The status of generated ticket ``number`` (from 1) of ``generated``."""
    if new_tickets is None:
        return GENERATED_STATUSES[number % len(GENERATED_STATUSES)]
    if number > generated - new_tickets:
        return NEW_STATUS
    others = GENERATED_STATUSES[1:]
    return others[number % len(others)]


def _generated_ticket(number, status):
    return {
        "summary": "Generated ticket %05d" % number,
        "company": {"identifier": CUSTOMERS[number % len(CUSTOMERS)]},
        "board": {"name": "Service Desk"},
        "status": {"name": status},
        "priority": {"name": GENERATED_PRIORITIES[number % len(GENERATED_PRIORITIES)]},
    }
