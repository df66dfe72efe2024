/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Platforms ("linux/arm64/v8"): parsing, the host's own, normalisation of the names different
 * tools use for one CPU, and the choice of an index entry for a platform with containerd's
 * default matcher rules. Pure but for uname(2).
 */
#include <ctype.h>
#include <string.h>
#include <sys/utsname.h>

#include "engine/base/alloc.h"
#include "engine/base/buf.h"
#include "engine/base/log.h"
#include "engine/base/parse.h"
#include "engine/image/manifest.h"

#define PLATFORM_PART_MAX 64
/* The "offered:" list of a no-match error stops growing here. */
#define OFFERED_MAX 1024

static const char *const known_os[] = {
    "aix", "android", "darwin", "dragonfly", "freebsd", "illumos", "ios",
    "js",  "linux",   "netbsd", "openbsd",   "plan9",   "solaris", "windows",
};

/* Architecture aliases that carry a variant of their own. */
static const struct {
    const char *alias, *arch, *variant;
} arch_aliases[] = {
    { "x86_64", "amd64", NULL },  { "x86-64", "amd64", NULL },  { "i386", "386", NULL },
    { "i486", "386", NULL },      { "i586", "386", NULL },      { "i686", "386", NULL },
    { "aarch64", "arm64", NULL }, { "armhf", "arm", "v7" },     { "armel", "arm", "v6" },
    { "armv5tel", "arm", "v5" },  { "armv5tejl", "arm", "v5" }, { "armv6l", "arm", "v6" },
    { "armv7l", "arm", "v7" },    { "armv7", "arm", "v7" },     { "armv8l", "arm", "v8" },
};

static char *
lower_dup(const char *s)
{
    char *r = bt_xstrdup(s);
    for (char *p = r; *p; p++)
        *p = (char) tolower((unsigned char) *p);
    return r;
}

/* Normalise p in place: lower case, OS and architecture aliases, default variants. */
static void
platform_normalize(struct eng_img_platform *p)
{
    char *os = lower_dup(p->os ? p->os : "");
    char *arch = lower_dup(p->architecture ? p->architecture : "");
    char *variant = p->variant && *p->variant ? lower_dup(p->variant) : NULL;
    if (strcmp(os, "macos") == 0) {
        free(os);
        os = bt_xstrdup("darwin");
    }
    for (size_t i = 0; i < BT_ARRAY_SIZE(arch_aliases); i++) {
        if (strcmp(arch, arch_aliases[i].alias) != 0)
            continue;
        free(arch);
        arch = bt_xstrdup(arch_aliases[i].arch);
        if (arch_aliases[i].variant) {
            free(variant);
            variant = bt_xstrdup(arch_aliases[i].variant);
        }
        break;
    }
    /* Variants given as a bare number ("7") get their 'v', when it fits within a part's limit
     * (so that what prints parses back to itself). */
    if (variant && isdigit((unsigned char) variant[0]) && strlen(variant) < PLATFORM_PART_MAX) {
        char *v = bt_xasprintf("v%s", variant);
        free(variant);
        variant = v;
    }
    if (strcmp(arch, "arm64") == 0 && (!variant || strcmp(variant, "v8.0") == 0)) {
        free(variant);
        variant = bt_xstrdup("v8");
    } else if (strcmp(arch, "arm") == 0 && !variant) {
        variant = bt_xstrdup("v7");
    } else if (strcmp(arch, "amd64") == 0 && variant && strcmp(variant, "v1") == 0) {
        free(variant);
        variant = NULL;
    }
    free(p->os);
    free(p->architecture);
    free(p->variant);
    p->os = os;
    p->architecture = arch;
    p->variant = variant;
}

static bool
part_is_valid(const char *s, size_t n)
{
    if (n == 0 || n > PLATFORM_PART_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char) s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
            return false;
    return true;
}

static bool
is_known_os(const char *s)
{
    for (size_t i = 0; i < BT_ARRAY_SIZE(known_os); i++)
        if (strcasecmp(s, known_os[i]) == 0)
            return true;
    return false;
}

int
eng_img_platform_parse(const char *s, struct eng_img_platform *ret, struct bt_err **err)
{
    const char *parts[3];
    size_t lens[3], n = 0;
    for (const char *p = s;; n++) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t) (slash - p) : strlen(p);
        if (n == 3 || !part_is_valid(p, len)) {
            bt_autofree char *q = bt_log_escape(s, strlen(s), 200);
            int r = bt_err_set(err, BT_EINVALID, "invalid platform '%s'", q);
            bt_err_hint(err, "a platform is os/architecture[/variant], like linux/amd64 or "
                             "linux/arm64/v8");
            return r;
        }
        parts[n] = p;
        lens[n] = len;
        if (!slash) {
            n++;
            break;
        }
        p = slash + 1;
    }
    struct eng_img_platform pl = { 0 };
    if (n == 1) {
        /* One word: an OS (on this host's architecture) or an architecture (on Linux). */
        char *word = bt_xstrndup(parts[0], lens[0]);
        if (is_known_os(word)) {
            eng_img_platform_host(&pl);
            free(pl.os);
            pl.os = word;
        } else {
            pl.os = bt_xstrdup("linux");
            pl.architecture = word;
        }
    } else {
        pl.os = bt_xstrndup(parts[0], lens[0]);
        pl.architecture = bt_xstrndup(parts[1], lens[1]);
        pl.variant = n == 3 ? bt_xstrndup(parts[2], lens[2]) : NULL;
    }
    platform_normalize(&pl);
    *ret = pl;
    return 0;
}

