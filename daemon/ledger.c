/* SPDX-License-Identifier: MIT */

#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "io-util.h"
#include "ledger.h"
#include "string-util.h"
#include "time-util.h"

#define LEDGER_FILE "ledger"
/* Longer than any record we write (values are at most LEDGER_VALUE_MAX characters). */
#define LEDGER_LINE_MAX 512
/* " crc=" and eight hex digits end every record. */
#define CRC_SUFFIX_LEN 13
#define RECORD_KEYS_MAX 4

#define CHARS_LOWER "abcdefghijklmnopqrstuvwxyz"
#define CHARS_UPPER "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define CHARS_DIGIT "0123456789"
#define CHARS_ROUTINE CHARS_LOWER CHARS_DIGIT "-"
#define CHARS_DEVICE CHARS_LOWER CHARS_UPPER CHARS_DIGIT "_"
#define CHARS_TOKEN CHARS_LOWER "-"
/* What a lockout applies to: "*" for everyone, or a device model ("0b49:064f", "virtual:x"). */
#define CHARS_SCOPE CHARS_LOWER CHARS_DIGIT "-:*"
#define LEDGER_LOCKOUTS_MAX 64

typedef enum RecordType {
        RECORD_START,
        RECORD_END,
        RECORD_LOCKOUT,
        RECORD_CLEAR,
        RECORD_FAILCLOSED,
        RECORD_TYPE_MAX,
} RecordType;

static const char *const record_type_table[RECORD_TYPE_MAX] = {
        [RECORD_START] = "start",           [RECORD_END] = "end",
        [RECORD_LOCKOUT] = "lockout",       [RECORD_CLEAR] = "clear",
        [RECORD_FAILCLOSED] = "failclosed",
};

/* The keys of each type, in the order they are written and must be read back. */
static const char *const record_keys[RECORD_TYPE_MAX][RECORD_KEYS_MAX + 1] = {
        [RECORD_START] = {"routine", "device", "uid"},
        [RECORD_END] = {"start", "duration_ms", "state", "reason"},
        [RECORD_LOCKOUT] = {"reason", "until", "scope"},
        [RECORD_CLEAR] = {NULL},
        [RECORD_FAILCLOSED] = {"until", "why"},
};

static const char *const lockout_reason_table[LOCKOUT_REASON_MAX] = {
        [LOCKOUT_PAIN] = "pain",
        [LOCKOUT_OVERHEAT] = "overheat",
        [LOCKOUT_FAULT] = "fault",
};

/* One record, parsed or about to be written. The strings belong to the ledger's pool. */
typedef struct Record {
        uint64_t seq;
        uint64_t usec;
        RecordType type;
        /* start */
        const char *routine;
        const char *device;
        uint32_t uid;
        /* end */
        uint64_t start;
        uint32_t duration_ms;
        const char *state;
        const char *reason;
        /* lockout, failclosed */
        LockoutReason lockout;
        uint64_t until;
        char scope[LEDGER_VALUE_MAX + 1];
        char why[LEDGER_VALUE_MAX + 1];
} Record;

/* A session start, as the limits need it: which session, and when. */
typedef struct DayStart {
        uint64_t ref;
        uint64_t usec;
} DayStart;

struct Ledger {
        char *dir;
        char *path;
        int fd;
        uint64_t seq; /* of the last record in the file, 0 if none */
        int broken;   /* the first failed append, 0 while appends work */

        /*
         * The newest session starts, in a ring (first is the oldest): enough to count a day at
         * the most sessions a day any policy allows, and to tell an ended session from an
         * unknown one. The history itself is read back from the file when asked for
         * (ledger_read_history()), so that memory does not grow with every session.
         */
        DayStart *starts;
        size_t n_starts, first_start;
        /* Sessions started and not ended yet, oldest first: what a restart must end. */
        uint64_t *open;
        size_t n_open;
        /*
         * Every routine id, device id, end state and stop reason the file names, once: a
         * thousand sessions name a handful of each, so history read back costs no allocation
         * per string.
         */
        char **strings;
        size_t n_strings;
        uint64_t last_end;

        /* Only what matters since the last clear: per scope, the lockout that ends last, and the
         * fail-closed record that ends last. */
        struct {
                LockoutReason reason;
                uint64_t until;
                char scope[LEDGER_VALUE_MAX + 1];
        } lockouts[LEDGER_LOCKOUTS_MAX];
        size_t n_lockouts;
        uint64_t fail_closed_until;
        char fail_closed_why[LEDGER_VALUE_MAX + 1];
};

const char *lockout_reason_to_string(LockoutReason r)
{
        if ((unsigned) r >= LOCKOUT_REASON_MAX)
                return NULL;
        return lockout_reason_table[r];
}

