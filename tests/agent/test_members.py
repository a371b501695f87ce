"""Owner by e-mail: /system/members lists API members too (licenseClass "A", as real Manage does);
an API member is never made a ticket's owner, whatever its e-mail."""


from tests.agent import support

from signl4_agent import intents, sync


def api_member_with_email(cw, email):
    """An API member whose e-mail is ``email``: /system/members lists it with that office e-mail."""
    created = cw.create("/system/apiMembers", {"identifier": "s4bot", "name": "SIGNL4 bot", "emailAddress": email,
                                               "securityRole": {"name": "Admin"}, "defaultLocation": {"id": 1},
                                               "defaultDepartment": {"id": 1}})
    listed = cw.list("/system/members", conditions='officeEmail = "%s"' % email)
    assert [(m["id"], m["licenseClass"]) for m in listed if m["id"] == created["id"]] == [(created["id"], "A")]
    return created


def acknowledged_by_olivia(agent, signl4, cw):
    ticket = support.cycled_ticket(agent, cw)
    support.act(signl4, "acknowledge", ticket["id"])
    sync.poll_alerts(agent.ctx, 0)  # no receiver here: the poll brings the acknowledge
    intents.run_pending(agent.ctx)
    return cw.get("/service/tickets/%d" % ticket["id"])


def test_an_api_member_with_the_users_email_never_becomes_the_owner(make_agent, signl4, cw):
    api_member_with_email(cw, support.OLIVIA)
    agent = make_agent(receiver=False, owner_assignment="acknowledge")
    current = acknowledged_by_olivia(agent, signl4, cw)
    assert current["status"]["name"] == "In Progress"  # the acknowledge itself went through
    assert "owner" not in current or current["owner"] is None
    assert agent.metrics.errors.labels(kind="owner_unmatched")._value.get() == 1


def test_the_person_is_the_owner_when_an_api_member_shares_the_email(make_agent, signl4, cw):
    person = support.member_with_email(cw, "asmith", support.OLIVIA)
    api_member_with_email(cw, support.OLIVIA)
    agent = make_agent(receiver=False, owner_assignment="acknowledge")
    current = acknowledged_by_olivia(agent, signl4, cw)
    assert current["owner"]["id"] == person["id"]
    assert support.custom(current, "Signl4User_c") == support.OLIVIA
