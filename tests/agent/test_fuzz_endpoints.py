"""Bad input, pytest-sized: the generator of ``tests/bench/fuzz_agent.py`` against a running agent
(~1,000 requests, same classes and checks), broken configs through ``config.load`` and
``check-config``, and one focused test per defect the fuzz found."""

import base64
import os
import random

import pytest
import yaml

from signl4_agent import callbacks, inbound
from signl4_agent import config as config_module
from signl4_agent.store import SqliteStore
from tests.bench import fuzz_agent

REQUESTS = int(os.environ.get("AGENT_FUZZ_REQUESTS", "1000"))
CONFIGS = int(os.environ.get("AGENT_FUZZ_CONFIGS", "150"))


def seed():
    """Random per run unless AGENT_FUZZ_SEED is set; printed so a failure can be replayed."""
    value = int(os.environ.get("AGENT_FUZZ_SEED") or random.SystemRandom().randrange(10 ** 6))
    print("fuzz seed %d (AGENT_FUZZ_SEED=%d replays it)" % (value, value))
    return value


@pytest.mark.slow  # ~1,000 requests to an agent process
def test_malformed_requests_get_4xx_and_change_nothing(manage, signl4, tmp_path):
    target = fuzz_agent.Target(tmp_path, manage, signl4)
    try:
        target.start()
        outcome = fuzz_agent.fuzz_http(target, seed(), REQUESTS, progress=lambda line: None)
    finally:
        output = target.stop()
    assert outcome["tally"].total() == REQUESTS + 1  # and one stalled sender alongside
    failures = fuzz_agent.http_failures(outcome)
    assert not failures, "\n".join(failures)
    assert "Traceback" not in output