static int lockout_reason_from_string(const char *s, LockoutReason *ret)
{
        for (unsigned i = 0; i < LOCKOUT_REASON_MAX; i++)
                if (streq(s, lockout_reason_table[i])) {
                        *ret = (LockoutReason) i;
                        return 0;
                }
        return -EINVAL;
}

/* CRC-32 as in IEEE 802.3 and zlib: reflected polynomial 0xedb88320, inverted in and out. */
static uint32_t crc32_ieee(const void *data, size_t size)
{
        static uint32_t table[256];
        static bool initialized;
        const uint8_t *p = data;
        uint32_t crc = UINT32_MAX;

        if (!initialized) {
                for (uint32_t i = 0; i < 256; i++) {
                        uint32_t c = i;

                        for (unsigned k = 0; k < 8; k++)
                                c = (c & 1) ? UINT32_C(0xedb88320) ^ (c >> 1) : c >> 1;
                        table[i] = c;
                }
                initialized = true;
        }

        for (size_t i = 0; i < size; i++)
                crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
        return crc ^ UINT32_MAX;
}

static bool value_is_valid(const char *s, const char *chars)
{
        size_t n;

        if (!s)
                return false;
        n = strlen(s);
        return n > 0 && n <= LEDGER_VALUE_MAX && strspn(s, chars) == n;
}

static int set_message(char **message, int error, const char *format, ...) _printf_(3, 4);
static int set_message(char **message, int error, const char *format, ...)
{
        va_list ap;

        *message = mfree(*message);
        va_start(ap, format);
        if (vasprintf(message, format, ap) < 0)
                *message = NULL;
        va_end(ap);
        return error;
}

/* The pool's copy of s, added if it isn't there yet; NULL when out of memory. */
static const char *ledger_intern(Ledger *l, const char *s)
{
        char **strings, *copy;

        for (size_t i = 0; i < l->n_strings; i++)
                if (streq(l->strings[i], s))
                        return l->strings[i];
        copy = strdup(s);
        if (!copy)
                return NULL;
        strings = reallocarray(l->strings, l->n_strings + 1, sizeof(char *));
        if (!strings) {
                free(copy);
                return NULL;
        }
        l->strings = strings;
        l->strings[l->n_strings++] = copy;
        return copy;
}

/* Writes the whole line, newline included, into buf. */
static int record_format(const Record *r, char *buf, size_t size, size_t *ret_len)
{
        int n, k;

        switch (r->type) {
        case RECORD_START:
                n = snprintf(buf, size,
                             "%" PRIu64 " %" PRIu64 " start routine=%s device=%s uid=%" PRIu32,
                             r->seq, r->usec, r->routine, r->device, r->uid);
                break;
        case RECORD_END:
                n = snprintf(buf, size,
                             "%" PRIu64 " %" PRIu64 " end start=%" PRIu64 " duration_ms=%" PRIu32
                             " state=%s reason=%s",
                             r->seq, r->usec, r->start, r->duration_ms, r->state, r->reason);
                break;
        case RECORD_LOCKOUT:
                n = snprintf(buf, size,
                             "%" PRIu64 " %" PRIu64 " lockout reason=%s until=%" PRIu64 " scope=%s",
                             r->seq, r->usec, lockout_reason_to_string(r->lockout), r->until,
                             r->scope);
                break;
        case RECORD_CLEAR:
                n = snprintf(buf, size, "%" PRIu64 " %" PRIu64 " clear", r->seq, r->usec);
                break;
        case RECORD_FAILCLOSED:
                n = snprintf(buf, size,
                             "%" PRIu64 " %" PRIu64 " failclosed until=%" PRIu64 " why=%s", r->seq,
                             r->usec, r->until, r->why);
                break;
        default:
                return -EINVAL;
        }
        if (n < 0 || (size_t) n + CRC_SUFFIX_LEN + 1 >= size)
                return -ENOBUFS;

        k = snprintf(buf + n, size - (size_t) n, " crc=%08" PRIx32 "\n",
                     crc32_ieee(buf, (size_t) n));
        if (k != CRC_SUFFIX_LEN + 1)
                return -ENOBUFS;
        *ret_len = (size_t) n + (size_t) k;
        return 0;
}

static const char *key_value(const char *token, const char *key)
{
        const char *p = startswith(token, key);

        return p && *p == '=' ? p + 1 : NULL;
}

static int parse_u32(const char *s, uint32_t *ret)
{
        uint64_t v;

        if (safe_atou64(s, &v) < 0 || v > UINT32_MAX)
                return -EINVAL;
        *ret = (uint32_t) v;
        return 0;
}

/*
 * Parses one line (without its newline). Returns 0, -ENOMEM, or -EBADMSG with what is wrong in
 * ret_problem. Does not look at the sequence number: that is the caller's business.
 */
