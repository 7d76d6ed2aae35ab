"""The API's OpenAPI 3.0 description, built from the same parameter lists the handlers check."""

from appliance.api import base, delta, filters, mail, params, resources

NAMES = ("account", "thread", "message", "draft", "folder", "contact", "file")
BOOLEANS = {*filters.FLAGS, "smaller"}
INTEGERS = {"limit": (0, params.MAX_LIMIT), "offset": (0, params.MAX_INT),
            "timeout": (0, delta.MAX_TIMEOUT), "cursor": (0, params.MAX_INT),
            "version": (0, params.MAX_INT), **{name: (-params.MAX_INT, params.MAX_INT)
                                              for name in filters.TIMES}}
NUMBER = r"^[0-9]{1,18}$"
TYPES = "|".join(delta.TYPES)
PATH_IDS = {"file": r"^[au][0-9]{1,18}$", "folder": r"^(inbox|outbox|sent|drafts|trash)$"}
PEOPLE = {"type": "array", "items": {"type": "object", "required": ["email"], "properties": {
    "name": {"type": "string"}, "email": {"type": "string"}}}}


def _query(name, views=params.VIEWS):
    if name in BOOLEANS:
        schema = {"type": "boolean"}
    elif name in INTEGERS:
        low, high = INTEGERS[name]
        schema = {"type": "integer", "minimum": low, "maximum": high}
    elif name == "view":
        schema = {"type": "string", "enum": list(views)}
    elif name in ("include_types", "exclude_types"):
        schema = {"type": "string", "pattern": rf"^({TYPES})(,({TYPES}))*$"}
    elif name == "thread_id":
        schema = {"type": "string", "pattern": NUMBER}
    else:
        schema = {"type": "string"}
    return {"name": name, "in": "query", "required": name in ("cursor", "version"), "schema": schema}


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema):
    return {"application/json": {"schema": schema}}


def _operation(summary, query=(), result=None, body=None, path_id=None, statuses=(400, 401),
               views=params.VIEWS):
    """``path_id``: the kind of object the path's {id} names."""
    operation = {"summary": summary, "parameters": [_query(name, views) for name in query],
                 "responses": {"200": {"description": "OK", "content": _json(result or {})}}}
    if path_id:
        operation["parameters"].append({"name": "id", "in": "path", "required": True, "schema": {
            "type": "string", "pattern": PATH_IDS.get(path_id, NUMBER)}})
        statuses = (*statuses, 404)
    if body is not None:  # routes.OverLimit; a JSON body also 415 when compressed
        statuses = (*statuses, 413, *((415,) if "application/json" in body else ()))
    for status in statuses:
        operation["responses"][str(status)] = {"description": "Error", "content": _json(_ref("Error"))}
    if body is not None:
        operation["requestBody"] = {"required": True, "content": body}
    return operation


def _list(item):
    """A list of objects, of ids (view=ids), or a count (view=count)."""
    return {"anyOf": [{"type": "array", "items": item},
                      {"type": "array", "items": {"type": "string"}},
                      {"type": "object", "required": ["count"],
                       "properties": {"count": {"type": "integer"}}}]}


def _closed(properties, required=()):
    """A JSON object body: the handlers refuse fields they do not know."""
    return _json({"type": "object", "additionalProperties": False, "properties": properties,
                  **({"required": list(required)} if required else {})})


MARKS = _closed({"unread": {"type": "boolean"}, "starred": {"type": "boolean"},
                 "folder_id": {"type": "string", "enum": ["inbox", "sent", "drafts", "trash"]}})


def _draft_body(required=()):
    return _closed({
        "subject": {"type": "string"}, "body": {"type": "string"}, "to": PEOPLE, "cc": PEOPLE,
        "bcc": PEOPLE, "from": PEOPLE,
        "file_ids": {"type": "array", "items": {"type": "string", "pattern": PATH_IDS["file"]}},
        "reply_to_message_id": {"type": "string", "pattern": NUMBER, "nullable": True},
        "version": {"type": "integer", "minimum": 0, "maximum": params.MAX_INT}}, required)


def _send_body():
    """A draft inline, or a saved one by id and version."""
    body = _draft_body()
    body["application/json"]["schema"]["properties"]["draft_id"] = {"type": "string",
                                                                    "pattern": NUMBER}
    return body


