/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The option parser every command uses: "--name value", "--name=value", "-x value", "-xvalue",
 * grouped short flags ("-dT"), "--" to end options, "-" as a positional. Values are checked
 * against their allowed choices; unknown flags name the closest known one.
 */
#include <string.h>

#include "engine/base/alloc.h"
#include "engine/base/parse.h"
#include "orchestrator/cli/cli.h"

/* "berth" + " " + command, or just "berth" for the global flags. */
#define SEP(u) ((u)->cmd[0] ? " " : "")

void
cli_args_release(struct cli_args *a)
{
    free(a->vals);
    free(a->pos);
    free(a->owned);
    *a = (struct cli_args){ 0 };
}

static void
add_val(struct cli_args *a, size_t opt, const char *val)
{
    a->vals = bt_xgrow(a->vals, &a->vals_cap, a->nvals + 1, sizeof *a->vals);
    a->vals[a->nvals++] = (struct cli_val){ (unsigned) opt, val };
}

static void
add_pos(struct cli_args *a, char *arg)
{
    a->pos = bt_xgrow(a->pos, &a->pos_cap, a->npos + 1, sizeof *a->pos);
    a->pos[a->npos++] = arg;
}

static int
unknown_long(const struct cli_opt *opts, size_t nopts, const char *name, size_t len,
             const struct cli_usage *u, struct bt_err **err)
{
    bt_autofree char *given = bt_xasprintf("--%.*s", (int) len, name);
    const char *cands[64 + 1];
    bt_autofree char *storage = bt_xcalloc(nopts + 1, 64);
    size_t n = 0;
    for (size_t i = 0; i < nopts && n < 64; i++) {
        if (opts[i].flags & CLI_OPT_HIDDEN)
            continue;
        snprintf(storage + n * 64, 64, "--%s", opts[i].name);
        cands[n] = storage + n * 64;
        n++;
    }
    cands[n++] = "--help";
    const char *close = bt_str_closest(given, cands, n);
    int r = bt_err_set(err, BT_EUSAGE, "unknown flag '%s' for 'berth%s%s'", given, SEP(u), u->cmd);
    if (close)
        bt_err_hint(err, "did you mean '%s'? See 'berth%s%s --help'.", close, SEP(u), u->cmd);
    else
        bt_err_hint(err, "see 'berth%s%s --help'", SEP(u), u->cmd);
    return r;
}

static int
check_choice(const struct cli_opt *o, const char *val, const struct cli_usage *u,
             struct bt_err **err)
{
    if (!o->choices)
        return 0;
    char list[256] = "";
    for (size_t i = 0; o->choices[i]; i++) {
        if (strcmp(o->choices[i], val) == 0)
            return 0;
        size_t n = strlen(list);
        snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", o->choices[i]);
    }
    size_t n = 0;
    while (o->choices[n])
        n++;
    int r = bt_err_set(err, BT_EUSAGE, "invalid value '%s' for '--%s' of 'berth%s%s'", val, o->name,
                       SEP(u), u->cmd);
    const char *close = bt_str_closest(val, o->choices, n);
    if (close)
        bt_err_hint(err, "did you mean '%s'? Valid values: %s", close, list);
    else
        bt_err_hint(err, "valid values: %s", list);
    return r;
}

static int
take_value(struct cli_args *a, size_t oi, const char *inline_val, int argc, char **argv, int *i,
           const struct cli_usage *u, struct bt_err **err)
{
    const struct cli_opt *o = &a->opts[oi];
    const char *val = inline_val;
    if (!o->arg) {
        if (inline_val)
            return bt_err_set(err, BT_EUSAGE, "flag '--%s' of 'berth%s%s' takes no value", o->name,
                              SEP(u), u->cmd);
        add_val(a, oi, NULL);
        return 0;
    }
    if (!val) {
        if (*i + 1 >= argc)
            return bt_err_set(err, BT_EUSAGE, "flag '--%s' of 'berth%s%s' needs a value (%s)",
                              o->name, SEP(u), u->cmd, o->arg);
        val = argv[++*i];
    }
    if (check_choice(o, val, u, err) < 0)
        return -BT_EUSAGE;
    add_val(a, oi, val);
    return 0;
}