static int record_parse(Ledger *l, const char *line, size_t len, Record *ret,
                        const char **ret_problem)
{
        char body[LEDGER_LINE_MAX + 1], *tokens[3 + RECORD_KEYS_MAX + 1];
        const char *values[RECORD_KEYS_MAX] = {};
        Record r = {};
        size_t n_tokens = 0, n_keys, blen;
        uint32_t crc = 0;
        int type = -1;

        *ret_problem = "malformed record";
        if (len <= CRC_SUFFIX_LEN || len > LEDGER_LINE_MAX)
                return -EBADMSG;
        blen = len - CRC_SUFFIX_LEN;
        if (memcmp(line + blen, " crc=", 5) != 0)
                return -EBADMSG;
        for (size_t i = blen + 5; i < len; i++) {
                char c = line[i];

                if (c >= '0' && c <= '9')
                        crc = crc << 4 | (uint32_t) (c - '0');
                else if (c >= 'a' && c <= 'f')
                        crc = crc << 4 | (uint32_t) (c - 'a' + 10);
                else
                        return -EBADMSG;
        }
        if (crc32_ieee(line, blen) != crc) {
                *ret_problem = "bad checksum";
                return -EBADMSG;
        }

        /* The checksum matches; from here on anything wrong is a writer's bug, still refused. */
        memcpy(body, line, blen);
        body[blen] = 0;
        for (char *p = body;;) {
                char *space = strchr(p, ' ');

                if (space)
                        *space = 0;
                if (!*p || n_tokens >= ELEMENTSOF(tokens))
                        return -EBADMSG;
                for (char *c = p; *c; c++)
                        if (*c < '!' || *c > '~')
                                return -EBADMSG;
                tokens[n_tokens++] = p;
                if (!space)
                        break;
                p = space + 1;
        }
        if (n_tokens < 3 || safe_atou64(tokens[0], &r.seq) < 0 ||
            safe_atou64(tokens[1], &r.usec) < 0)
                return -EBADMSG;
        for (unsigned i = 0; i < RECORD_TYPE_MAX; i++)
                if (streq(tokens[2], record_type_table[i]))
                        type = (int) i;
        if (type < 0)
                return -EBADMSG;
        r.type = (RecordType) type;

        for (n_keys = 0; record_keys[r.type][n_keys]; n_keys++)
                ;
        if (n_tokens != 3 + n_keys)
                return -EBADMSG;
        for (size_t i = 0; i < n_keys; i++) {
                values[i] = key_value(tokens[3 + i], record_keys[r.type][i]);
                if (!values[i])
                        return -EBADMSG;
        }

        switch (r.type) {
        case RECORD_START:
                if (!value_is_valid(values[0], CHARS_ROUTINE) ||
                    !value_is_valid(values[1], CHARS_DEVICE) || parse_u32(values[2], &r.uid) < 0)
                        return -EBADMSG;
                r.routine = ledger_intern(l, values[0]);
                r.device = ledger_intern(l, values[1]);
                break;
        case RECORD_END:
                if (safe_atou64(values[0], &r.start) < 0 || r.start == 0 || r.start >= r.seq ||
                    parse_u32(values[1], &r.duration_ms) < 0 ||
                    !value_is_valid(values[2], CHARS_TOKEN) ||
                    !value_is_valid(values[3], CHARS_TOKEN))
                        return -EBADMSG;
                r.state = ledger_intern(l, values[2]);
                r.reason = ledger_intern(l, values[3]);
                break;
        case RECORD_LOCKOUT:
                if (lockout_reason_from_string(values[0], &r.lockout) < 0 ||
                    safe_atou64(values[1], &r.until) < 0 || !value_is_valid(values[2], CHARS_SCOPE))
                        return -EBADMSG;
                strcpy(r.scope, values[2]);
                break;
        case RECORD_CLEAR:
                break;
        case RECORD_FAILCLOSED:
                if (safe_atou64(values[0], &r.until) < 0 || !value_is_valid(values[1], CHARS_TOKEN))
                        return -EBADMSG;
                strcpy(r.why, values[1]);
                break;
        default:
                return -EBADMSG;
        }
        if ((r.type == RECORD_START && (!r.routine || !r.device)) ||
            (r.type == RECORD_END && (!r.state || !r.reason)))
                return -ENOMEM;

        *ret = r;
        return 0;
}

static bool ledger_is_open(const Ledger *l, uint64_t ref, size_t *ret_index)
{
        /* Oldest first; a handful at most, one per running session. */
        for (size_t i = 0; i < l->n_open; i++)
                if (l->open[i] == ref) {
                        if (ret_index)
                                *ret_index = i;
                        return true;
                }
        return false;
}

static bool ledger_knows_start(const Ledger *l, uint64_t ref)
{
        /* In any order: the slots in use are the first n_starts, or all once the ring is full. */
        for (size_t i = 0; i < l->n_starts; i++)
                if (l->starts[i].ref == ref)
                        return true;
        return false;
}

/*
 * The slot for one more entry in a ring of size slots holding *n from *first on: the next free
 * one, or the oldest (which it replaces) when the ring is full.
 */
