"""Masking of secrets in every form a text can carry them."""

import base64
import re
from urllib.parse import quote, quote_plus

import pytest

from ansible_collections.signl4.connectwise.plugins.module_utils.redaction import MASK, Redactor

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
