"""`mailpouch-appliance user ...`: the box's users from the command line (the first admin,
roles, passwords, suspension)."""

import getpass
import sys

import migrations
from appliance.store import Store, passwords, users
from appliance.store.errors import StoreError
from pouch.runtime.database import create_engine


def add_commands(commands):
    user = commands.add_parser("user", help="manage the box's users").add_subparsers(
        dest="user_command", required=True)
    add = user.add_parser("add", help="create a user (the password is asked, or read from stdin)")
    add.add_argument("name", help="the part of the address before @")
    add.add_argument("--admin", action="store_true", help="the user administers the box")
    add.add_argument("--display-name", default="")
    user.add_parser("list", help="the users: address, role, whether suspended, name")
    admin = user.add_parser("admin", help="make a user an admin")
    admin.add_argument("name", help="the name, or the whole address")
    admin.add_argument("--off", action="store_true", help="no longer an admin")
    password = user.add_parser("password", help="set a user's password (asked twice, or read from stdin)")
    password.add_argument("name", help="the name, or the whole address")
    suspend = user.add_parser("suspend", help="the user can no longer sign in; their mail stays")
    suspend.add_argument("name", help="the name, or the whole address")
    suspend.add_argument("--off", action="store_true", help="lift the suspension")


def read_password(stream=sys.stdin):
    if stream.isatty():
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password again: "):
            raise StoreError("the two passwords differ")
        return first
    return stream.readline().rstrip("\r\n")


def user_command(settings, args, command):
    """Run one `user` sub-command; returns the process exit status (an error message on failure)."""
    engine = create_engine(settings.box.database)
    try:
        migrations.check_current("appliance", engine, command)
        store = Store(engine, settings.box.data_dir, settings.box.domain)
        print(ACTIONS[args.user_command](store, args))
    except (StoreError, migrations.SchemaOutOfDate) as error:
        return f"{command}: {error}"
    finally:
        engine.dispose()
    return 0


def add_user(store, args):
    password = users.check_password(read_password())  # asked before the database is locked
    password_hash = passwords.hash_password(password)
    with store.write() as conn:
        users.create_user(conn, args.name, store.domain, password, display_name=args.display_name,
                             is_admin=args.admin, allow_reserved=True, password_hash=password_hash)
    return f"created {'admin' if args.admin else 'user'} {users.address_for(args.name, store.domain)}"


def list_users(store, _args):
    with store.read() as conn:
        rows = users.page(conn, 0, None)
    return "\n".join(f"{row['email']:40} {'admin' if row['is_admin'] else 'user':5} "
                     f"{'suspended' if row['suspended'] else 'active':9} {row['display_name']}".rstrip()
                     for row in rows) or "no users yet: mailpouch-appliance user add NAME --admin"


def set_admin(store, args):
    with store.write() as conn:
        user = find(conn, store, args.name)
        users.set_admin(conn, user["id"], not args.off)
    return f"{user['email']} is {'no longer' if args.off else 'now'} an admin"


def set_password(store, args):
    with store.read() as conn:
        find(conn, store, args.name)  # a wrong name is said before the password is asked
    password = users.check_password(read_password())
    password_hash = passwords.hash_password(password)
    with store.write() as conn:
        user = find(conn, store, args.name)
        users.set_password(conn, user["id"], password, password_hash=password_hash)
    return f"new password for {user['email']} (their sessions ended)"


def suspend(store, args):
    with store.write() as conn:
        user = find(conn, store, args.name)
        users.set_suspended(conn, user["id"], not args.off)
    return f"{user['email']} {'can sign in again' if args.off else 'is suspended (their mail stays)'}"


def find(conn, store, name):
    email = name if "@" in name else users.address_for(name, store.domain)
    user = users.find_by_email(conn, email)
    if user is None:
        raise StoreError(f"no user {email} (mailpouch-appliance user list shows them)")
    return user


ACTIONS = {"add": add_user, "list": list_users, "admin": set_admin, "password": set_password,
           "suspend": suspend}
