"""Query parameters as the sync-engine checked them (inbox/api/validation.py): each
endpoint names the ones it takes, anything else is refused with 400."""

from pouch import limits

from appliance.api.errors import bad_request

DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
MAX_INT = 2**53  # beyond this no timestamp or offset makes sense, and SQLite would overflow
VIEWS = ("count", "ids", "expanded")
PAGING = ("limit", "offset", "view")
IGNORED = ("limit", "offset")  # sent on single-object requests too (the Nylas SDKs do): no harm


def integer(name, text, low=0, high=MAX_INT):
    try:
        value = int(text.strip())
    except ValueError:
        raise bad_request(f"Invalid value for {name}: {text!r} is not an integer") from None
    if not low <= value <= high:
        raise bad_request(f"Invalid value for {name}: must be between {low} and {high}")
    return value


def boolean(name, text):
    lowered = text.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise bad_request(f"Invalid value for {name}: {text!r} is not true or false")


def object_id(name, text):
    """A numeric object id, as ids appear in the API's JSON."""
    number = limits.whole_number(text)
    if number is None:
        raise bad_request(f"Invalid {name}: {text!r}")
    return number


def checked(arguments, allowed):
    """Query arguments ({name: [values]}) as {name: last value}; unknown names are refused,
    but for paging where there is nothing to page (left out)."""
    unknown = sorted(set(arguments) - set(allowed) - set(IGNORED))
    if unknown:
        raise bad_request(f"Unknown parameter(s): {', '.join(unknown)}")
    return {name: values[-1] for name, values in arguments.items() if name in allowed}


def expanded(args):
    """Whether a single object (or delta) is asked for with ``view=expanded``, its only view."""
    view = args.get("view")
    if view not in (None, "expanded"):
        raise bad_request("view must be expanded here")
    return view == "expanded"


def paging(args):
    """limit, offset and view, with the sync-engine's defaults and bounds."""
    limit = integer("limit", args["limit"], 0, MAX_LIMIT) if "limit" in args else DEFAULT_LIMIT
    offset = integer("offset", args["offset"]) if "offset" in args else 0
    view = args.get("view")
    if view is not None and view not in VIEWS:
        raise bad_request(f"Invalid view: {view!r} (one of {', '.join(VIEWS)})")
    return limit, offset, view
