/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control protocol between CLI and daemon: newline-delimited JSON objects over the UNIX
 * socket, each at most ORCH_PROTO_MAX_MSG bytes. A client opens with "hello"; then each
 * "request" (with an id) is answered by any number of "progress"/"event" messages and one final
 * "reply" or "error" carrying the same id. Descriptors (SCM_RIGHTS) ride on the first byte of a
 * message that announces them with "fds": N. schemas/protocol.schema.json is the contract.
 */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/base/err.h"

#define ORCH_PROTO_VERSION 1
#define ORCH_PROTO_MAX_MSG (8u << 20)

enum orch_msg_type {
    ORCH_MSG_HELLO,
    ORCH_MSG_REQUEST,
    ORCH_MSG_REPLY,
    ORCH_MSG_ERROR,
    ORCH_MSG_PROGRESS,
    ORCH_MSG_EVENT,
};

/* Stable error codes: scripts and the CLI rely on these strings. */
enum orch_errc {
    ORCH_E_BAD_MESSAGE,
    ORCH_E_TOO_LARGE,
    ORCH_E_HANDSHAKE,
    ORCH_E_PROTO_MISMATCH,
    ORCH_E_UNKNOWN_OP,
    ORCH_E_BAD_REQUEST,
    ORCH_E_PERMISSION,
    ORCH_E_TOO_MANY,
    ORCH_E_SHUTTING_DOWN,
    ORCH_E_NOT_FOUND,
    ORCH_E_CONFLICT,
    ORCH_E_UNSUPPORTED,
    ORCH_E_FAILED,
    ORCH_E_INTERNAL,
};

const char *orch_errc_str(enum orch_errc c);
/* The protocol code for an error of code err_code (errno or BT_E...). */
enum orch_errc orch_errc_from_code(int err_code);

/* A decoded message: the JSON object (owned) and its type. */
struct orch_msg {
    enum orch_msg_type type;
    json_t *root;
    json_int_t id; /* -1 when the message has none */
};

/* Decode one line (without its newline). On failure *err says what is wrong (BT_EPROTO). */
int orch_msg_decode(const char *line, size_t len, struct orch_msg *ret, struct bt_err **err);
void orch_msg_release(struct orch_msg *m);

/* Encode to one line ending in '\n'. Returns a new string, caller frees; NULL if too large. */
char *orch_msg_encode(const json_t *msg, size_t *ret_len);

/* Builders: each returns a new reference. */
json_t *orch_msg_hello_client(void);
json_t *orch_msg_hello_daemon(pid_t pid);
json_t *orch_msg_request(json_int_t id, const char *op, json_t *args_steal);
json_t *orch_msg_reply(json_int_t id, json_t *result_steal);
json_t *orch_msg_progress(json_int_t id, json_t *data_steal);
/* id < 0: a connection-level error with no request. */
json_t *orch_msg_error(json_int_t id, enum orch_errc code, const char *message, const char *hint);
/* An error message from a struct bt_err, keeping position, subject and hint. */
json_t *orch_msg_error_from(json_int_t id, const struct bt_err *e);
/* The reverse, for the CLI: a bt_err (BT_EDAEMON, remote code kept) from an error message. */
int orch_msg_error_to(const struct orch_msg *m, struct bt_err **err);
