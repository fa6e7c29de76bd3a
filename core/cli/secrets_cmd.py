"""Secrets and notifications: secrets (the HF token), notify (the job-end webhook).

Nothing here prints a secret back: only its masked form. The token is read from standard
input (or a hidden prompt), never from the command line, where it would stay in the history.
"""
from __future__ import annotations

import getpass
import sys

from core.cli.common import fail


def cmd_secrets(args) -> int:
    from core import credentials

    if args.action == "hf-token":
        if args.clear:
            credentials.set_hf_token(None)
            print("Hugging Face token removed")
            return 0
        token = (sys.stdin.readline() if not sys.stdin.isatty()
                 else getpass.getpass("Hugging Face token: ")).strip()
        if not token:
            fail("no token given on standard input")
        credentials.set_hf_token(token)
    print(f"hf token: {credentials.mask_token(credentials.hf_token())}")
    print(f"webhook:  {credentials.mask_url(credentials.notify_url())} "
          f"({credentials.global_notify_source()})")
    return 0


def cmd_notify(args) -> int:
    from core import credentials, notify

    if args.action == "set":
        if not args.url:
            fail("notify set needs a URL")
        credentials.set_notify_url(args.url)
    elif args.action == "clear":
        credentials.set_notify_url(None)
    elif args.action == "test":
        try:
            print(f"test notification accepted by {notify.send_test(args.url)}")
        except credentials.CredentialError:
            raise
        except Exception as exc:  # noqa: BLE001 -- the endpoint's answer, in one line
            fail(f"the test notification failed: {notify.describe(exc)}", 1)
        return 0
    print(f"webhook: {credentials.mask_url(credentials.notify_url())} "
          f"({credentials.global_notify_source()})")
    return 0


def register(sub) -> None:
    s = sub.add_parser("secrets", help="the Hugging Face token (stored 0600, shown masked)")
    s.add_argument("action", choices=("show", "hf-token"),
                   help="hf-token reads the token from standard input")
    s.add_argument("--clear", action="store_true", help="hf-token: remove the stored token")
    s.set_defaults(fn=cmd_secrets)

    s = sub.add_parser("notify", help="the webhook that hears when a job ends")
    s.add_argument("action", choices=("show", "set", "clear", "test"))
    s.add_argument("url", nargs="?", help="set: the webhook URL; test: a URL to try instead")
    s.set_defaults(fn=cmd_notify)