static size_t ring_push(size_t *first, size_t *n, size_t size)
{
        size_t k = (*first + *n) % size;

        if (*n == size)
                *first = (*first + 1) % size;
        else
                (*n)++;
        return k;
}

/* Room for one more open session, so that applying a start cannot fail. */
static int ledger_reserve_open(Ledger *l)
{
        uint64_t *open;

        open = reallocarray(l->open, l->n_open + 1, sizeof(uint64_t));
        if (!open)
                return -ENOMEM;
        l->open = open;
        return 0;
}

/* Applies a record that is in the file to the in-memory state. Cannot fail; takes r's strings. */
static void ledger_apply(Ledger *l, Record *r)
{
        size_t i;

        l->seq = r->seq;

        switch (r->type) {
        case RECORD_START: {
                size_t k = ring_push(&l->first_start, &l->n_starts, LEDGER_DAY_STARTS_MAX);

                l->starts[k].ref = r->seq;
                l->starts[k].usec = r->usec;
                l->open[l->n_open++] = r->seq; /* room reserved by the caller */
                break;
        }
        case RECORD_END:
                /* A session ended twice, or one never started, only moves last_end. */
                if (ledger_is_open(l, r->start, &i)) {
                        memmove(l->open + i, l->open + i + 1,
                                (l->n_open - i - 1) * sizeof(uint64_t));
                        l->n_open--;
                }
                l->last_end = MAX(l->last_end, r->usec);
                break;
        case RECORD_LOCKOUT: {
                for (i = 0; i < l->n_lockouts; i++)
                        if (streq(l->lockouts[i].scope, r->scope))
                                break;
                if (i == l->n_lockouts) {
                        if (l->n_lockouts == LEDGER_LOCKOUTS_MAX) {
                                /* Make room: the one that ends first goes. */
                                i = 0;
                                for (size_t k = 1; k < l->n_lockouts; k++)
                                        if (l->lockouts[k].until < l->lockouts[i].until)
                                                i = k;
                                l->lockouts[i].until = 0;
                        } else
                                l->lockouts[l->n_lockouts++].until = 0;
                        strcpy(l->lockouts[i].scope, r->scope);
                }
                if (r->until >= l->lockouts[i].until) {
                        l->lockouts[i].until = r->until;
                        l->lockouts[i].reason = r->lockout;
                }
                break;
        }
        case RECORD_CLEAR:
                l->n_lockouts = 0;
                l->fail_closed_until = 0;
                l->fail_closed_why[0] = 0;
                break;
        case RECORD_FAILCLOSED:
                if (r->until >= l->fail_closed_until) {
                        l->fail_closed_until = r->until;
                        strcpy(l->fail_closed_why, r->why);
                }
                break;
        default:
                break;
        }
}

static void ledger_reset_state(Ledger *l)
{
        l->n_starts = l->first_start = 0;
        l->n_open = 0;
        l->seq = 0;
        l->last_end = 0;
        l->n_lockouts = 0;
        l->fail_closed_until = 0;
        l->fail_closed_why[0] = 0;
}

/*
 * Writes all of buf. The rest of a short write (a full disk) is tried again, so that the error
 * returned is the real one; what was written of a record that fails is a torn record, which
 * the next ledger_open() drops.
 */
static int write_all(int fd, const char *buf, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, buf, len);
                if (n < 0)
                        return negative_errno();
                if (n == 0)
                        return -EIO;
                buf += n;
                len -= (size_t) n;
        }
        return 0;
}

/*
 * Writes r (its type, usec and fields set by the caller) as the next record, whole, followed
 * by fdatasync(), and only then applies it. Any failure breaks the ledger.
 */
static int ledger_append(Ledger *l, Record *r)
{
        char line[LEDGER_LINE_MAX + 1];
        size_t len;
        int k;

        if (l->broken < 0)
                return l->broken;

        r->seq = l->seq + 1;
        k = record_format(r, line, sizeof(line), &len);
        if (k >= 0 && r->type == RECORD_START)
                k = ledger_reserve_open(l);
        if (k < 0)
                return k; /* nothing was written: the ledger is still fine */

        k = write_all(l->fd, line, len);
        if (k >= 0 && fdatasync(l->fd) < 0)
                k = negative_errno();
        if (k < 0) {
                l->broken = k;
                return k;
        }

        ledger_apply(l, r);
        return 0;
}

static int fsync_directory(const char *dir)
{
        _cleanup_close_ int fd = -1;

        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        return RET_NERRNO(fsync(fd));
}

/*
 * Opens l->path for appending, creating it if needed (or insisting on creating it, with
 * O_EXCL in extra_flags), and locks it. Returns the fd and its size.
 */
