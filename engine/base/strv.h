/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NULL-terminated arrays of owned strings (argv, environments, lists from JSON). Every
 * function accepts NULL as the empty array.
 */
#pragma once

#include <stddef.h>

/* Frees every string and the array; returns NULL. */
char **bt_strv_free(char **v);
size_t bt_strv_len(char *const *v);
/* A deep copy (NULL for NULL). */
char **bt_strv_copy(char *const *v);
/* "KEY=VALUE" entries: base with each entry of add replacing the one of the same KEY in place,
 * or appended. A new array of new strings. */
char **bt_strv_env_merge(char *const *base, char *const *add);
