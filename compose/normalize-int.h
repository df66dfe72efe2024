/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared by compose/normalize*.c: the walk's context, node builders and the error helper.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>

#include "compose/normalize.h"
#include "engine/base/macro.h"

struct norm {
    struct bt_arena *a;
    const struct compose_normalize_opts *o;
    const char *path; /* of the attribute being normalised, "services.web.ports" */
    bool uses_default_network;
};

/* A growing list of nodes or pairs in the arena (doubling; the waste stays under 2x). */
struct norm_list {
    struct compose_node **items;
    struct compose_pair *pairs;
    size_t n, cap;
};
void norm_list_push(struct bt_arena *a, struct norm_list *l, struct compose_node *item);
/* Drop the items equal to an earlier one (the first stays, order kept): two spellings of one
 * entry (a short and a long port) are one entry once normalised, and the schema wants list
 * items unique. */
void norm_list_dedupe(struct norm_list *l);
void norm_list_put(struct bt_arena *a, struct norm_list *l, struct compose_node *key,
                   struct compose_node *val);
struct compose_node *norm_list_seq(struct bt_arena *a, struct norm_list *l,
                                   const struct compose_pos *pos);
struct compose_node *norm_list_map(struct bt_arena *a, struct norm_list *l,
                                   const struct compose_pos *pos);

/* New nodes at pos. norm_str is a (quoted) string whatever it looks like; it points at s, which
 * must live as long as the model: a literal, or a string in the model's arena. */
struct compose_node *norm_str(struct bt_arena *a, const struct compose_pos *pos, const char *s);
struct compose_node *norm_int(struct bt_arena *a, const struct compose_pos *pos, long long v);
struct compose_node *norm_bool(struct bt_arena *a, const struct compose_pos *pos, bool v);
struct compose_node *norm_null(struct bt_arena *a, const struct compose_pos *pos);
/* The pairs of mapping m copied into a new mapping with room for `extra` more (norm_put). */
struct compose_node *norm_map_copy(struct bt_arena *a, const struct compose_node *m, size_t extra);
/* Replace key's value in m, or append the pair (m must have room: norm_map_copy). */
void norm_put(struct bt_arena *a, struct compose_node *m, const char *key,
              struct compose_node *val);
void norm_del(struct compose_node *m, const char *key);
bool norm_is_str(const struct compose_node *n);

/* An error at node n: "<path><suffix>: <message>"; suffix is like "[2]" or ".test" or "". */
int norm_fail(struct bt_err **err, const struct norm *x, const struct compose_node *n,
              const char *suffix, const char *fmt, ...) BT_PRINTF(5, 6);
/* Wrap an error a short-syntax parser set (it has no position) with n's position and path. */
int norm_fail_short(struct bt_err **err, const struct norm *x, const struct compose_node *n,
                    const char *suffix);

/* A path made absolute against the working directory ("~" against home), unless paths are not
 * resolved or it is a URL. */
const char *norm_path(struct norm *x, const char *p);

/* Scalar values as strings (labels, environment, driver_opts): a list of "k=v" or a mapping
 * becomes a mapping of strings (null stays null: "KEY" alone in a list). */
int norm_string_map(struct norm *x, const struct compose_node *v, struct compose_node **ret,
                    struct bt_err **err);

/* Labels: norm_string_map, with a label given without a value empty rather than null. */
int norm_labels(struct norm *x, const struct compose_node *v, struct compose_node **ret,
                struct bt_err **err);
/* s in lower case, in the arena. */
const char *norm_lower(struct bt_arena *a, const char *s);

int compose_normalize_service(struct norm *x, const char *name, const struct compose_node *svc,
                              struct compose_node **ret, struct bt_err **err);
