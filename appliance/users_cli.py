"""`mailpouch-appliance user add`: accounts made from the command line (the first admin)."""

import getpass
import sys

import migrations
from appliance.store import Store, accounts
from appliance.store.errors import StoreError
from pouch.runtime.database import create_engine


def read_password(stream=sys.stdin):
    if stream.isatty():
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password again: "):
            raise StoreError("the two passwords differ")
        return first
    return stream.readline().rstrip("\r\n")


def add_user(settings, args, command):
    """Create the user; returns the process exit status (an error message on failure)."""
    engine = create_engine(settings.box.database)
    try:
        migrations.check_current("appliance", engine, command)
        store = Store(engine, settings.box.data_dir, settings.box.domain)
        with store.write() as conn:
            accounts.create_user(conn, args.name, store.domain, read_password(),
                                 display_name=args.display_name, is_admin=args.admin,
                                 allow_reserved=True)
    except (StoreError, migrations.SchemaOutOfDate) as error:
        return f"{command}: {error}"
    role = "admin" if args.admin else "user"
    print(f"created {role} {accounts.address_for(args.name, store.domain)}")
    return 0
