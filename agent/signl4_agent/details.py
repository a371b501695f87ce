"""The "additional details" of a Signl: ticket data copied into the alert as parameters."""

MAX_ITEMS = 5
MAX_TEXT = 500


def _name(reference, key="name"):
    return (reference or {}).get(key) or (reference or {}).get("identifier")


def _lines(items, text_of):
    texts = [text_of(item) for item in items[-MAX_ITEMS:]]
    return "\n".join(t[:MAX_TEXT] for t in texts if t)


def collect(desk, ticket, wanted):
    """``{parameter name: text}`` for the details named in ``wanted`` (config ``details``)."""
    found = {"Ticket": str(ticket["id"]), "Summary": ticket.get("summary") or ""}
    simple = {"company": ("Company", lambda: _name(ticket.get("company"))),
              "contact": ("Contact", lambda: ticket.get("contactName") or _name(ticket.get("contact"))),
              "priority": ("Priority", lambda: _name(ticket.get("priority"))),
              "board": ("Board", lambda: _name(ticket.get("board")))}
    for detail in wanted:
        if detail in simple:
            label, value = simple[detail][0], simple[detail][1]()
        elif detail == "notes":
            label, value = "Notes", _lines(desk.notes(ticket["id"]), lambda n: n.get("text"))
        elif detail == "tasks":
            label, value = "Tasks", _lines(desk.related(ticket["id"], "tasks"),
                                           lambda t: ("[x] " if t.get("closedFlag") else "[ ] ") + (t.get("notes") or t.get("summary") or ""))
        else:
            label, value = "Configurations", _lines(desk.related(ticket["id"], "configurations"),
                                                    lambda c: c.get("deviceIdentifier") or c.get("name"))
        if value:
            found[label] = value
    return found
