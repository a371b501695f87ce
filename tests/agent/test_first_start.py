"""The first start pages no old ticket (``filters.entered_after``, default ``first_start``).

The emulator's seed holds two unretrieved "New (not responded)" tickets on the Service Desk board,
entered on 2025-02-03 at 09:00 and 18:00 UTC: without a cut-off the first cycle would raise a Signl
for each of them."""

import time

import pytest

from tests.agent import support

from signl4_agent import cutoff
from signl4_agent.store import SqliteStore

OLD_MORNING, OLD_EVENING = "Email not syncing on CEO's phone", "Server CPU alert on SQL02"


@pytest.fixture
def make_agent(make_agent):
    """The shared fixture's agents (without a receiver), ``entered_after`` the agent's default unless given (the
    suite's default switches the cut-off off)."""

    def make(entered_after=support.UNSET, **overrides):
        return make_agent(receiver=False, filters={"entered_after": entered_after}, **overrides)

    return make


def paged(signl4):
    return sorted(alert["title"].split(": ", 1)[1] for alert in support.alerts(signl4))


def new_ticket_tests(manage):
    return [r for r in manage.requests() if r["path"].endswith("/system/workflows/1/events/1/test")]


def test_the_first_start_pages_new_tickets_only(make_agent, manage, signl4, cw):
    agent = make_agent()
    ticket = support.cycled_ticket(agent, cw, summary="Disk full on FS02")
    assert paged(signl4) == ["Disk full on FS02"]
    assert support.custom(cw.get("/service/tickets/%d" % ticket["id"]), "Signl4Retrieved_c") is True
    recorded = agent.store.get(cutoff.STATE_KEY)
    assert recorded == int(recorded) and time.time() - 600 < recorded <= time.time()
    # Manage does the filtering: the new-ticket event is tested with the cut-off as a condition
    assert "dateEntered >= [%s]" % cutoff.stamp(recorded) in new_ticket_tests(manage)[-1]["query"]["conditions"][0]


def test_a_callback_for_an_old_ticket_pages_nothing(make_agent, signl4, cw):
    agent = make_agent()
    old = cw.list("/service/tickets", conditions='summary = "%s"' % OLD_MORNING)[0]
    agent.cycle(old["id"])
    assert paged(signl4) == []


def test_the_first_start_is_recorded_once(make_agent, signl4, cw):
    """A restart (even with a clock an hour ahead) keeps the first start's cut-off: a ticket entered
    between the first start and the restart still pages."""
    first = make_agent()
    recorded = first.store.get(cutoff.STATE_KEY)
    first.close()
    support.new_ticket(cw, summary="Entered while the agent was down")
    again = make_agent(clock=lambda: time.time() + 3600)
    again.cycle()
    assert again.store.get(cutoff.STATE_KEY) == recorded
    assert paged(signl4) == ["Entered while the agent was down"]


def test_a_state_from_before_the_cut_off_existed_pages_as_before(make_agent, manage, signl4, tmp_path):
    """An agent upgraded in place has no first start recorded, but a state: no cut-off."""
    store = SqliteStore(str(tmp_path / "state.db"))
    store.put("last_good_cycle", time.time() - 60)
    store.close()
    agent = make_agent()
    agent.cycle()
    assert agent.store.get(cutoff.STATE_KEY) == 0
    assert paged(signl4) == sorted([OLD_MORNING, OLD_EVENING])
    assert all("dateEntered" not in "".join(r["query"].get("conditions", [])) for r in new_ticket_tests(manage))


@pytest.mark.parametrize("setting", ["2025-02-03T12:00:00Z", "2025-02-03T14:00:00+02:00", "2025-02-03 12:00:00"])
def test_entered_after_sets_another_cut_off(make_agent, manage, signl4, setting):
    agent = make_agent(entered_after=setting)
    agent.cycle()
    assert paged(signl4) == [OLD_EVENING]
    assert "dateEntered >= [2025-02-03T12:00:00Z]" in new_ticket_tests(manage)[-1]["query"]["conditions"][0]


def test_the_trigger_query_is_cut_off_too(make_agent, manage, signl4):
    """The query selects two tickets no workflow event selects, entered at 10:00 and 15:00."""
    selects = 'summary in ("Printer offline - 2nd floor", "Backup job failed on FS01")'
    agent = make_agent(entered_after="2025-02-03T12:00:00Z", trigger_query={"conditions": selects})
    agent.cycle()
    assert paged(signl4) == ["Backup job failed on FS01", OLD_EVENING]
    queries = [r for r in manage.requests() if r["path"].endswith("/service/tickets") and r["method"] == "GET"]
    assert "dateEntered >= [2025-02-03T12:00:00Z]" in queries[-1]["query"]["conditions"][0]


def test_a_manage_that_ignores_the_condition_still_pages_no_old_ticket(make_agent, manage, signl4):
    """Should Manage's /test not apply the extra conditions (its shape is unpublished), the agent reads
    ``_info.dateEntered`` of what comes back."""
    agent = make_agent()
    matching = agent.desk.matching
    agent.desk.matching = lambda rule, event, ticket_id=None, conditions=None: matching(rule, event, ticket_id)
    agent.cycle()
    assert paged(signl4) == []
    assert all("conditions" not in r["query"] for r in new_ticket_tests(manage))


def test_the_date_check_of_single_tickets():
    at = cutoff.parse_timestamp("2025-02-03T12:00:00Z")
    tickets = [{"id": 1, "_info": {"dateEntered": "2025-02-03T11:59:59Z"}},
               {"id": 2, "_info": {"dateEntered": "2025-02-03T12:00:00Z"}},
               {"id": 3, "_info": {"dateEntered": "2025-02-03T12:00:00.5+00:00"}},
               {"id": 4, "_info": {"dateEntered": "2025-02-03T13:59:00+02:00"}},  # 11:59 UTC
               {"id": 5, "_info": {"dateEntered": "yesterday"}},  # unreadable: Manage's filter decides
               {"id": 6}, {"id": 7, "_info": None}]
    assert [t["id"] for t in cutoff.since(at, tickets)] == [2, 3, 5, 6, 7]
    assert [t["id"] for t in cutoff.since(None, tickets)] == [1, 2, 3, 4, 5, 6, 7]