static int
find_long(const struct cli_opt *opts, size_t nopts, const char *name, size_t len)
{
    for (size_t i = 0; i < nopts; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
            return (int) i;
    return -1;
}

static int
find_short(const struct cli_opt *opts, size_t nopts, char c)
{
    for (size_t i = 0; i < nopts; i++)
        if (opts[i].shrt == c)
            return (int) i;
    return -1;
}

int
cli_args_parse(struct cli_args *a, const struct cli_opt *opts, size_t nopts, int argc, char **argv,
               unsigned flags, const struct cli_usage *u, struct bt_err **err)
{
    *a = (struct cli_args){ .opts = opts, .nopts = nopts };
    bool only_pos = false;
    for (int i = 0; i < argc; i++) {
        char *arg = argv[i];
        if (only_pos || arg[0] != '-' || arg[1] == '\0') {
            add_pos(a, arg);
            if (flags & CLI_PARSE_STOP_AT_POSITIONAL)
                only_pos = true;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_pos = true;
            continue;
        }
        if (arg[1] == '-') {
            const char *name = arg + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t) (eq - name) : strlen(name);
            int oi = find_long(opts, nopts, name, len);
            if (oi < 0 && len == 4 && strncmp(name, "help", 4) == 0) {
                cli_help_print(stdout, u, opts, nopts);
                return 1;
            }
            if (oi < 0)
                return unknown_long(opts, nopts, name, len, u, err);
            if (take_value(a, (size_t) oi, eq ? eq + 1 : NULL, argc, argv, &i, u, err) < 0)
                return -BT_EUSAGE;
            continue;
        }
        /* One or more short options: "-d", "-dT", "-fFILE", "-f FILE". */
        for (const char *s = arg + 1; *s; s++) {
            int oi = find_short(opts, nopts, *s);
            if (oi < 0 && *s == 'h') {
                cli_help_print(stdout, u, opts, nopts);
                return 1;
            }
            if (oi < 0) {
                int r = bt_err_set(err, BT_EUSAGE,
                                   "unknown shorthand flag '%c' in '%s' for "
                                   "'berth%s%s'",
                                   *s, arg, SEP(u), u->cmd);
                bt_err_hint(err, "see 'berth%s%s --help'", SEP(u), u->cmd);
                return r;
            }
            if (opts[oi].arg) {
                const char *inl = s[1] ? s + 1 : NULL;
                if (take_value(a, (size_t) oi, inl, argc, argv, &i, u, err) < 0)
                    return -BT_EUSAGE;
                break;
            }
            add_val(a, (size_t) oi, NULL);
        }
    }
    return 0;
}

struct cli_opt *
cli_opts_join(const struct cli_opt *opts, size_t nopts, const struct cli_opt *more, size_t nmore,
              size_t *ret_n)
{
    struct cli_opt *t = bt_xcalloc(nopts + nmore + 1, sizeof *t);
    size_t n = 0;
    for (size_t i = 0; i < nopts; i++)
        t[n++] = opts[i];
    for (size_t i = 0; i < nmore; i++) {
        if (find_long(opts, nopts, more[i].name, strlen(more[i].name)) >= 0)
            continue;
        t[n] = more[i];
        if (t[n].shrt && find_short(opts, nopts, t[n].shrt) >= 0)
            t[n].shrt = 0;
        n++;
    }
    *ret_n = n;
    return t;
}

static int
index_of(const struct cli_args *a, const char *name)
{
    int oi = find_long(a->opts, a->nopts, name, strlen(name));
    BT_ASSERT(oi >= 0); /* asking for an option the table lacks is a programming error */
    return oi;
}

bool
cli_args_has(const struct cli_args *a, const char *name)
{
    unsigned oi = (unsigned) index_of(a, name);
    for (size_t i = 0; i < a->nvals; i++)
        if (a->vals[i].opt == oi)
            return true;
    return false;
}

const char *
cli_args_get(const struct cli_args *a, const char *name)
{
    unsigned oi = (unsigned) index_of(a, name);
    const char *v = NULL;
    for (size_t i = 0; i < a->nvals; i++)
        if (a->vals[i].opt == oi)
            v = a->vals[i].val;
    return v;
}

const char *
cli_args_nth(const struct cli_args *a, const char *name, size_t n)
{
    unsigned oi = (unsigned) index_of(a, name);
    for (size_t i = 0; i < a->nvals; i++)
        if (a->vals[i].opt == oi && n-- == 0)
            return a->vals[i].val;
    return NULL;
}

void
cli_help_print(FILE *f, const struct cli_usage *u, const struct cli_opt *opts, size_t nopts)
{
    fprintf(f, "Usage:  berth %s %s\n\n%s\n", u->cmd, u->synopsis, u->summary);
    fprintf(f, "\nOptions:\n");
    for (size_t i = 0; i < nopts; i++) {
        const struct cli_opt *o = &opts[i];
        if (o->flags & CLI_OPT_HIDDEN)
            continue;
        char left[64];
        snprintf(left, sizeof left, "%c%c%s--%s%s%s", o->shrt ? '-' : ' ', o->shrt ? o->shrt : ' ',
                 o->shrt ? ", " : "  ", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        fprintf(f, "  %-30s %s", left, o->help);
        if (o->choices) {
            fprintf(f, " (");
            for (size_t k = 0; o->choices[k]; k++)
                fprintf(f, "%s%s", k ? "|" : "", o->choices[k]);
            fprintf(f, ")");
        }
        fputc('\n', f);
    }
    fprintf(f, "  %-30s %s\n", "-h, --help", "Show this help");
}
