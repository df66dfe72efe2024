/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Container logs in Docker's json-file format: one JSON object per line,
 * {"log":"text\n","stream":"stdout","time":"2024-05-01T12:00:00.123456789Z"}, in a file of the
 * container's directory, rotated by size into NAME.1 (newest) ... NAME.<max_file - 1>. The
 * writer takes the bytes the daemon read from a container's pipes (or pty); the reader gives
 * the entries back for `logs` with since / until / tail. Following is the daemon's part: it
 * reads what is on disk with a reader and gets every later entry from the writer's tap.
 *
 * Nothing here blocks for long and nothing starts a thread: the writer does plain write()s on a
 * regular file (O_APPEND), one per write call where it can; the reader reads in bounded chunks,
 * and tail scans backwards from the end of the files, never from their start.
 *
 * Durability: every line is written before eng_log_writer_write() returns, so a daemon crash
 * or restart loses no line (a host crash may lose what the page cache held: no fsync). A torn
 * last line (a crash mid-write, a full disk) is skipped by the reader; a writer reopening the
 * file starts a fresh line first.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "engine/base/err.h"

/* The most container bytes in one entry: a longer line is split into entries of this size, and
 * only the last one carries the "\n" (as Docker does). */
#define ENG_LOG_ENTRY_MAX 16384

enum eng_log_stream { ENG_LOG_STDOUT, ENG_LOG_STDERR };

struct eng_log_entry {
    enum eng_log_stream stream;
    int64_t time_ns;  /* nanoseconds since the epoch, UTC */
    const char *data; /* the container's bytes (a complete line ends in "\n"); borrowed */
    size_t len;
};

/* The stream's name in the file: "stdout" or "stderr". */
const char *eng_log_stream_str(enum eng_log_stream s);

/* --- Writing ------------------------------------------------------------------------------ */

struct eng_log_writer;

/* Open (create, mode 0640) dirfd/name for appending; name is one path component. max_size in
 * bytes, 0: never rotate. max_file: how many files in all (the current one included); 0 means 1.
 * With max_file 1 rotation starts the file afresh. The writer keeps its own copy of dirfd. */
int eng_log_writer_open(int dirfd, const char *name, uint64_t max_size, unsigned max_file,
                        struct eng_log_writer **ret, struct bt_err **err);
/* Bytes as read from the container's pipe, in order per stream: split into lines, a partial
 * line kept (per stream) until its newline, the ENG_LOG_ENTRY_MAX cap or a flush. ts: when the
 * bytes were read; it stamps the entries this call completes. A failed write loses the batch
 * of this call (reported) and the writer carries on with a fresh line next time. */
int eng_log_writer_write(struct eng_log_writer *w, enum eng_log_stream s, const void *data,
                         size_t len, const struct timespec *ts, struct bt_err **err);
/* Write out the partial lines (at EOF of the pipes): entries without "\n". */
int eng_log_writer_flush(struct eng_log_writer *w, struct bt_err **err);
/* Flushes (errors ignored), closes, frees; accepts NULL; returns NULL. */
struct eng_log_writer *eng_log_writer_free(struct eng_log_writer *w);

typedef void (*eng_log_tap_fn)(void *ud, const struct eng_log_entry *e);
/* Call fn for every entry the writer emits, in order, right before it is written (e->data is
 * borrowed for the call). fn NULL: no tap. fn must not call back into this writer. */
void eng_log_writer_set_tap(struct eng_log_writer *w, eng_log_tap_fn fn, void *ud);

/* --- Reading ------------------------------------------------------------------------------ */

struct eng_log_read_opts {
    int64_t since_ns; /* entries at or after it; 0: from the start */
    int64_t until_ns; /* entries at or before it; 0: to the end */
    int64_t tail;     /* the last N lines before since/until apply (as Docker); -1: all */
};

/* Whether an entry stamped time_ns passes since/until (for the entries a follower gets from
 * the tap). */
bool eng_log_read_opts_accepts(const struct eng_log_read_opts *o, int64_t time_ns);

struct eng_log_reader;

/* A snapshot of dirfd/name and its rotated files (NAME.1, NAME.2, ... up to the first one
 * missing) as they are now: later writes are not read, and rotation or removal while reading
 * does not disturb it (the files stay open). Open it in the same loop turn as the tap that
 * follows, and no entry is lost or doubled between the two. A missing file reads as empty. */
int eng_log_reader_open(int dirfd, const char *name, const struct eng_log_read_opts *o,
                        struct eng_log_reader **ret, struct bt_err **err);
/* The next entry, oldest first across the files: 1 (ret filled, borrowed until the next call),
 * 0 at the end, <0 on a read error. Reads at most one chunk (64 KiB) more per call unless it
 * skips lines. A torn or unparseable line is skipped, never an error. */
int eng_log_reader_next(struct eng_log_reader *r, struct eng_log_entry *ret, struct bt_err **err);
struct eng_log_reader *eng_log_reader_free(struct eng_log_reader *r);

/* --- Parsing ------------------------------------------------------------------------------ */

/* Parse one line of the file (without its "\n"): needs "time", takes "log" (default empty) and
 * "stream" ("stdout" or "stderr"; default stdout), skips other members. On success ret->data
 * points into *ret_buf (a new buffer, caller frees; NULL when the log is empty). Returns 0 or
 * -EINVAL. */
int eng_log_entry_parse(const char *line, size_t len, struct eng_log_entry *ret, char **ret_buf);

/* A time for --since / --until as Docker takes it: a duration before now_ns ("10m", "1h30m",
 * "1.5s", Go's units ns us ms s m h), RFC 3339 with or without fraction and zone (no zone: the
 * local time zone), a shortened form ("2024-05-01", "2024-05-01T12", "2024-05-01T12:30"), or
 * Unix seconds with an optional fraction ("1700000000.5"). */
int eng_log_time_parse(const char *s, int64_t now_ns, int64_t *ret_ns, struct bt_err **err);
/* RFC 3339 in UTC with nanoseconds, trailing zeros of the fraction dropped (Go's RFC3339Nano,
 * as Docker writes "time"). buf: at least ENG_LOG_TIME_MAX bytes. Returns the length. */
#define ENG_LOG_TIME_MAX 40
size_t eng_log_time_format(int64_t time_ns, char *buf);