@pytest.mark.slow  # broken configs, some through the command line
def test_broken_configs_end_in_one_line_without_secrets(tmp_path):
    outcome = fuzz_agent.fuzz_configs(seed(), CONFIGS, CONFIGS // 3, tmp_path, progress=lambda line: None)
    assert outcome["cli_runs"] == 3
    assert outcome["failures"] == []


def test_the_generator_is_seeded():
    def first(count):
        generator = fuzz_agent.Generator(7, "w" * 20, "c" * 20, "127.0.0.1:1", "http://127.0.0.1:1/k?id=1", "key",
                                         [(1, "a", "e")])
        return [case.raw for case in generator.cases(count)]
    assert first(50) == first(50)
    assert set(fuzz_agent.WEIGHTS) == set(fuzz_agent.CLASSES)
    assert all(hasattr(generator_class, "make_" + kind) for kind in fuzz_agent.CLASSES
               for generator_class in [fuzz_agent.Generator])


# ----- inbound: each defect the fuzz found (503 or a write where a 4xx or "ignored" belongs) -------

@pytest.fixture
def store(tmp_path):
    store = SqliteStore(str(tmp_path / "state.db"))
    store.save_ticket(57, generation=1, alert_id="alert-57", event_id="event-57")
    store.save_ticket(58, generation=1, event_id="event-58")  # the alert id not learnt yet
    yield store
    store.close()


def annotation(external_id, alert_id, event_id="other-event"):
    return {"id": "delivery-1", "eventType": 203, "alert": {"id": alert_id, "eventId": event_id,
                                                            "externalEventId": external_id},
            "annotation": {"id": "note-1", "message": "hello"}}


def test_deeply_nested_json_is_a_bad_request():
    with pytest.raises(inbound.BadRequest) as caught:
        inbound.parse_json(b"[" * 60000 + b"]" * 60000)
    assert caught.value.status == 400


@pytest.mark.parametrize("external_id", ["\u00b2", "\u0661\u0662", "9" * 30, "0", str(2 ** 31)])
def test_an_external_id_that_is_no_ticket_id_is_ignored(store, external_id):
    assert inbound.outbound_intent(store, annotation(external_id, "alert-57")) == ("delivery-1", None)


def test_an_alert_that_is_not_the_tickets_signl_is_ignored(store):
    """An annotation of another alert with the ticket's number as external id wrote a ticket note."""
    assert inbound.outbound_intent(store, annotation("57", "someone-elses-alert")) == ("delivery-1", None)
    assert inbound.outbound_intent(store, annotation("58", "someone-elses-alert")) == ("delivery-1", None)
    assert inbound.accept_outbound(store, b'{"id": "d2", "eventType": 201, "alert": {"id": "x", "statusCode": 2, '
                                          b'"externalEventId": "57"}}') == "ignored"
    assert not store._one("SELECT COUNT(*) FROM deliveries")[0]  # nothing recorded
    assert not store._one("SELECT COUNT(*) FROM intents")[0]


def test_the_tickets_own_signl_still_counts(store):
    assert inbound.outbound_intent(store, annotation("57", "alert-57"))[1].key == "note:note-1"
    assert inbound.outbound_intent(store, annotation("58", "alert-58", "event-58"))[1].key == "note:note-1"
    store.save_ticket(59, generation=1)  # SIGNL4 answered the raise without an event id: the executor decides
    assert inbound.outbound_intent(store, annotation("59", "alert-59"))[1].key == "note:note-1"


KEY_URL = b"https://na.example.com/v2025_1/system/callbackkey/index.rails?companyName=c&id=1"


def signed_callback(record_id, key="k"):
    body = b'{"Type": "ticket", "ID": %s, "Metadata": {"key_url": "%s"}}' % (record_id, KEY_URL)
    return body, callbacks.signature(key, body)


def verifier_with_key():
    """A verifier for https://na.example.com whose key of ``KEY_URL`` is cached: no fetch, no thread."""
    def fetch(key_url, origin):
        raise AssertionError("no key is read in these tests")
    verifier = callbacks.CallbackVerifier(lambda: {("https", "na.example.com", 443)}, fetch, wake=lambda ticket: None)
    verifier.keys.put(KEY_URL.decode(), "k")
    return verifier


def test_a_signature_that_is_not_ascii_is_refused():
    body, unused = signed_callback(b"5")
    with pytest.raises(inbound.BadRequest) as caught:
        verifier_with_key().receive(body, "\u00ff" * 44, inbound.parse_json(body))
    assert caught.value.status == 401


@pytest.mark.parametrize("record_id", [b"0", b"-1", b"9223372036854775808", b'"\\u00b2"', b"true", b'"12a"'])
def test_a_callback_id_that_is_no_ticket_id_is_refused(record_id):
    body, signature = signed_callback(record_id)
    with pytest.raises(inbound.BadRequest) as caught:
        verifier_with_key().receive(body, signature, inbound.parse_json(body))
    assert caught.value.status == 400


def test_callback_ids_as_number_or_digits():
    verifier = verifier_with_key()
    for record_id in (b"57", b'"57"'):
        body, signature = signed_callback(record_id)
        assert verifier.receive(body, signature, inbound.parse_json(body)) == ("accepted", 57)


def test_the_signing_key_cache_is_bounded():
    verifier = verifier_with_key()
    for number in range(200):
        verifier.keys.put("https://na.example.com/x/system/callbackkey/index.rails?id=%d" % number, "k")
    assert len(verifier.keys) <= callbacks.MAX_KEYS


# ----- config: each defect the fuzz found (a traceback, a secret shown, memory without bound) ------

SECRET = "cwPriv-7f3a9c2e41d0b8aa"


def valid(tmp_path):
    return fuzz_agent.valid_config(tmp_path)


def with_key(raw, key, value):
    """``raw`` with ``key`` (``section.name`` or a top-level name) set to ``value``."""
    section, unused, name = key.rpartition(".")
    (raw[section] if section else raw)[name] = value
    return raw


def load_text(tmp_path, text, env=None):
    path = tmp_path / "agent.yml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    with pytest.raises(config_module.ConfigError) as caught:
        config_module.load(str(path), env=env or {})
    message = str(caught.value)
    assert "\n" not in message and len(message) < 500
    for secret in fuzz_agent.CONFIG_SECRETS.values():
        assert not any(form in message for form in fuzz_agent.secret_forms(secret)), message
    return message


def test_an_alias_bomb_is_not_printed(tmp_path):
    """``details`` as lists of lists by alias (9^7 leaves, a few kB of YAML): the error printed them all
    (hundreds of MB at the fuzz's depth of 10)."""
    bomb = "[&a0 [x, x, x, x, x, x, x, x, x]" + "".join(
        ", &a%d [%s]" % (n, ", ".join(["*a%d" % (n - 1)] * 9)) for n in range(1, 7)) + "]"
    message = load_text(tmp_path, yaml.safe_dump(valid(tmp_path)) + "details: %s\n" % bomb)
    assert message.startswith("details: unknown value(s) (a value not shown)")


def test_keys_that_are_not_strings_are_a_config_error(tmp_path):
    assert "unknown key" in load_text(tmp_path, yaml.safe_dump(valid(tmp_path)) + "1: x\n")
    raw = valid(tmp_path)
    raw["manage"][2.5] = "x"
    assert load_text(tmp_path, yaml.safe_dump(raw)).startswith("manage.(a float key): unknown key")


@pytest.mark.parametrize("path, message", [
    ("/dev/zero", "is not a regular file"), ("a\u0000b", "expected a path"), ("binary.key", "is not UTF-8 text"),
    ("huge.key", "is larger than"),
])
def test_secret_files_that_cannot_be_secrets(tmp_path, path, message):
    fuzz_agent.prepare_config_files(tmp_path)
    raw = valid(tmp_path)
    del raw["manage"]["private_key"]
    raw["manage"]["private_key_file"] = str(tmp_path / path) if path.endswith(".key") else path
    assert message in load_text(tmp_path, yaml.safe_dump(raw))


def test_a_file_that_is_not_utf8_or_too_large(tmp_path):
    assert "not UTF-8" in load_text(tmp_path, yaml.safe_dump(valid(tmp_path)).encode() + b"\xff\n")
    assert "larger than" in load_text(tmp_path, "# " + "x" * (2 * 1024 * 1024))


def test_a_yaml_error_does_not_quote_the_line_with_the_secret(tmp_path):
    text = yaml.safe_dump(valid(tmp_path)).replace("private_key: %s" % SECRET, "private_key: %s: [" % SECRET)
    assert "not valid YAML at line" in load_text(tmp_path, text)


@pytest.mark.parametrize("key, value", [
    ("owner_assignment", SECRET), ("details", ["company", SECRET]), ("signl4.plan", "teamSecret9z8y7x"),
    ("manage.url", "https://na.myconnectwise.net:%s/" % SECRET), ("signl4.api_url", "ftp://user:%s@host/" % SECRET),
    ("logging", {"level": "hookTok-aa11bb22cc33dd44"}), ("manage." + SECRET, "x"),
], ids=["owner_assignment", "details", "plan", "url", "api_url", "level", "key"])
def test_a_secret_in_the_wrong_place_is_not_shown(tmp_path, key, value):
    load_text(tmp_path, yaml.safe_dump(with_key(valid(tmp_path), key, value)))


def test_a_secret_only_in_the_environment_is_masked_too(tmp_path):
    raw = valid(tmp_path)
    del raw["signl4"]["team_secret"]
    raw["reopen"] = "envSecret"
    message = load_text(tmp_path, yaml.safe_dump(raw), env={"SIGNL4_TEAM_SECRET": "envSecret"})
    assert "envSecret" not in message and base64.b64encode(b"envSecret").decode() not in message


@pytest.mark.parametrize("key, value, message", [
    ("poll_interval", float("nan"), "poll_interval: must be a finite number"),
    ("poll_interval", 10 ** 400, "poll_interval: number out of range"),
    ("poll_interval", 10 ** 9, "poll_interval: must be at least 1 second and at most 86400"),
    ("manage.timeout", float("inf"), "manage.timeout: must be a finite number"),
    ("manage.timeout", 0, "manage.timeout: must be more than 0"),
    ("signl4.api_url", "ftp://host/", "signl4.api_url: must start with http:// or https://"),
    ("signl4.api_url", "http://host:99999/", "signl4.api_url: not a valid URL"),
    ("manage.url", "https://", "manage.url: not a valid URL"),
    ("listen.max_body_bytes", 10 ** 30, "listen.max_body_bytes: must be between"),
    ("listen.channel_timeout", 0, "listen.channel_timeout: must be between"),
])
def test_out_of_range_values(tmp_path, key, value, message):
    assert message in load_text(tmp_path, yaml.safe_dump(with_key(valid(tmp_path), key, value)))