static int ledger_open_file(Ledger *l, int extra_flags, int *ret_fd, uint64_t *ret_size)
{
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        /* O_NONBLOCK so that a FIFO planted in our place cannot block us; regular files ignore it.
         */
        fd = open(l->path,
                  O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | extra_flags,
                  0600);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? -EBUSY : negative_errno();

        /* Empty: most likely just created. Make its name durable before anything relies on it. */
        if (st.st_size == 0) {
                r = fsync_directory(l->dir);
                if (r < 0)
                        return r;
        }

        *ret_fd = TAKE_FD(fd);
        *ret_size = (uint64_t) st.st_size;
        return 0;
}

/* Opens the file the ledger appends to for reading, through its path: -ESTALE if the path is
 * another file now. */
static int ledger_open_for_reading(Ledger *l, struct stat *ret_st)
{
        _cleanup_close_ int fd = -1;
        struct stat wst;

        fd = open(l->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, ret_st) < 0 || fstat(l->fd, &wst) < 0)
                return negative_errno();
        if (ret_st->st_dev != wst.st_dev || ret_st->st_ino != wst.st_ino)
                return -ESTALE;
        return TAKE_FD(fd);
}

/* Reads the file the ledger has open for appending (through its path, so checks it is the same). */
static int ledger_read_file(Ledger *l, char **ret_data, size_t *ret_size)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t size = 0, alloc;

        fd = ledger_open_for_reading(l, &st);
        if (fd < 0)
                return fd;
        if ((uint64_t) st.st_size > LEDGER_FILE_MAX_SIZE)
                return -EFBIG;

        /* One byte more than expected, so that a read that fills it means the file grew. */
        alloc = (size_t) st.st_size + 1;
        buf = malloc(alloc);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n;

                if (size == alloc) {
                        char *b;

                        if (alloc > LEDGER_FILE_MAX_SIZE)
                                return -EFBIG;
                        alloc = MIN(alloc * 2, (size_t) LEDGER_FILE_MAX_SIZE + 1);
                        b = realloc(buf, alloc);
                        if (!b)
                                return -ENOMEM;
                        buf = b;
                }
                n = loop_read(fd, buf + size, alloc - size);
                if (n < 0)
                        return (int) n;
                size += (size_t) n;
                if (size < alloc)
                        break; /* the end of the file */
        }
        if (size > LEDGER_FILE_MAX_SIZE)
                return -EFBIG;

        *ret_data = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

/* The start of the local day containing usec plus days_ahead days, or fallback if unknown. */
static uint64_t local_midnight(uint64_t usec, int days_ahead, uint64_t fallback)
{
        time_t t = (time_t) (usec / USEC_PER_SEC), m;
        struct tm tm;

        if (!localtime_r(&t, &tm))
                return fallback;
        tm.tm_sec = tm.tm_min = tm.tm_hour = 0;
        tm.tm_mday += days_ahead;
        tm.tm_isdst = -1;
        m = mktime(&tm);
        if (m == (time_t) -1 || m < 0)
                return fallback;
        return (uint64_t) m * USEC_PER_SEC;
}

static uint64_t start_of_day(uint64_t now)
{
        /* If the time cannot be converted, count every session: conservative. */
        return MIN(local_midnight(now, 0, 0), now);
}

static uint64_t next_midnight(uint64_t now)
{
        uint64_t m = local_midnight(now, 1, UINT64_MAX);

        return m > now ? m : UINT64_MAX;
}

/* Moves the untrusted ledger file out of the way and starts a fresh one that fails closed. */
static int ledger_set_aside(Ledger *l, uint64_t now, unsigned line, const char *problem,
                            char **message)
{
        _cleanup_free_ char *name = NULL;
        _cleanup_close_ int old_fd = -1;
        Record rec = {.type = RECORD_FAILCLOSED, .usec = now};
        uint64_t size;
        int r;

        for (unsigned i = 0;; i++) {
                name = mfree(name);
                if ((i == 0 ? asprintf(&name, "%s/" LEDGER_FILE ".corrupt-%" PRIu64, l->dir, now)
                            : asprintf(&name, "%s/" LEDGER_FILE ".corrupt-%" PRIu64 ".%u", l->dir,
                                       now, i)) < 0) {
                        name = NULL;
                        return set_message(message, -ENOMEM, "out of memory");
                }
                if (renameat2(AT_FDCWD, l->path, AT_FDCWD, name, RENAME_NOREPLACE) >= 0)
                        break;
                if (errno != EEXIST || i >= 100) {
                        r = negative_errno();
                        return set_message(message, r,
                                           "%s:%u: %s, and setting it aside as %s failed: %s",
                                           l->path, line, problem, name, strerror(-r));
                }
        }

        /* Keep the old file locked until the new one is, so no second kneed slips in between. */
        old_fd = TAKE_FD(l->fd);
        ledger_reset_state(l);
        r = ledger_open_file(l, O_EXCL, &l->fd, &size);
        if (r < 0)
                return set_message(message, r,
                                   "%s:%u: %s, set aside as %s; creating a new %s failed: %s",
                                   l->path, line, problem, name, l->path, strerror(-r));

        rec.until = next_midnight(now);
        strcpy(rec.why, "ledger-corrupt");
        r = ledger_append(l, &rec);
        if (r < 0)
                return set_message(message, r,
                                   "%s:%u: %s, set aside as %s; writing to the new %s failed: %s",
                                   l->path, line, problem, name, l->path, strerror(-r));

        return set_message(message, 0,
                           "%s:%u: %s with more records after it; set aside as %s, started a new "
                           "ledger, limits fail closed until the next local midnight",
                           l->path, line, problem, name);
}

