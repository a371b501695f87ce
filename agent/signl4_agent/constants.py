"""Named constants of the sync, and nothing else. Alert statuses are the client's ``AlertStatus``."""

from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_client import AlertStatus


class EventType:
    """``eventType`` of SIGNL4's outbound webhooks (names as signl4.com lists them)."""

    SIGNL_CREATED = 200
    SIGNL_STATUS_CHANGED = 201  # "Signl Confirmed / Signl Resolved": ``alert.statusCode`` says which
    SIGNL_ESCALATED = 202
    SIGNL_ANNOTATED = 203
    DUTY_STARTED = 300
    DUTY_ENDED = 301
    PUNCHED_IN = 302
    PUNCHED_OUT = 303


HAS_ANNOTATIONS = 2  # bit of an alert's ``flags``
ESCALATED_FLAGS = 16 | 32  # EscalatedToTeam, EscalatedToManager

# The store's alert status of a ticket whose Signl is not raised yet; else an AlertStatus.
NOT_RAISED = 0
STATUS_NAMES = {NOT_RAISED: "pending", AlertStatus.OPEN: "open", AlertStatus.ACKNOWLEDGED: "acknowledged",
                AlertStatus.CLOSED: "closed"}
TRANSITIONS = (AlertStatus.ACKNOWLEDGED, AlertStatus.CLOSED)
# A transition's name: metric label, intent key, ``status_mappings.*_<name>``, ``owner_assignment`` value.
TRANSITION_NAMES = {AlertStatus.ACKNOWLEDGED: "acknowledge", AlertStatus.CLOSED: "close"}

# The words the status custom field (``custom_fields.status``) holds, as the seed's rules test them.
ACKNOWLEDGED, RESOLVED = "Acknowledged", "Resolved"
STATUS_WORDS = {AlertStatus.ACKNOWLEDGED: ACKNOWLEDGED, AlertStatus.CLOSED: RESOLVED}

# Intent states. ``FORGET`` is no state: an executor's answer that it did nothing (a hint SIGNL4 did not
# confirm); the intent is deleted, its key free again for the real event.
PENDING, DONE, IGNORED = "pending", "done", "ignored"
FORGET = "forget"

# A ticket note's type, as Manage's UI names it (``notes.to_signl4.note_types``), and the note's flag that says it.
NOTE_TYPE_FLAGS = {"discussion": "detailDescriptionFlag", "internal": "internalAnalysisFlag",
                   "resolution": "resolutionFlag"}

DEFAULT_TENANT = "default"  # the one tenant of a configuration without ``tenants:``
