"""ansible-playbook -vvv over failure paths (malformed list-of-dicts options, unparseable URLs,
bad timeouts, a refused key, API errors that echo the credentials): no form of any secret in
the output, and no traceback. Slow (a real ansible-playbook run, about 6 s)."""

import base64
import os
from urllib.parse import quote, quote_plus

from tests.support.modules import recap, run_playbook

PLAYBOOK = os.path.join("tests", "integration", "playbooks", "secrets_failure_paths.yml")
# Secrets with characters that URL-encoding changes, so each form differs from the raw one.
PRIVATE_KEY = "S3cr3t/Pr1v@te+K3y=Zq9"
API_KEY = "Ap1-K3y/Secret+Value=77"
RECEIVER_TOKEN = "T0ken/Receiver+Value=55"
TEAM_SECRET = "Te@m/Secret+Value=31"
BASIC = "signl4demo+demopublic:" + PRIVATE_KEY


def b64(text):
    return base64.b64encode(text.encode()).decode()


def forms(secret):
    """Every form a secret could leak in; a cut-short one too (its first 12 characters)."""
    return {"raw": secret, "url": quote(secret, safe=""), "url-path": quote(secret), "url-plus": quote_plus(secret),
            "base64": b64(secret), "partial": secret[:12]}


def echo_body(secret, extra=()):
    """An error body that carries the secret in every form, in the message and in errors[]."""
    spelled = list(forms(secret).values()) + list(extra)
    return {"code": "InvalidObject", "message": "echo: " + " | ".join(spelled),
            "errors": [{"code": "Echo", "field": "x", "message": text} for text in spelled]
            + [{"nested": {"deeper": [spelled[0]]}}]}


def test_no_secret_in_any_form_at_vvv_on_failure_paths(manage, signl4):
    manage.inject(400, path="/system/callbacks", body=echo_body(PRIVATE_KEY, [b64(BASIC), "Basic " + b64(BASIC)]))
    signl4.inject(400, method="GET", path="/v2/webhooks", body=echo_body(API_KEY, forms(RECEIVER_TOKEN).values()))
    env = {"TEST_CW_URL": manage.url, "TEST_CW_PRIVATE_KEY": PRIVATE_KEY, "TEST_SIGNL4_URL": signl4.url,
           "TEST_SIGNL4_API_KEY": API_KEY, "TEST_SIGNL4_TEAM_SECRET": TEAM_SECRET, "TEST_RECEIVER_TOKEN": RECEIVER_TOKEN}
    result = run_playbook(PLAYBOOK, env, args=["-vvv"])
    output = result.stdout + result.stderr
    assert recap(result.stdout).get("ignored") == 10, output[-4000:]  # every task failed, none crashed the run
    assert "Traceback" not in output and "MODULE FAILURE" not in output, output[-4000:]
    leaks = []
    for name, secret in (("cw_private_key", PRIVATE_KEY), ("signl4_api_key", API_KEY),
                         ("signl4_team_secret", TEAM_SECRET), ("webhook token", RECEIVER_TOKEN)):
        for form, text in forms(secret).items():
            if text in output:
                leaks.append("%s (%s)" % (name, form))
    if b64(BASIC) in output:
        leaks.append("Basic authorization string (base64)")
    assert leaks == [], leaks
    # The failures say what is wrong, with the option's real name.
    for expected in ("cw_url is not a valid URL", "cw_timeout must be a positive, finite number",
                     "signl4_api_url is not a valid URL", "signl4_timeout must be a positive, finite number",
                     "returned HTTP 401", "events[0] must be a dictionary of options",
                     "options[0] must be a dictionary of options", "events[0].actions[0] must be a dictionary of options"):
        assert expected in output, expected
    # The echoed errors reached the output, masked (so the test really saw them).
    assert "echo: ********" in output