/* Reads and replays the file; drops a torn last record, sets a corrupt file aside. */
static int ledger_load(Ledger *l, uint64_t now, char **message)
{
        _cleanup_free_ char *data = NULL;
        size_t size = 0, offset = 0;
        unsigned line = 0;
        int r;

        r = ledger_read_file(l, &data, &size);
        if (r == -EFBIG)
                return set_message(message, r, "%s: larger than %" PRIu64 " MiB", l->path,
                                   LEDGER_FILE_MAX_SIZE / 1024 / 1024);
        if (r < 0)
                return set_message(message, r, "%s: %s", l->path, strerror(-r));

        while (offset < size) {
                const char *p = data + offset, *nl = memchr(p, '\n', size - offset);
                size_t len = nl ? (size_t) (nl - p) : size - offset;
                size_t next = offset + len + (nl ? 1 : 0);
                const char *problem = "incomplete record";
                Record rec = {};
                char seq_problem[128];

                line++;
                r = nl ? record_parse(l, p, len, &rec, &problem) : -EBADMSG;
                if (r == -ENOMEM)
                        return set_message(message, r, "out of memory");
                if (r < 0 && next >= size) {
                        /* A torn write: nothing valid can follow it. Appends start afresh here. */
                        if (ftruncate(l->fd, (off_t) offset) < 0 || fdatasync(l->fd) < 0) {
                                r = negative_errno();
                                return set_message(message, r,
                                                   "%s:%u: %s, and dropping it failed: %s", l->path,
                                                   line, problem, strerror(-r));
                        }
                        return set_message(message, 0,
                                           "%s:%u: %s at the end (an interrupted write), dropped",
                                           l->path, line, problem);
                }
                if (r >= 0 && rec.seq != l->seq + 1) {
                        snprintf(seq_problem, sizeof(seq_problem),
                                 "sequence number %" PRIu64 ", expected %" PRIu64, rec.seq,
                                 l->seq + 1);
                        problem = seq_problem;
                        r = -EBADMSG;
                }
                if (r < 0)
                        return ledger_set_aside(l, now, line, problem, message);
                if (rec.type == RECORD_START && ledger_reserve_open(l) < 0)
                        return set_message(message, -ENOMEM, "out of memory");

                ledger_apply(l, &rec);
                offset = next;
        }
        return 0;
}

/* Sessions the last daemon never ended: it died. Count the rest period from now. */
static int ledger_end_interrupted_sessions(Ledger *l, uint64_t now)
{
        /* Oldest first, so the records are in the order the sessions started. Each append
         * takes its session off the open list. */
        while (l->n_open > 0) {
                Record rec = {.type = RECORD_END, .usec = now, .start = l->open[0]};
                int r;

                rec.state = ledger_intern(l, "aborted");
                rec.reason = ledger_intern(l, "daemon-restart");
                if (!rec.state || !rec.reason)
                        return -ENOMEM;
                r = ledger_append(l, &rec);
                if (r < 0)
                        return r;
        }
        return 0;
}

int ledger_open(const char *dir, uint64_t now, Ledger **ret, char **error_message)
{
        _cleanup_(ledger_freep) Ledger *l = NULL;
        _cleanup_free_ char *message = NULL;
        uint64_t size;
        int r;

        if (error_message)
                *error_message = NULL;
        if (isempty(dir) || !ret)
                return -EINVAL;

        l = calloc(1, sizeof(Ledger));
        if (!l)
                return -ENOMEM;
        l->fd = -1;
        /* Not zeroed: only the slots in use are read, so a page of the ring costs memory only
         * once starts are recorded in it. */
        l->starts = reallocarray(NULL, LEDGER_DAY_STARTS_MAX, sizeof(*l->starts));
        if (!l->starts)
                return -ENOMEM;
        l->dir = strdup(dir);
        if (!l->dir || asprintf(&l->path, "%s/" LEDGER_FILE, dir) < 0) {
                l->path = NULL;
                return -ENOMEM;
        }

        r = ledger_open_file(l, 0, &l->fd, &size);
        if (r == -EBUSY)
                r = set_message(&message, r, "%s: locked by another process", l->path);
        else if (r < 0)
                r = set_message(&message, r, "%s: %s", l->path, strerror(-r));
        if (r >= 0)
                r = ledger_load(l, now, &message);
        if (r >= 0) {
                r = ledger_end_interrupted_sessions(l, now);
                if (r < 0)
                        r = set_message(
                                &message, r,
                                "%s: recording the end of an interrupted session failed: %s",
                                l->path, strerror(-r));
        }
        if (error_message)
                *error_message = TAKE_PTR(message);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(l);
        return 0;
}

