/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NULL-terminated string arrays (strv.h).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/base/alloc.h"
#include "engine/base/strv.h"

char **
bt_strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
    return NULL;
}

size_t
bt_strv_len(char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

char **
bt_strv_copy(char *const *v)
{
    if (!v)
        return NULL;
    size_t n = bt_strv_len(v);
    char **out = bt_xcalloc(n + 1, sizeof *out);
    for (size_t i = 0; i < n; i++)
        out[i] = bt_xstrdup(v[i]);
    return out;
}

char **
bt_strv_env_merge(char *const *base, char *const *add)
{
    size_t nb = bt_strv_len(base), na = bt_strv_len(add), n = 0;
    char **out = bt_xcalloc(nb + na + 1, sizeof *out);
    for (size_t i = 0; i < nb; i++)
        out[n++] = bt_xstrdup(base[i]);
    for (size_t i = 0; i < na; i++) {
        size_t klen = strcspn(add[i], "=");
        size_t k = 0;
        while (k < n && !(strncmp(out[k], add[i], klen) == 0 && out[k][klen] == '='))
            k++;
        if (k < n) {
            free(out[k]);
            out[k] = bt_xstrdup(add[i]);
        } else {
            out[n++] = bt_xstrdup(add[i]);
        }
    }
    return out;
}

void
bt_strv_builder_push(struct bt_strv_builder *b, char *s_steal)
{
    b->v = bt_xgrow(b->v, &b->cap, b->n + 2, sizeof *b->v);
    b->v[b->n++] = s_steal;
    b->v[b->n] = NULL;
}

char **
bt_strv_builder_steal(struct bt_strv_builder *b)
{
    char **v = b->v ? b->v : bt_xcalloc(1, sizeof *v);
    *b = (struct bt_strv_builder){ 0 };
    return v;
}

void
bt_strv_builder_release(struct bt_strv_builder *b)
{
    b->v = bt_strv_free(b->v);
    *b = (struct bt_strv_builder){ 0 };
}
