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
/* A list being built: v stays NULL-terminated (NULL while empty), n counts the strings. */
struct bt_strv_builder {
    char **v;
    size_t n, cap;
};
/* Append s (stolen). */
void bt_strv_builder_push(struct bt_strv_builder *b, char *s_steal);
/* The array (never NULL; the caller owns it); the builder is empty again. */
char **bt_strv_builder_steal(struct bt_strv_builder *b);
void bt_strv_builder_release(struct bt_strv_builder *b);
#define bt_autostrv_builder __attribute__((cleanup(bt_strv_builder_release)))

/* "KEY=VALUE" entries: base with each entry of add replacing the one of the same KEY in place,
 * or appended. A new array of new strings. */
char **bt_strv_env_merge(char *const *base, char *const *add);