Ledger *ledger_free(Ledger *l)
{
        if (!l)
                return NULL;
        safe_close(l->fd);
        free(l->open);
        free(l->starts);
        for (size_t i = 0; i < l->n_strings; i++)
                free(l->strings[i]);
        free(l->strings);
        free(l->path);
        free(l->dir);
        return mfree(l);
}

int ledger_session_started(Ledger *l, uint64_t now, const char *routine, const char *device,
                           uint32_t uid, uint64_t *ret_ref)
{
        Record rec = {.type = RECORD_START, .usec = now, .uid = uid};
        int r;

        if (!value_is_valid(routine, CHARS_ROUTINE) || !value_is_valid(device, CHARS_DEVICE))
                return -EINVAL;

        /* Allocate before writing, so that nothing can fail after the record is on disk. */
        rec.routine = ledger_intern(l, routine);
        rec.device = ledger_intern(l, device);
        if (!rec.routine || !rec.device)
                return -ENOMEM;

        r = ledger_append(l, &rec);
        if (r < 0)
                return r;
        if (ret_ref)
                *ret_ref = rec.seq;
        return 0;
}

int ledger_session_ended(Ledger *l, uint64_t now, uint64_t ref, uint32_t duration_ms,
                         const char *state, const char *reason)
{
        Record rec = {
                .type = RECORD_END,
                .usec = now,
                .start = ref,
                .duration_ms = duration_ms,
        };

        if (!value_is_valid(state, CHARS_TOKEN) || !value_is_valid(reason, CHARS_TOKEN))
                return -EINVAL;
        if (!ledger_is_open(l, ref, NULL))
                return ledger_knows_start(l, ref) ? -EALREADY : -ENOENT;

        rec.state = ledger_intern(l, state);
        rec.reason = ledger_intern(l, reason);
        if (!rec.state || !rec.reason)
                return -ENOMEM;
        return ledger_append(l, &rec);
}

int ledger_add_lockout(Ledger *l, uint64_t now, LockoutReason reason, const char *scope,
                       uint64_t until)
{
        Record rec = {.type = RECORD_LOCKOUT, .usec = now, .lockout = reason, .until = until};

        if ((unsigned) reason >= LOCKOUT_REASON_MAX)
                return -EINVAL;
        if (!scope)
                scope = LEDGER_SCOPE_EVERYONE;
        if (!value_is_valid(scope, CHARS_SCOPE))
                return -EINVAL;
        strcpy(rec.scope, scope);
        return ledger_append(l, &rec);
}

int ledger_clear(Ledger *l, uint64_t now)
{
        Record rec = {.type = RECORD_CLEAR, .usec = now};

        return ledger_append(l, &rec);
}

unsigned ledger_sessions_today(const Ledger *l, uint64_t now)
{
        uint64_t day = start_of_day(now);
        unsigned n = 0;

        /* Sessions "in the future" count too: the clock may have stepped back. */
        for (size_t i = 0; i < l->n_starts; i++)
                if (l->starts[i].usec >= day)
                        n++;
        return n;
}

uint64_t ledger_last_end(const Ledger *l)
{
        return l->last_end;
}

bool ledger_get_lockout(const Ledger *l, uint64_t now, const char *scope, LockoutReason *ret_reason,
                        uint64_t *ret_until)
{
        size_t best = SIZE_MAX;

        /* Everyone's lockouts, and those of this scope: the one that ends last. */
        for (size_t i = 0; i < l->n_lockouts; i++) {
                if (!streq(l->lockouts[i].scope, LEDGER_SCOPE_EVERYONE) &&
                    !streq_ptr(l->lockouts[i].scope, scope))
                        continue;
                if (l->lockouts[i].until > now &&
                    (best == SIZE_MAX || l->lockouts[i].until > l->lockouts[best].until))
                        best = i;
        }
        if (best == SIZE_MAX)
                return false;
        if (ret_reason)
                *ret_reason = l->lockouts[best].reason;
        if (ret_until)
                *ret_until = l->lockouts[best].until;
        return true;
}

int ledger_get_write_error(const Ledger *l)
{
        return l->broken;
}

