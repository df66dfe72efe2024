/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pattern engine of the schema validator: the subset of RE2/ECMA-262 that schema-int.h
 * lists, parsed into a small tree, compiled to a Pike VM program and searched in linear time.
 * It answers only "does it match"; captures, flags and everything fancier are refused.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "compose/schema-int.h"
#include "engine/base/alloc.h"
#include "engine/base/utf8.h"

#define REPEAT_MAX 1000 /* the n and m of {n,m} */
#define NEST_MAX 64     /* groups inside groups */
#define PREFIX_MAX 32   /* bytes of the literal prefix an anchored pattern is screened with */
#define STACK_PROG 128  /* programs up to this size search without allocating */

enum re_op {
    OP_CHAR,  /* one code point */
    OP_ANY,   /* anything but '\n' */
    OP_CLASS, /* [...] */
    OP_BOL,   /* ^ */
    OP_EOL,   /* $ */
    OP_EMPTY, /* matches the empty string */
    OP_CAT,   /* a then b */
    OP_ALT,   /* a or b */
    OP_REPEAT /* a, min to max times (max -1: no limit) */
};

struct re_node {
    enum re_op op;
    uint32_t c; /* OP_CHAR: the code point; OP_CLASS: the class index */
    int a, b;   /* children (indexes into the node array) */
    int min, max;
};

struct re_class {
    bool neg;
    size_t n;
    uint32_t (*r)[2];  /* inclusive ranges */
    uint64_t ascii[2]; /* the answer for code points below 128, one bit each (neg applied) */
};

enum inst_op { I_CHAR, I_ANY, I_CLASS, I_BOL, I_EOL, I_SPLIT, I_JMP, I_MATCH };

struct inst {
    enum inst_op op;
    uint32_t c;
    int x, y; /* jump targets */
};

struct compose_re {
    struct inst *prog;
    size_t n;
    struct re_class *classes;
    size_t nclasses;
    /* A pattern starting with '^' and ASCII literals can only match a string starting with
     * them (nothing jumps into that straight run); when the program ends right after them,
     * the prefix is the whole answer. */
    bool anchored;
    unsigned char prefix[PREFIX_MAX];
    size_t nprefix;
    bool prefix_only;
};

struct parser {
    const char *p, *end;
    struct re_node *nodes;
    size_t nnodes, capnodes;
    struct re_class *classes;
    size_t nclasses, capclasses;
    int nest;
    char *why; /* set on the first error */
};

static int fail(struct parser *ps, const char *fmt, ...) BT_PRINTF(2, 3);

