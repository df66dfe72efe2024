/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Message encoding, decoding and shape checks for the control protocol. Pure logic: no I/O,
 * so the daemon, the CLI, the unit tests and the fuzzer share it.
 */
#include <string.h>

#include "engine/base/alloc.h"
#include "engine/base/parse.h"
#include "orchestrator/proto/proto.h"

static const char *const errc_names[] = {
    [ORCH_E_BAD_MESSAGE] = "bad_message",
    [ORCH_E_TOO_LARGE] = "message_too_large",
    [ORCH_E_HANDSHAKE] = "handshake_required",
    [ORCH_E_PROTO_MISMATCH] = "protocol_mismatch",
    [ORCH_E_UNKNOWN_OP] = "unknown_op",
    [ORCH_E_BAD_REQUEST] = "bad_request",
    [ORCH_E_PERMISSION] = "permission_denied",
    [ORCH_E_TOO_MANY] = "too_many_connections",
    [ORCH_E_SHUTTING_DOWN] = "shutting_down",
    [ORCH_E_NOT_FOUND] = "not_found",
    [ORCH_E_CONFLICT] = "conflict",
    [ORCH_E_UNSUPPORTED] = "unsupported",
    [ORCH_E_FAILED] = "failed",
    [ORCH_E_INTERNAL] = "internal",
};

static const char *const type_names[] = {
    [ORCH_MSG_HELLO] = "hello", [ORCH_MSG_REQUEST] = "request",   [ORCH_MSG_REPLY] = "reply",
    [ORCH_MSG_ERROR] = "error", [ORCH_MSG_PROGRESS] = "progress", [ORCH_MSG_EVENT] = "event",
};

const char *
orch_errc_str(enum orch_errc c)
{
    BT_ASSERT((size_t) c < BT_ARRAY_SIZE(errc_names));
    return errc_names[c];
}

enum orch_errc
orch_errc_from_code(int code)
{
    switch (code) {
    case BT_EUSAGE:
    case BT_EPARSE:
    case BT_EINVALID:
    case BT_ETOOBIG:
    case EINVAL:
        return ORCH_E_BAD_REQUEST;
    case ENOENT:
        return ORCH_E_NOT_FOUND;
    case EEXIST:
    case EBUSY:
    case BT_ECONFLICT:
        return ORCH_E_CONFLICT;
    case BT_EUNSUPPORTED:
    case EOPNOTSUPP:
        return ORCH_E_UNSUPPORTED;
    case EACCES:
    case EPERM:
        return ORCH_E_PERMISSION;
    default:
        return ORCH_E_FAILED;
    }
}

void
orch_msg_release(struct orch_msg *m)
{
    json_decref(m->root);
    m->root = NULL;
}

int
orch_msg_decode(const char *line, size_t len, struct orch_msg *ret, struct bt_err **err)
{
    json_error_t jerr;
    /* Depth and size are bounded: len is capped by the reader, jansson caps nesting at 2048. */
    json_t *root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return bt_err_set(err, BT_EPROTO, "message is not valid JSON: %s (column %d)", jerr.text,
                          jerr.column);
    /* Strings below are borrowed from root: every error is formatted before root is freed. */
    int r = 0;
    const char *type = json_string_value(json_object_get(root, "type"));
    int t = -1;
    json_t *id = json_object_get(root, "id");
    if (!json_is_object(root)) {
        r = bt_err_set(err, BT_EPROTO, "message is not a JSON object");
        goto fail;
    }
    if (!type) {
        r = bt_err_set(err, BT_EPROTO, "message has no string field 'type'");
        goto fail;
    }
    for (size_t i = 0; i < BT_ARRAY_SIZE(type_names); i++)
        if (strcmp(type, type_names[i]) == 0)
            t = (int) i;
    if (t < 0) {
        bt_autofree char *esc = bt_xstrndup(type, 64);
        r = bt_err_set(err, BT_EPROTO, "unknown message type '%s'", esc);
        goto fail;
    }
    if (id && (!json_is_integer(id) || json_integer_value(id) < 0)) {
        r = bt_err_set(err, BT_EPROTO, "message field 'id' is not a non-negative integer");
        goto fail;
    }
    if ((t == ORCH_MSG_REQUEST || t == ORCH_MSG_REPLY || t == ORCH_MSG_PROGRESS) && !id) {
        r = bt_err_set(err, BT_EPROTO, "'%s' message has no field 'id'", type_names[t]);
        goto fail;
    }
    if (t == ORCH_MSG_HELLO && !json_is_integer(json_object_get(root, "protocol"))) {
        r = bt_err_set(err, BT_EPROTO, "'hello' message has no integer field 'protocol'");
        goto fail;
    }
    if (t == ORCH_MSG_REQUEST) {
        json_t *args = json_object_get(root, "args");
        if (!json_is_string(json_object_get(root, "op")) || (args && !json_is_object(args))) {
            r = bt_err_set(err, BT_EPROTO,
                           "'request' needs a string 'op' and, if present, an object 'args'");
            goto fail;
        }
    }
    if (t == ORCH_MSG_ERROR && (!json_is_string(json_object_get(root, "code")) ||
                                !json_is_string(json_object_get(root, "message")))) {
        r = bt_err_set(err, BT_EPROTO, "'error' message needs string 'code' and 'message'");
        goto fail;
    }
    ret->type = (enum orch_msg_type) t;
    ret->root = root;
    ret->id = id ? json_integer_value(id) : -1;
    return 0;
fail:
    json_decref(root);
    return r;
}

