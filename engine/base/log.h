/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logging: one event per line, "UTC-timestamp level tag message". Each .c file defines LOG_TAG
 * before including this header. Below the orchestrator, modules log at debug only, plus one warn
 * for a degradation they survive. Bytes from the outside are escaped with bt_log_escape().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "engine/base/macro.h"

enum bt_log_level { BT_LOG_ERROR, BT_LOG_WARN, BT_LOG_INFO, BT_LOG_DEBUG };

#ifndef LOG_TAG
#define LOG_TAG "berth"
#endif

/* Log settings are process-wide (the one mutable global STYLE.md allows). */
void bt_log_set_level(enum bt_log_level level);
enum bt_log_level bt_log_get_level(void);
/* Where lines go: fd_file (or -1) and, when also_stderr, standard error. */
void bt_log_set_target(int fd_file, bool also_stderr);
/* Parse "error|warn|info|debug"; returns 0 or -EINVAL. */
int bt_log_level_parse(const char *s, enum bt_log_level *ret_level);

void bt_log_write(enum bt_log_level level, const char *tag, const char *fmt, ...) BT_PRINTF(3, 4);
/* Appends ": strerror(-r)" and returns r (negative). */
int bt_log_write_errno(enum bt_log_level level, const char *tag, int r, const char *fmt, ...)
    BT_PRINTF(4, 5);

/* Escape bytes for a log line: printable ASCII kept, the rest as \xNN; at most max input bytes.
 * Returns a new string, caller frees. */
char *bt_log_escape(const void *data, size_t len, size_t max);

#define bt_log_error(...) bt_log_write(BT_LOG_ERROR, LOG_TAG, __VA_ARGS__)
#define bt_log_warn(...) bt_log_write(BT_LOG_WARN, LOG_TAG, __VA_ARGS__)
#define bt_log_info(...) bt_log_write(BT_LOG_INFO, LOG_TAG, __VA_ARGS__)
#define bt_log_debug(...)                                                                          \
    do {                                                                                           \
        if (bt_log_get_level() >= BT_LOG_DEBUG)                                                    \
            bt_log_write(BT_LOG_DEBUG, LOG_TAG, __VA_ARGS__);                                      \
    } while (0)
#define bt_log_error_errno(r, ...) bt_log_write_errno(BT_LOG_ERROR, LOG_TAG, r, __VA_ARGS__)
#define bt_log_warn_errno(r, ...) bt_log_write_errno(BT_LOG_WARN, LOG_TAG, r, __VA_ARGS__)
#define bt_log_debug_errno(r, ...) bt_log_write_errno(BT_LOG_DEBUG, LOG_TAG, r, __VA_ARGS__)