void
eng_img_platform_host(struct eng_img_platform *ret)
{
    struct utsname u;
    struct eng_img_platform p = { .os = bt_xstrdup("linux") };
    /* uname cannot fail with a valid buffer; "unknown" would match nothing. */
    p.architecture = bt_xstrdup(uname(&u) == 0 ? u.machine : "unknown");
    platform_normalize(&p);
    *ret = p;
}

char *
eng_img_platform_str(const struct eng_img_platform *p)
{
    const char *os = p->os ? p->os : "";
    const char *arch = p->architecture ? p->architecture : "";
    if (p->variant && *p->variant)
        return bt_xasprintf("%s/%s/%s", os, arch, p->variant);
    return bt_xasprintf("%s/%s", os, arch);
}

/* "v7" -> 7, anything else -> -1. */
static int
arm_level(const char *v)
{
    if (!v || v[0] != 'v' || v[1] < '5' || v[1] > '8' || v[2])
        return -1;
    return v[1] - '0';
}

/* How well have (normalised) serves want (normalised): -1 not at all, higher is better. */
static int
platform_rank(const struct eng_img_platform *want, const struct eng_img_platform *have)
{
    if (!bt_streq(want->os, have->os) || !bt_streq(want->architecture, have->architecture))
        return -1;
    if (want->variant == have->variant || bt_streq(want->variant, have->variant))
        return 100;
    if (strcmp(want->architecture, "arm") == 0) {
        /* A v7 CPU runs v6 and v5 code: the newest that fits is best. */
        int w = arm_level(want->variant), h = arm_level(have->variant);
        return w > 0 && h > 0 && h < w ? 50 + h : -1;
    }
    if (strcmp(want->architecture, "arm64") == 0)
        /* Every arm64 CPU runs v8 code. */
        return bt_streq(have->variant, "v8") ? 50 : -1;
    /* Elsewhere an entry that names no variant serves every variant. */
    return have->variant ? -1 : 50;
}

static bool
entry_is_manifest(const struct eng_img_descriptor *d)
{
    return strcmp(d->media_type, ENG_MT_DOCKER_MANIFEST) == 0 ||
           strcmp(d->media_type, ENG_MT_OCI_MANIFEST) == 0;
}

/* Attestations and other non-images are listed as "unknown/unknown". */
static bool
entry_is_attestation(const struct eng_img_descriptor *d)
{
    return d->has_platform && bt_streq(d->platform.os, "unknown") &&
           bt_streq(d->platform.architecture, "unknown");
}

static void
platform_copy(const struct eng_img_platform *p, struct eng_img_platform *ret)
{
    *ret = (struct eng_img_platform){
        .os = bt_xstrdup(p->os ? p->os : ""),
        .architecture = bt_xstrdup(p->architecture ? p->architecture : ""),
        .variant = p->variant ? bt_xstrdup(p->variant) : NULL,
    };
}

static int
no_match_error(const struct eng_img_manifest *idx, const struct eng_img_platform *want,
               struct bt_err **err)
{
    bt_autobuf struct bt_buf offered = { 0 };
    bt_buf_init(&offered, OFFERED_MAX);
    bool cut = false;
    for (size_t i = 0; i < idx->nmanifests && !cut; i++) {
        const struct eng_img_descriptor *d = &idx->manifests[i];
        if (!d->has_platform || entry_is_attestation(d) || !entry_is_manifest(d))
            continue;
        bt_autofree char *s = eng_img_platform_str(&d->platform);
        bt_autofree char *q = bt_log_escape(s, strlen(s), 100);
        cut = bt_buf_printf(&offered, "%s%s", offered.len ? ", " : "", q) < 0;
    }
    bt_autofree char *w = eng_img_platform_str(want);
    return bt_err_set(err, BT_EINVALID,
                      "no matching manifest for %s in the manifest list entries (offered: %s%s)", w,
                      offered.len ? bt_buf_str(&offered) : "none", cut ? ", ..." : "");
}

int
eng_img_index_select(const struct eng_img_manifest *idx, const struct eng_img_platform *want,
                     size_t *ret_index, struct bt_err **err)
{
    struct eng_img_platform w;
    platform_copy(want, &w);
    platform_normalize(&w);
    int best_rank = -1;
    size_t best = 0;
    for (size_t i = 0; i < idx->nmanifests; i++) {
        const struct eng_img_descriptor *d = &idx->manifests[i];
        if (!entry_is_manifest(d) || entry_is_attestation(d))
            continue;
        int rank;
        if (d->has_platform) {
            struct eng_img_platform have;
            platform_copy(&d->platform, &have);
            platform_normalize(&have);
            rank = platform_rank(&w, &have);
            eng_img_platform_release(&have);
        } else {
            /* containerd lets an entry without a platform match anything, last. */
            rank = 0;
        }
        if (rank > best_rank) {
            best_rank = rank;
            best = i;
        }
    }
    int r = 0;
    if (best_rank < 0)
        r = no_match_error(idx, &w, err);
    else
        *ret_index = best;
    eng_img_platform_release(&w);
    return r;
}
