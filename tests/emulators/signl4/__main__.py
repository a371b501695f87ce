"""``python -m tests.emulators.signl4 --port PORT [--api-key K] [--team-secret S] [--team-id ID] [--rate-limit PLAN]``"""

from tests.emulators.server import run_main
from tests.emulators.signl4 import seed
from tests.emulators.signl4.emulator import Signl4Emulator


def configure(parser):
    parser.add_argument("--api-key", default=seed.DEFAULT_API_KEY,
                        help="the X-S4-Api-Key REST calls must send (default: %(default)s)")
    parser.add_argument("--team-secret", default=seed.DEFAULT_TEAM_SECRET,
                        help="the inbound webhook secret of the first team (default: %(default)s)")
    parser.add_argument("--team-id", default=seed.DEFAULT_TEAM_ID,
                        help="the id of the first team, 'Service Desk' (default: %(default)s)")
    parser.add_argument("--rate-limit", choices=["off", "free", "commercial"], default="off",
                        help="enforce SIGNL4's documented throttling of that plan (default: %(default)s)")


def build(args):
    return Signl4Emulator(api_key=args.api_key, team_secret=args.team_secret, team_id=args.team_id,
                          rate_limit=None if args.rate_limit == "off" else args.rate_limit)


build.__doc__ = Signl4Emulator.__doc__

if __name__ == "__main__":
    run_main(build, configure_parser=configure)
