"""Masking of secrets in every form a text can carry them."""

import base64
import json
import re
from urllib.parse import quote, quote_plus

import pytest

from ansible_collections.signl4.connectwise.plugins.module_utils.redaction import MASK, Redactor, secret_forms, url_secret_parts

SECRET = "S3cr3t/Pr1v@te+K3y=Zq9"


@pytest.mark.parametrize("form", [
    SECRET, quote(SECRET, safe=""), quote(SECRET), quote_plus(SECRET), re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(SECRET, safe="")),
    base64.b64encode(SECRET.encode()).decode(), SECRET[:10], SECRET[-9:],
])
def test_every_form_of_a_secret_is_masked(form):
    masked = Redactor([SECRET]).text("before %s after" % form)
    assert masked == "before %s after" % MASK


def test_the_base64_basic_authorization_string_is_masked():
    basic = "signl4demo+demopublic:" + SECRET
    header = "Authorization: Basic " + base64.b64encode(basic.encode()).decode()
    assert Redactor([SECRET], basic_auth=basic).text(header) == "Authorization: Basic " + MASK


def test_a_secret_path_segment_is_masked_whatever_it_reads():
    redactor = Redactor(["the-whole-team-secret"], segment_after=("/webhook/",))
    # A proxy that cut the URL short, or re-encoded the secret differently.
    assert redactor.text("POST https://h/webhook/the-who") == "POST https://h/webhook/" + MASK
    assert redactor.text("https://h/webhook/x%2Dy?z=1") == "https://h/webhook/%s?z=1" % MASK


def test_json_values_are_masked_at_any_depth_keys_included():
    value = {"errors": [{"message": "bad " + SECRET, "n": 3, "ok": True, "nested": {SECRET: [None, SECRET]}}]}
    assert Redactor([SECRET]).value(value) == {
        "errors": [{"message": "bad " + MASK, "n": 3, "ok": True, "nested": {MASK: [None, MASK]}}]}


def test_short_pieces_of_text_are_not_masked():
    assert Redactor([SECRET]).text("S3cr3t is a word; so is Zq9") == "S3cr3t is a word; so is Zq9"
    assert Redactor([None, ""]).text("nothing to hide") == "nothing to hide"


# ----- secret URLs: the whole URL and its secret parts, in every encoding ---------------------------

RECEIVER = "https://agent.example.com/signl4/hook-token-0123456789abcdef"
QUERY_RECEIVER = "https://agent.example.com/signl4/events?token=T0ken/Receiver+Value=55&x=1"


@pytest.mark.parametrize("echo", [
    RECEIVER, quote(RECEIVER, safe=""), quote(RECEIVER, safe="").lower(), quote(quote(RECEIVER, safe=""), safe=""),
    "hook-token-0123456789abcdef", RECEIVER[:-6], json.dumps(RECEIVER),
    QUERY_RECEIVER, quote(QUERY_RECEIVER, safe=""), quote_plus(QUERY_RECEIVER), "T0ken/Receiver+Value=55",
    quote("T0ken/Receiver+Value=55", safe=""), quote(quote("T0ken/Receiver+Value=55", safe=""), safe=""),
], ids=lambda echo: echo[:40])
def test_a_secret_url_is_masked_as_a_whole_and_by_its_secret_parts_in_every_encoding(echo):
    masked = Redactor([RECEIVER, QUERY_RECEIVER]).text("SIGNL4 says: %s is not reachable" % echo)
    for secret in ("hook-token-0123456789abcdef", "T0ken/Receiver+Value=55"):
        assert not [form for form in secret_forms(secret) if form in masked], masked
    assert masked.startswith("SIGNL4 says: ") and MASK in masked


def test_a_secret_url_does_not_mask_what_every_url_starts_with():
    masked = Redactor([RECEIVER]).text("see https://docs.example.com/x and https://agent.example.com/healthz")
    assert masked == "see https://docs.example.com/x and https://agent.example.com/healthz"
    assert url_secret_parts(RECEIVER) == ["hook-token-0123456789abcdef"]
    assert url_secret_parts("not a url") == [] and url_secret_parts("http://[::1") == []
    assert url_secret_parts("https://user:pa55word-x@h/short?a=1&token=abcdefghij") == ["abcdefghij", "pa55word-x"]


def test_the_team_secret_segment_is_masked_in_a_url_percent_encoded_as_a_whole():
    secret = "Te@m/Secret+Value=31"
    redactor = Redactor(["other"], segment_after=("/webhook/",))  # the segment rule alone, whatever the secret
    inbound = "https://connect.signl4.com/webhook/" + quote(secret, safe="")
    for text in (quote(inbound, safe=""), quote(inbound, safe="").lower(), quote(inbound, safe="") + "%3Fx%3D1"):
        masked = redactor.text("unknown source %s." % text)
        assert "%2Fwebhook%2F" + MASK in masked.replace("%2f", "%2F")
        assert "Te" not in masked.split("webhook", 1)[1].split(MASK, 1)[0] and "Secret" not in masked
    assert redactor.text(quote(inbound, safe="") + "%3Fx%3D1").endswith(MASK + "%3Fx%3D1")