def paths():
    listing = filters.NAMES
    delta_page = {"type": "object", "required": ["cursor_start", "cursor_end", "deltas"],
                  "properties": {"cursor_start": {"type": "string"},
                                 "cursor_end": {"type": "string"},
                                 "deltas": {"type": "array", "items": {"type": "object"}}}}
    cursor = {"type": "object", "properties": {"cursor": {"type": "string"}}}
    searched = mail.MessageSearchHandler.PARAMS["GET"]
    return {
        "/account": {"get": _operation("The token's account", result=_ref("account"))},
        "/threads": {"get": _operation("Threads, filtered", listing, _list(_ref("thread")))},
        "/threads/search": {"get": _operation("Threads whose mail holds the words of q", searched,
                                              {"type": "array", "items": _ref("thread")})},
        "/threads/{id}": {
            "get": _operation("One thread", ("view",), _ref("thread"), path_id="object",
                              views=["expanded"]),
            "put": _operation("Mark a thread's messages (unread, starred, folder_id)",
                              result=_ref("thread"), body=MARKS, path_id="object")},
        "/messages": {"get": _operation("Messages, filtered", listing, _list(_ref("message")))},
        "/messages/search": {"get": _operation("Messages holding the words of q, best first",
                                               searched, {"type": "array", "items": _ref("message")})},
        "/messages/{id}": {
            "get": _operation("One message (raw MIME with Accept: message/rfc822)", ("view",),
                              _ref("message"), path_id="object", views=["expanded"]),
            "put": _operation("Mark a message (unread, starred, folder_id)", result=_ref("message"),
                              body=MARKS, path_id="object")},
        "/drafts": {
            "get": _operation("Drafts", listing, _list(_ref("draft"))),
            "post": _operation("Save a new draft", result=_ref("draft"), body=_draft_body(),
                               statuses=(400, 401, 404))},
        "/drafts/{id}": {
            "get": _operation("One draft", result=_ref("draft"), path_id="object"),
            "put": _operation("Update a draft (needs its current version)", result=_ref("draft"),
                              body=_draft_body(["version"]), path_id="object",
                              statuses=(400, 401, 409)),
            "delete": _operation("Delete a draft (needs its current version)", ("version",),
                                 path_id="object", statuses=(400, 401, 409))},
        "/send": {"post": _operation(
            "Send a saved draft (draft_id, version), an inline draft, or raw MIME; queued for "
            "the next sync", result=_ref("message"), statuses=(400, 401, 404, 409),
            body={**_send_body(), "message/rfc822": {"schema": {"type": "string",
                                                                  "format": "binary"}}})},
        "/folders": {"get": _operation("Folders", params.PAGING, _list(_ref("folder")))},
        "/folders/{id}": {"get": _operation("One folder", result=_ref("folder"), path_id="folder")},
        "/labels": {"get": _operation("Labels: none, the box's accounts have folders",
                                      params.PAGING, _list(_ref("folder")))},
        "/contacts": {"get": _operation("Contacts", resources.ContactListHandler.PARAMS["GET"],
                                        _list(_ref("contact")))},
        "/contacts/{id}": {"get": _operation("One contact", result=_ref("contact"), path_id="object")},
        "/files": {
            "get": _operation("Files", resources.FileListHandler.PARAMS["GET"], _list(_ref("file"))),
            "post": _operation("Upload files (multipart/form-data); smaller=true shrinks photos to "
                               "1600 px first", resources.FileListHandler.PARAMS["POST"],
                               statuses=(400, 401, 429), result={
                "type": "array", "items": _ref("file")}, body={"multipart/form-data": {"schema": {
                    "type": "object", "required": ["file"], "properties": {"file": {"type": "string",
                                                              "format": "binary"}}}}})},
        "/files/{id}": {"get": _operation("One file", result=_ref("file"), path_id="file")},
        "/files/{id}/download": {"get": {**_operation("A file's bytes", path_id="file"),
                                         "responses": _download_responses()}},
        "/files/{id}/request": {"post": _operation(
            "Ask the relay for a file that waits there (state on_relay); it comes with the next "
            "sync", result=_ref("file"), path_id="file")},
        "/delta": {"get": _operation("Changes after a cursor, one page", delta.DELTA_PARAMS,
                                     delta_page, views=["expanded"])},
        "/delta/latest_cursor": {"post": _operation("The cursor of the latest change",
                                                    result=cursor)},
        "/delta/generate_cursor": {"post": _operation(
            "The cursor at a time", result=cursor, body=_closed(
                {"start": {"type": "integer", "minimum": 0, "maximum": params.MAX_INT}},
                required=["start"]))},
        "/delta/longpoll": {"get": _operation("Changes after a cursor, as soon as there are any",
                                              delta.LongPollHandler.PARAMS["GET"], delta_page,
                                              views=["expanded"])},
        "/delta/streaming": {"get": {**_operation(
            "Changes as they happen, one JSON object a line",
            delta.StreamingHandler.PARAMS["GET"], views=["expanded"]), "responses": {
                "200": {"description": "Deltas", "content": {
                    "application/x-ndjson": {"schema": {"type": "string"}}}}}}},
    }


def _download_responses():
    errors = {str(status): {"description": "Error", "content": _json(_ref("Error"))}
              for status in (400, 401, 404, 409)}
    return {"200": {"description": "The file", "content": {"*/*": {"schema": {
        "type": "string", "format": "binary"}}}}, **errors}


def schemas():
    found = {name: {"type": "object", "required": ["object", "id"], "properties": {
        "object": {"type": "string"}, "id": {"type": "string"},
        "account_id": {"type": "string"}}} for name in NAMES}
    found["Error"] = {"type": "object", "required": ["message", "type"], "properties": {
        "message": {"type": "string"}, "type": {"type": "string"}}}
    return found


def description(server_url="/api"):
    return {
        "openapi": "3.0.3",
        "info": {"title": "Mailpouch box API", "version": "1",
                 "description": "The Nylas sync-engine's REST API shapes, with per-user API "
                                "tokens (HTTP Basic with the token as username, or Bearer)."},
        "servers": [{"url": server_url}],
        "security": [{"basic": []}, {"bearer": []}],
        "components": {"securitySchemes": {"basic": {"type": "http", "scheme": "basic"},
                                           "bearer": {"type": "http", "scheme": "bearer"}},
                       "schemas": schemas()},
        "paths": paths(),
    }


class OpenAPIHandler(base.ApiHandler):
    """Public: a description holds no mail."""

    PARAMS = {"GET": ()}

    def prepare(self):
        pass

    def get(self):
        self.reply(description(self.request.path.rsplit("/", 1)[0]))