bool ledger_get_fail_closed(const Ledger *l, uint64_t now, uint64_t *ret_until,
                            const char **ret_why)
{
        if (l->broken < 0) {
                if (ret_until)
                        *ret_until = UINT64_MAX;
                if (ret_why)
                        *ret_why = "ledger-write-failed";
                return true;
        }
        if (l->fail_closed_until <= now)
                return false;
        if (ret_until)
                *ret_until = l->fail_closed_until;
        if (ret_why)
                *ret_why = l->fail_closed_why;
        return true;
}

/*
 * The sessions started in data (whole records from the file), the newest max of them in ring,
 * the oldest at *ret_first.
 * Returns how many starts the window holds, which may be more than max.
 */
static int history_scan(Ledger *l, const char *data, size_t size, LedgerSession *ring, size_t max,
                        size_t *ret_n, size_t *ret_first, size_t *ret_starts)
{
        size_t n = 0, first = 0, starts = 0;

        for (size_t offset = 0; offset < size;) {
                const char *p = data + offset, *nl = memchr(p, '\n', size - offset);
                const char *problem;
                Record rec;
                int r;

                if (!nl)
                        break; /* a record being torn right now */
                r = record_parse(l, p, (size_t) (nl - p), &rec, &problem);
                offset = (size_t) (nl - data) + 1;
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        continue;
                if (rec.type == RECORD_START) {
                        ring[ring_push(&first, &n, max)] = (LedgerSession){
                                .ref = rec.seq,
                                .routine = rec.routine,
                                .device = rec.device,
                                .uid = rec.uid,
                                .start_usec = rec.usec,
                        };
                        starts++;
                } else if (rec.type == RECORD_END) {
                        /* Newest first: a session's end is almost always among the last few. */
                        for (size_t i = n; i > 0; i--) {
                                LedgerSession *h = &ring[(first + i - 1) % max];

                                if (h->ref != rec.start)
                                        continue;
                                if (!h->state) {
                                        h->end_usec = rec.usec;
                                        h->duration_ms = rec.duration_ms;
                                        h->state = rec.state;
                                        h->reason = rec.reason;
                                }
                                break;
                        }
                }
        }
        *ret_n = n;
        *ret_first = first;
        *ret_starts = starts;
        return 0;
}

static void reverse_sessions(LedgerSession *s, size_t n)
{
        for (size_t i = 0; i < n / 2; i++) {
                LedgerSession t = s[i];

                s[i] = s[n - 1 - i];
                s[n - 1 - i] = t;
        }
}

int ledger_read_history(Ledger *l, size_t max, LedgerSession **ret)
{
        _cleanup_free_ LedgerSession *ring = NULL;
        _cleanup_free_ char *data = NULL;
        _cleanup_close_ int fd = -1;
        size_t n = 0, first = 0, starts = 0;
        struct stat st;
        uint64_t window;
        int r;

        *ret = NULL;
        max = MIN(max, (size_t) LEDGER_HISTORY_MAX);
        if (max == 0)
                return 0;

        fd = ledger_open_for_reading(l, &st);
        if (fd < 0)
                return fd;

        ring = calloc(max, sizeof(LedgerSession));
        if (!ring)
                return -ENOMEM;

        /*
         * From the end backwards, only as far as max sessions go: a session is two records of
         * about a hundred bytes. Each try that finds too few starts reads four times as far.
         */
        window = MAX(max * 2 * 128, (uint64_t) 16384);
        for (;;) {
                uint64_t offset =
                        (uint64_t) st.st_size > window ? (uint64_t) st.st_size - window : 0;
                size_t got, skip = 0;
                ssize_t n_read;
                char *d;

                d = realloc(data, (size_t) ((uint64_t) st.st_size - offset) + 1);
                if (!d)
                        return -ENOMEM;
                data = d;
                if (lseek(fd, (off_t) offset, SEEK_SET) < 0)
                        return negative_errno();
                n_read = loop_read(fd, data, (size_t) ((uint64_t) st.st_size - offset));
                if (n_read < 0)
                        return (int) n_read;
                got = (size_t) n_read;
                /* The window may start in the middle of a record: its first line is skipped. */
                if (offset > 0) {
                        const char *nl = memchr(data, '\n', got);
                        skip = nl ? (size_t) (nl - data) + 1 : got;
                }
                r = history_scan(l, data + skip, got - skip, ring, max, &n, &first, &starts);
                if (r < 0)
                        return r;
                if (starts >= max || offset == 0 || window >= LEDGER_FILE_MAX_SIZE)
                        break;
                window = MIN(window * 4, LEDGER_FILE_MAX_SIZE);
        }

        /* Newest first: ring[first - 1] down to ring[0], then ring[n - 1] down to ring[first]. */
        reverse_sessions(ring, first);
        reverse_sessions(ring + first, n - first);
        *ret = TAKE_PTR(ring);
        return (int) n;
}

const char *ledger_get_path(const Ledger *l)
{
        return l->path;
}

int ledger_test_replace_fd(Ledger *l, int fd)
{
        safe_close(l->fd);
        l->fd = fd;
        return 0;
}
