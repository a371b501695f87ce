"""``check-config``: reach both APIs read-only and report what the sync will use."""

from ansible_collections.signl4.connectwise.plugins.module_utils.errors import (
    ApiError,
    InputError,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.transport import (
    RetryPolicy,
)

from signl4_agent.agent import build_manage, build_signl4
from signl4_agent.manage import (
    CUSTOM_FIELDS,
    TicketDesk,
    classify_trigger,
    classify_update,
)


def _manage(config, desk):
    report = {}
    fields = config["custom_fields"]
    for key in ("trigger", "update_signls", "update_tickets"):
        rule = desk.rule(config["workflows"][key])
        classify = classify_trigger(rule["events"], fields["retrieved"]) if key == "trigger" else \
            classify_update(rule["events"], fields["status"])
        report[config["workflows"][key]] = dict((role, event["name"]) for role, event in classify.items())
    captions = set(f.get("caption") for f in desk.client.list(CUSTOM_FIELDS, fields="caption"))
    missing = [name for name in fields.values() if name not in captions]
    if missing:
        raise InputError("custom field(s) missing in Manage: %s" % ", ".join(missing))
    return report


def check(config):
    retry = RetryPolicy(max_retries=1)
    report = dict(ok=True)
    with build_manage(config, retry) as manage, build_signl4(config, retry) as signl4:
        for side, probe in (("manage", lambda: _manage(config, TicketDesk(manage, config))),
                            ("signl4", lambda: dict(acting_user=signl4.user(config["signl4"]["acting_user"])["id"]))):
            try:
                report[side] = dict(ok=True, **probe())
            except (ApiError, InputError) as exc:
                report["ok"] = False
                report[side] = dict(ok=False, error=str(exc))
    return report
