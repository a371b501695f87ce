"""The data a fresh (or reset) SIGNL4 emulator starts with.

One subscription with two teams, three users with e-mail addresses, a few categories and an
app catalogue that holds the "ConnectWise Manage" connector app. IDs are fixed so that tests
and the demo can name them; the flags of ``python -m tests.emulators.signl4`` override the
credentials and the first team's id.
"""

DEFAULT_API_KEY = "demo-signl4-api-key"
DEFAULT_TEAM_SECRET = "demoteamsecret"
DEFAULT_TEAM_ID = "5b0b1a5e-0000-4000-8000-00000000a001"
SECOND_TEAM_ID = "5b0b1a5e-0000-4000-8000-00000000a002"
SECOND_TEAM_SECRET = "netops42"
SUBSCRIPTION_ID = "0acf8014-0000-4000-8000-000000000001"

CONNECTWISE_APP_ID = "c0ecc7e0-0000-4000-8000-0000000000c1"
CONNECTWISE_APP_NAME = "ConnectWise Manage"

USERS = [
    dict(id="f0bd5063-0000-4000-8000-000000000001", name="Rene Admin", mail="rene@example.com"),
    dict(id="f0bd5063-0000-4000-8000-000000000002", name="Olivia Oncall", mail="olivia.oncall@example.com"),
    dict(id="f0bd5063-0000-4000-8000-000000000003", name="Nick Network", mail="nick@example.com"),
]

# team name -> (member e-mails, role id); role ids are the ones Derdack's scripts use.
TEAM_ADMIN_ROLE = "33333333-3333-3333-3333-333333333333"
USER_ROLE = "44444444-4444-4444-4444-444444444444"


def teams(team_id=DEFAULT_TEAM_ID):
    return [
        dict(id=team_id, name="Service Desk", timezone="W. Europe Standard Time",
             members=[(USERS[0]["id"], TEAM_ADMIN_ROLE), (USERS[1]["id"], USER_ROLE)]),
        dict(id=SECOND_TEAM_ID, name="Network Operations", timezone="UTC",
             members=[(USERS[0]["id"], TEAM_ADMIN_ROLE), (USERS[2]["id"], USER_ROLE)]),
    ]


def categories(team_id):
    """A default category and a ConnectWise one per team (``X-S4-Service`` picks by name)."""
    return [
        dict(name="Default", color="#FF7A00", imageName="alert.svg", keywordMatching=0, keywords=[],
             isDefault=True, order=0),
        dict(name="ConnectWise", color="#1F6FB2", imageName="ticket.svg", keywordMatching=0,
             keywords=["ticket", "connectwise"], isDefault=False, order=1),
    ]


def inventory():
    """The app catalogue. SIGNL4 does not publish the ConnectWise app's config keys, so ``config`` is null."""
    def app(script_id, name, short, script_type="Connector"):
        data = dict(name=name, description="%s connector app (emulated)." % name, shortDescription=short,
                    scriptType=script_type)
        return dict(scriptId=script_id, scriptName=name, data=data, config=None, eventPattern=None,
                    visibility="Public", localizationDetails=[dict(language="en", data=data, config=None)])
    return [
        app(CONNECTWISE_APP_ID, CONNECTWISE_APP_NAME, "Two-way integration with ConnectWise PSA (Manage)."),
        app("c0ecc7e0-0000-4000-8000-0000000000c2", "Jira Service Management", "Two-way integration with Jira."),
        app("c0ecc7e0-0000-4000-8000-0000000000c3", "Freshservice", "Two-way integration with Freshservice."),
        app("c0ecc7e0-0000-4000-8000-0000000000c4", "Autotask", "Two-way integration with Autotask PSA."),
    ]