char *
orch_msg_encode(const json_t *msg, size_t *ret_len)
{
    char *s = json_dumps(msg, JSON_COMPACT | JSON_REAL_PRECISION(9));
    if (!s)
        return NULL;
    size_t len = strlen(s);
    if (len + 1 > ORCH_PROTO_MAX_MSG) {
        free(s);
        return NULL;
    }
    char *line = bt_xrealloc(s, len + 2);
    line[len] = '\n';
    line[len + 1] = '\0';
    *ret_len = len + 1;
    return line;
}

json_t *
orch_msg_hello_client(void)
{
    return json_pack("{s:s, s:i, s:s}", "type", "hello", "protocol", ORCH_PROTO_VERSION, "client",
                     "berth " BERTH_VERSION);
}

json_t *
orch_msg_hello_daemon(pid_t pid)
{
    return json_pack("{s:s, s:i, s:s, s:I}", "type", "hello", "protocol", ORCH_PROTO_VERSION,
                     "daemon", BERTH_VERSION, "pid", (json_int_t) pid);
}

json_t *
orch_msg_request(json_int_t id, const char *op, json_t *args_steal)
{
    json_t *m = json_pack("{s:s, s:I, s:s}", "type", "request", "id", id, "op", op);
    if (args_steal)
        json_object_set_new(m, "args", args_steal);
    return m;
}

json_t *
orch_msg_reply(json_int_t id, json_t *result_steal)
{
    return json_pack("{s:s, s:I, s:o}", "type", "reply", "id", id, "result",
                     result_steal ? result_steal : json_object());
}

json_t *
orch_msg_progress(json_int_t id, json_t *data_steal)
{
    return json_pack("{s:s, s:I, s:o}", "type", "progress", "id", id, "data",
                     data_steal ? data_steal : json_object());
}

json_t *
orch_msg_error(json_int_t id, enum orch_errc code, const char *message, const char *hint)
{
    json_t *m = json_pack("{s:s, s:s, s:s}", "type", "error", "code", orch_errc_str(code),
                          "message", message);
    if (id >= 0)
        json_object_set_new(m, "id", json_integer(id));
    if (hint)
        json_object_set_new(m, "hint", json_string(hint));
    return m;
}

json_t *
orch_msg_error_from(json_int_t id, const struct bt_err *e)
{
    enum orch_errc code = e ? orch_errc_from_code(e->code) : ORCH_E_INTERNAL;
    json_t *m =
        orch_msg_error(id, code, e && e->msg ? e->msg : "unknown error", e ? e->hint : NULL);
    if (!e)
        return m;
    if (e->file)
        json_object_set_new(m, "file", json_string(e->file));
    if (e->line > 0) {
        json_object_set_new(m, "line", json_integer(e->line));
        json_object_set_new(m, "column", json_integer(e->col));
    }
    if (e->subject)
        json_object_set_new(m, "subject", json_string(e->subject));
    return m;
}

int
orch_msg_error_to(const struct orch_msg *m, struct bt_err **err)
{
    const json_t *r = m->root;
    const char *msg = json_string_value(json_object_get(r, "message"));
    const char *file = json_string_value(json_object_get(r, "file"));
    int line = (int) json_integer_value(json_object_get(r, "line"));
    int col = (int) json_integer_value(json_object_get(r, "column"));
    int ret = bt_err_set_at(err, file, line, col, BT_EDAEMON, "%s", msg ? msg : "unknown error");
    if (!err)
        return ret;
    const char *hint = json_string_value(json_object_get(r, "hint"));
    if (hint)
        (*err)->hint = bt_xstrdup(hint);
    const char *code = json_string_value(json_object_get(r, "code"));
    if (code)
        (*err)->remote = bt_xstrdup(code);
    const char *subject = json_string_value(json_object_get(r, "subject"));
    if (subject)
        (*err)->subject = bt_xstrdup(subject);
    return ret;
}