static int
fail(struct parser *ps, const char *fmt, ...)
{
    if (!ps->why) {
        va_list ap;
        va_start(ap, fmt);
        ps->why = bt_xvasprintf(fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int
node_add(struct parser *ps, enum re_op op, int a, int b)
{
    if (ps->nnodes >= COMPOSE_RE_MAX_PROGRAM)
        return fail(ps, "pattern too large");
    ps->nodes = bt_xgrow(ps->nodes, &ps->capnodes, ps->nnodes + 1, sizeof *ps->nodes);
    ps->nodes[ps->nnodes] = (struct re_node){ .op = op, .a = a, .b = b };
    return (int) ps->nnodes++;
}

static void
class_add(struct re_class *cl, uint32_t lo, uint32_t hi)
{
    size_t cap = cl->n;
    cl->r = bt_xrealloc(cl->r, (cap + 1) * sizeof *cl->r);
    cl->r[cl->n][0] = lo;
    cl->r[cl->n][1] = hi;
    cl->n++;
}

/* The ranges of \d, \w, \s (Go's ASCII definitions) into cl; false for another letter. */
static bool
class_add_perl(struct re_class *cl, char k)
{
    switch (k) {
    case 'd':
        class_add(cl, '0', '9');
        return true;
    case 'w':
        class_add(cl, '0', '9');
        class_add(cl, 'A', 'Z');
        class_add(cl, 'a', 'z');
        class_add(cl, '_', '_');
        return true;
    case 's':
        class_add(cl, '\t', '\n');
        class_add(cl, '\f', '\r');
        class_add(cl, ' ', ' ');
        return true;
    default:
        return false;
    }
}

static int
class_new(struct parser *ps, bool neg)
{
    ps->classes = bt_xgrow(ps->classes, &ps->capclasses, ps->nclasses + 1, sizeof *ps->classes);
    ps->classes[ps->nclasses] = (struct re_class){ .neg = neg };
    int n = node_add(ps, OP_CLASS, -1, -1);
    if (n >= 0)
        ps->nodes[n].c = (uint32_t) ps->nclasses;
    ps->nclasses++;
    return n;
}

/* The code point of a one-character escape (after the backslash), or -1 when it is not one. */
static int
escape_char(unsigned char k)
{
    static const char from[] = "ntrfv", to[] = "\n\t\r\f\v";
    const char *f = k ? strchr(from, k) : NULL;
    if (f)
        return to[f - from];
    if (k < 0x80 && k > ' ' &&
        !((k >= '0' && k <= '9') || (k >= 'a' && k <= 'z') || (k >= 'A' && k <= 'Z') || k == '_'))
        return k; /* escaped punctuation */
    return -1;
}

/* One member of a class: a code point, or -1 after adding a \d-like set; -2 on error. */
static int64_t
class_atom(struct parser *ps, struct re_class *cl)
{
    if (ps->p >= ps->end)
        return fail(ps, "missing ']'") - 1;
    if (*ps->p == '\\') {
        if (ps->p + 1 >= ps->end)
            return fail(ps, "trailing '\\'") - 1;
        char k = ps->p[1];
        ps->p += 2;
        if (class_add_perl(cl, k))
            return -1;
        int c = escape_char((unsigned char) k);
        if (c < 0)
            return fail(ps, "unsupported escape '\\%c' in a class", k) - 1;
        return c;
    }
    size_t w;
    uint32_t c = bt_utf8_next(ps->p, (size_t) (ps->end - ps->p), &w);
    ps->p += w;
    return c;
}

static int
parse_class(struct parser *ps)
{
    bool neg = ps->p < ps->end && *ps->p == '^';
    ps->p += neg;
    int n = class_new(ps, neg);
    if (n < 0)
        return -1;
    struct re_class *cl = &ps->classes[ps->nodes[n].c];
    bool first = true;
    while (ps->p >= ps->end || *ps->p != ']' || first) {
        if (ps->p < ps->end && *ps->p == '[' && ps->p + 1 < ps->end && ps->p[1] == ':')
            return fail(ps, "POSIX classes like [:alpha:] are not supported");
        first = false;
        int64_t lo = class_atom(ps, cl);
        if (lo == -2)
            return -1;
        if (lo == -1)
            continue;
        if (ps->end - ps->p >= 2 && ps->p[0] == '-' && ps->p[1] != ']') {
            ps->p++;
            int64_t hi = class_atom(ps, cl);
            if (hi == -2)
                return -1;
            if (hi < lo)
                return fail(ps, "bad range in a class");
            class_add(cl, (uint32_t) lo, (uint32_t) hi);
        } else {
            class_add(cl, (uint32_t) lo, (uint32_t) lo);
        }
    }
    ps->p++; /* ']' */
    return n;
}

static int parse_alt(struct parser *ps);

static int
parse_escape(struct parser *ps)
{
    if (ps->p >= ps->end)
        return fail(ps, "trailing '\\'");
    char k = *ps->p++;
    if (strchr("dwsDWS", k)) {
        bool neg = k >= 'A' && k <= 'Z';
        int n = class_new(ps, neg);
        if (n >= 0)
            (void) class_add_perl(&ps->classes[ps->nodes[n].c], (char) (k | 0x20));
        return n;
    }
    int c = escape_char((unsigned char) k);
    if (c < 0)
        return fail(ps, "unsupported escape '\\%c'", k);
    int n = node_add(ps, OP_CHAR, -1, -1);
    if (n >= 0)
        ps->nodes[n].c = (uint32_t) c;
    return n;
}

static int
parse_group(struct parser *ps)
{
    if (ps->end - ps->p >= 2 && ps->p[0] == '?' && ps->p[1] == ':')
        ps->p += 2;
    else if (ps->p < ps->end && ps->p[0] == '?')
        return fail(ps, "only (?:...) groups are supported");
    if (++ps->nest > NEST_MAX)
        return fail(ps, "groups nest too deep");
    int n = parse_alt(ps);
    ps->nest--;
    if (n < 0)
        return -1;
    if (ps->p >= ps->end || *ps->p != ')')
        return fail(ps, "missing ')'");
    ps->p++;
    return n;
}

static int
parse_atom(struct parser *ps)
{
    char c = *ps->p++;
    switch (c) {
    case '(':
        return parse_group(ps);
    case '[':
        return parse_class(ps);
    case '.':
        return node_add(ps, OP_ANY, -1, -1);
    case '^':
        return node_add(ps, OP_BOL, -1, -1);
    case '$':
        return node_add(ps, OP_EOL, -1, -1);
    case '\\':
        return parse_escape(ps);
    case '*':
    case '+':
    case '?':
        return fail(ps, "'%c' with nothing to repeat", c);
    case ')':
        return fail(ps, "unmatched ')'");
    default:
        break;
    }
    ps->p--;
    size_t w;
    uint32_t cp = bt_utf8_next(ps->p, (size_t) (ps->end - ps->p), &w);
    ps->p += w;
    int n = node_add(ps, OP_CHAR, -1, -1);
    if (n >= 0)
        ps->nodes[n].c = cp;
    return n;
}

/* A number of {n,m}; -1 when there is none. */
static int
parse_count(struct parser *ps)
{
    int v = -1;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
        v = (v < 0 ? 0 : v) * 10 + (*ps->p++ - '0');
        if (v > REPEAT_MAX)
            return -2;
    }
    return v;
}

/* {n}, {n,} or {n,m} at ps->p (after the '{'); false, with ps->p unchanged, when the text is
 * not one (then '{' is a literal, as in Go). */
static bool
parse_braces(struct parser *ps, int *ret_min, int *ret_max)
{
    const char *save = ps->p;
    int min = parse_count(ps), max = min;
    if (min >= 0 && ps->p < ps->end && *ps->p == ',') {
        ps->p++;
        max = parse_count(ps);
        if (max == -1)
            max = -3; /* no upper bound */
    }
    if (min < 0 || max == -2 || ps->p >= ps->end || *ps->p != '}') {
        if (min == -2 || max == -2)
            (void) fail(ps, "repeat count over %d", REPEAT_MAX);
        ps->p = save;
        return false;
    }
    ps->p++;
    *ret_min = min;
    *ret_max = max == -3 ? -1 : max;
    return true;
}

static int
parse_repeat(struct parser *ps)
{
    int n = parse_atom(ps);
    bool repeated = false;
    while (n >= 0 && ps->p < ps->end) {
        int min, max;
        char c = *ps->p;
        if (c == '*' || c == '+' || c == '?') {
            ps->p++;
            min = c == '+';
            max = c == '?' ? 1 : -1;
        } else if (c == '{' && (ps->p++, parse_braces(ps, &min, &max))) {
            if (max >= 0 && max < min)
                return fail(ps, "bad repeat {%d,%d}", min, max);
        } else {
            if (c == '{')
                ps->p--;
            break;
        }
        if (repeated)
            return fail(ps, "nested repetition");
        repeated = true;
        if (ps->p < ps->end && *ps->p == '?')
            ps->p++; /* lazy: same answer to "does it match" */
        int r = node_add(ps, OP_REPEAT, n, -1);
        if (r < 0)
            return -1;
        ps->nodes[r].min = min;
        ps->nodes[r].max = max;
        n = r;
    }
    return ps->why ? -1 : n;
}

static int
parse_cat(struct parser *ps)
{
    int n = -1;
    while (ps->p < ps->end && *ps->p != '|' && *ps->p != ')') {
        int m = parse_repeat(ps);
        if (m < 0)
            return -1;
        n = n < 0 ? m : node_add(ps, OP_CAT, n, m);
        if (n < 0)
            return -1;
    }
    return n < 0 ? node_add(ps, OP_EMPTY, -1, -1) : n;
}

static int
parse_alt(struct parser *ps)
{
    int n = parse_cat(ps);
    while (n >= 0 && ps->p < ps->end && *ps->p == '|') {
        ps->p++;
        int m = parse_cat(ps);
        if (m < 0)
            return -1;
        n = node_add(ps, OP_ALT, n, m);
    }
    return n;
}

/* ---- code generation ---- */

struct emitter {
    const struct parser *ps;
    struct inst *prog;
    size_t n, cap;
    bool too_big;
};

static int
emit(struct emitter *e, enum inst_op op, uint32_t c, int x, int y)
{
    if (e->n >= COMPOSE_RE_MAX_PROGRAM) {
        e->too_big = true;
        return 0;
    }
    e->prog = bt_xgrow(e->prog, &e->cap, e->n + 1, sizeof *e->prog);
    e->prog[e->n] = (struct inst){ op, c, x, y };
    return (int) e->n++;
}

static void gen(struct emitter *e, int node);

/* a{min,max}: a repeated min times, then max-min optional copies (or a star). A repeat that
 * cannot make progress still ends: the VM never adds one state twice per position. */
static void
gen_repeat(struct emitter *e, const struct re_node *nd)
{
    for (int i = 0; i < nd->min && !e->too_big; i++)
        gen(e, nd->a);
    if (nd->max < 0) {
        int split = emit(e, I_SPLIT, 0, 0, 0);
        gen(e, nd->a);
        emit(e, I_JMP, 0, split, 0);
        if (!e->too_big)
            e->prog[split] = (struct inst){ I_SPLIT, 0, split + 1, (int) e->n };
        return;
    }
    for (int i = nd->min; i < nd->max && !e->too_big; i++) {
        int split = emit(e, I_SPLIT, 0, 0, 0);
        gen(e, nd->a);
        if (!e->too_big)
            e->prog[split] = (struct inst){ I_SPLIT, 0, split + 1, (int) e->n };
    }
}

static void
gen(struct emitter *e, int node)
{
    const struct re_node *nd = &e->ps->nodes[node];
    if (e->too_big)
        return;
    switch (nd->op) {
    case OP_CHAR:
        emit(e, I_CHAR, nd->c, 0, 0);
        break;
    case OP_ANY:
        emit(e, I_ANY, 0, 0, 0);
        break;
    case OP_CLASS:
        emit(e, I_CLASS, nd->c, 0, 0);
        break;
    case OP_BOL:
        emit(e, I_BOL, 0, 0, 0);
        break;
    case OP_EOL:
        emit(e, I_EOL, 0, 0, 0);
        break;
    case OP_EMPTY:
        break;
    case OP_CAT:
        gen(e, nd->a);
        gen(e, nd->b);
        break;
    case OP_ALT: {
        int split = emit(e, I_SPLIT, 0, 0, 0);
        gen(e, nd->a);
        int jmp = emit(e, I_JMP, 0, 0, 0);
        int second = (int) e->n;
        gen(e, nd->b);
        if (!e->too_big) {
            e->prog[split] = (struct inst){ I_SPLIT, 0, split + 1, second };
            e->prog[jmp].x = (int) e->n;
        }
        break;
    }
    case OP_REPEAT:
        gen_repeat(e, nd);
        break;
    }
}

static bool class_has_slow(const struct re_class *cl, uint32_t c);

static void
class_fill_ascii(struct re_class *cl)
{
    for (uint32_t c = 0; c < 128; c++)
        if (class_has_slow(cl, c))
            cl->ascii[c >> 6] |= 1ull << (c & 63);
}

/* The literal prefix of an anchored program (see struct compose_re). */
static void
screen_init(struct compose_re *re)
{
    if (re->n == 0 || re->prog[0].op != I_BOL)
        return;
    re->anchored = true;
    size_t pc = 1;
    while (pc < re->n && re->prog[pc].op == I_CHAR && re->prog[pc].c < 0x80 &&
           re->nprefix < PREFIX_MAX) {
        re->prefix[re->nprefix++] = (unsigned char) re->prog[pc].c;
        pc++;
    }
    re->prefix_only = pc < re->n && re->prog[pc].op == I_MATCH;
}

int
compose_re_compile(const char *pattern, struct compose_re **ret_re, char **ret_why)
{
    size_t len = strlen(pattern);
    struct parser ps = { .p = pattern, .end = pattern + len };
    int root = -1;
    if (len > COMPOSE_RE_MAX_PATTERN)
        (void) fail(&ps, "pattern longer than %d bytes", COMPOSE_RE_MAX_PATTERN);
    else
        root = parse_alt(&ps);
    if (root >= 0 && ps.p < ps.end)
        (void) fail(&ps, "unmatched ')'");
    struct emitter e = { .ps = &ps };
    if (!ps.why) {
        gen(&e, root);
        emit(&e, I_MATCH, 0, 0, 0);
        if (e.too_big)
            (void) fail(&ps, "pattern too large");
    }
    free(ps.nodes);
    if (ps.why) {
        for (size_t i = 0; i < ps.nclasses; i++)
            free(ps.classes[i].r);
        free(ps.classes);
        free(e.prog);
        *ret_why = ps.why;
        return -EINVAL;
    }
    struct compose_re *re = bt_xcalloc(1, sizeof *re);
    *re = (struct compose_re){
        .prog = e.prog, .n = e.n, .classes = ps.classes, .nclasses = ps.nclasses
    };
    for (size_t i = 0; i < re->nclasses; i++)
        class_fill_ascii(&re->classes[i]);
    screen_init(re);
    *ret_re = re;
    return 0;
}

struct compose_re *
compose_re_free(struct compose_re *re)
{
    if (!re)
        return NULL;
    for (size_t i = 0; i < re->nclasses; i++)
        free(re->classes[i].r);
    free(re->classes);
    free(re->prog);
    free(re);
    return NULL;
}

/* ---- the VM ---- */

struct threads {
    int *pc;
    size_t n;
};

struct vm {
    const struct compose_re *re;
    unsigned *mark; /* the step a state was last added in */
    int *stack;
    size_t pos, len;
};

/* Add pc and what it leads to without consuming input (jumps, splits, anchors). */
static void
add_thread(struct vm *vm, struct threads *l, int pc, unsigned step)
{
    size_t sp = 0;
    vm->stack[sp++] = pc;
    while (sp > 0) {
        pc = vm->stack[--sp];
        if (vm->mark[pc] == step)
            continue;
        vm->mark[pc] = step;
        const struct inst *in = &vm->re->prog[pc];
        switch (in->op) {
        case I_JMP:
            vm->stack[sp++] = in->x;
            break;
        case I_SPLIT:
            vm->stack[sp++] = in->y; /* x on top: its order does not change the answer */
            vm->stack[sp++] = in->x;
            break;
        case I_BOL:
            if (vm->pos == 0)
                vm->stack[sp++] = pc + 1;
            break;
        case I_EOL:
            if (vm->pos == vm->len)
                vm->stack[sp++] = pc + 1;
            break;
        default:
            l->pc[l->n++] = pc;
            break;
        }
    }
}

static bool
class_has_slow(const struct re_class *cl, uint32_t c)
{
    bool in = false;
    for (size_t i = 0; i < cl->n && !in; i++)
        in = c >= cl->r[i][0] && c <= cl->r[i][1];
    return in != cl->neg;
}

static bool
class_has(const struct re_class *cl, uint32_t c)
{
    if (c < 128)
        return (cl->ascii[c >> 6] >> (c & 63)) & 1;
    return class_has_slow(cl, c);
}

static bool
inst_takes(const struct compose_re *re, const struct inst *in, uint32_t c)
{
    switch (in->op) {
    case I_CHAR:
        return c == in->c;
    case I_ANY:
        return c != '\n';
    case I_CLASS:
        return class_has(&re->classes[in->c], c);
    default:
        return false;
    }
}

bool
compose_re_search(const struct compose_re *re, const char *s, size_t len)
{
    if (re->anchored && (len < re->nprefix || memcmp(s, re->prefix, re->nprefix) != 0))
        return false;
    if (re->prefix_only)
        return true;
    /* Each state is added at most once per step, and a stack entry is pushed only for a state
     * not yet marked, plus at most two per split: 2n + 1 entries suffice. */
    int small_buf[4 * STACK_PROG + 1];
    unsigned small_mark[STACK_PROG];
    bt_autofree int *big_buf = NULL;
    bt_autofree unsigned *big_mark = NULL;
    int *buf = small_buf;
    unsigned *mark = small_mark;
    if (re->n > STACK_PROG) {
        buf = big_buf = bt_xmalloc((4 * re->n + 1) * sizeof *buf);
        mark = big_mark = bt_xcalloc(re->n, sizeof *mark);
    } else {
        memset(small_mark, 0, re->n * sizeof *small_mark);
    }
    struct threads a = { buf, 0 }, b = { buf + re->n, 0 };
    struct threads *cur = &a, *next = &b;
    struct vm vm = { re, mark, buf + 2 * re->n, 0, len };
    unsigned step = 1;
    add_thread(&vm, cur, 0, step);
    for (;;) {
        for (size_t i = 0; i < cur->n; i++)
            if (re->prog[cur->pc[i]].op == I_MATCH)
                return true;
        /* Anchored: no thread left means no match, as no new one can start past 0. */
        if (vm.pos >= len || (re->anchored && cur->n == 0))
            return false;
        size_t w;
        uint32_t c = bt_utf8_next(s + vm.pos, len - vm.pos, &w);
        vm.pos += w;
        step++;
        next->n = 0;
        for (size_t i = 0; i < cur->n; i++)
            if (inst_takes(re, &re->prog[cur->pc[i]], c))
                add_thread(&vm, next, cur->pc[i] + 1, step);
        if (!re->anchored)
            add_thread(&vm, next, 0, step); /* unanchored: a match may start here too */
        struct threads *t = cur;
        cur = next;
        next = t;
    }
}
