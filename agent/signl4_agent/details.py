"""The "additional details" of a Signl: ticket data copied into the alert as parameters.

Every value comes from Manage and is taken only when it is text (a reference that is a string, a
note that is a number: left out)."""

from signl4_agent.records import name, text

MAX_ITEMS = 5
MAX_TEXT = 500


def _lines(items, text_of):
    texts = [text(text_of(item), MAX_TEXT) for item in items[-MAX_ITEMS:] if isinstance(item, dict)]
    return "\n".join(t for t in texts if t)


def _task(task):
    body = text(task.get("notes")) or text(task.get("summary")) or ""
    return ("[x] " if task.get("closedFlag") is True else "[ ] ") + body


def collect(desk, ticket, wanted):
    """``{parameter name: text}`` for the details named in ``wanted`` (config ``details``);
    ``ticket["id"]`` is a checked record id."""
    found = {"Ticket": str(ticket["id"]), "Summary": text(ticket.get("summary"), MAX_TEXT) or ""}
    simple = {"company": ("Company", lambda: name(ticket.get("company"))),
              "contact": ("Contact", lambda: text(ticket.get("contactName"), MAX_TEXT) or name(ticket.get("contact"))),
              "priority": ("Priority", lambda: name(ticket.get("priority"))),
              "board": ("Board", lambda: name(ticket.get("board")))}
    for detail in wanted:
        if detail in simple:
            label, value = simple[detail][0], simple[detail][1]()
        elif detail == "notes":
            label, value = "Notes", _lines(desk.notes(ticket["id"]), lambda n: n.get("text"))
        elif detail == "tasks":
            label, value = "Tasks", _lines(desk.related(ticket["id"], "tasks"), _task)
        else:
            label, value = "Configurations", _lines(desk.related(ticket["id"], "configurations"),
                                                    lambda c: text(c.get("deviceIdentifier")) or c.get("name"))
        if value:
            found[label] = value
    return found
