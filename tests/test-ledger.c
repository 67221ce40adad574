/* SPDX-License-Identifier: MIT */

#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "ledger.h"
#include "tests.h"
#include "time-util.h"

#define HOUR (60 * USEC_PER_MINUTE)

/* A temporary directory that removes itself, with everything in it, at the end of the scope. */
static void rm_rf_freep(char **dir)
{
        char cmd[512];

        if (!*dir)
                return;
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", *dir);
        ASSERT_EQ(system(cmd), 0);
        free(*dir);
}
#define _cleanup_rm_rf_ _cleanup_(rm_rf_freep)

static char *make_temp_dir(void)
{
        char dir[] = "/tmp/kneed-test-ledger-XXXXXX";

        ASSERT_TRUE(mkdtemp(dir));
        return strdup(dir);
}

static char *path_in(const char *dir, const char *name)
{
        char *p;

        ASSERT_TRUE(asprintf(&p, "%s/%s", dir, name) > 0);
        return p;
}

static char *read_file(const char *path)
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char *buf = NULL;
        size_t size = 0;
        FILE *m;

        ASSERT_TRUE(f);
        m = open_memstream(&buf, &size);
        ASSERT_TRUE(m);
        for (int c; (c = fgetc(f)) != EOF;)
                fputc(c, m);
        ASSERT_EQ(fclose(m), 0);
        return buf;
}

static void write_file(const char *path, const char *mode, const char *text)
{
        _cleanup_fclose_ FILE *f = fopen(path, mode);

        ASSERT_TRUE(f);
        ASSERT_EQ(fputs(text, f) >= 0, 1);
}

static uint64_t file_size(const char *path)
{
        struct stat st;

        ASSERT_EQ(stat(path, &st), 0);
        return (uint64_t) st.st_size;
}

static unsigned count_lines(const char *text)
{
        unsigned n = 0;

        for (const char *p = text; *p; p++)
                n += *p == '\n';
        return n;
}

static size_t count_substrings(const char *text, const char *needle)
{
        size_t n = 0;

        for (const char *p = text; (p = strstr(p, needle)); p++)
                n++;
        return n;
}

/* A second, bitwise CRC-32, so the tests can write records by hand and check the ledger's. */
static uint32_t slow_crc32(const char *s)
{
        uint32_t crc = UINT32_MAX;

        for (; *s; s++) {
                crc ^= (uint8_t) *s;
                for (int k = 0; k < 8; k++)
                        crc = (crc & 1) ? 0xedb88320 ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
}

/* body plus a correct " crc=...\n". */
static char *make_record(const char *body)
{
        char *p;

        ASSERT_TRUE(asprintf(&p, "%s crc=%08" PRIx32 "\n", body, slow_crc32(body)) > 0);
        return p;
}

static void set_tz(const char *tz)
{
        ASSERT_EQ(setenv("TZ", tz, 1), 0);
        tzset();
}

/* Berlin, from the zone database if it is installed, else the equivalent POSIX rule. */
static void set_tz_berlin(void)
{
        set_tz(access("/usr/share/zoneinfo/Europe/Berlin", F_OK) == 0
                       ? "Europe/Berlin"
                       : "CET-1CEST,M3.5.0,M10.5.0/3");
}

/* A UTC date and time, in usec. */
static uint64_t utc(int year, int month, int day, int hour, int minute)
{
        struct tm tm = {
                .tm_year = year - 1900,
                .tm_mon = month - 1,
                .tm_mday = day,
                .tm_hour = hour,
                .tm_min = minute,
        };

        return (uint64_t) timegm(&tm) * USEC_PER_SEC;
}

static Ledger *open_ledger(const char *dir, uint64_t now)
{
        _cleanup_free_ char *message = NULL;
        Ledger *l = NULL;

        ASSERT_OK(ledger_open(dir, now, &l, &message));
        ASSERT_TRUE(l);
        /* A clean ledger has nothing to report. */
        ASSERT_TRUE(message == NULL);
        return l;
}

/* The history read back from the file, replacing what *h held. */
static int history(Ledger *l, size_t max, LedgerSession **h)
{
        *h = mfree(*h);
        return ledger_read_history(l, max, h);
}

static uint64_t start_session(Ledger *l, uint64_t now)
{
        uint64_t ref = 0;

        ASSERT_OK(ledger_session_started(l, now, "quad-warmup", "KneeWrap_01", 1000, &ref));
        ASSERT_TRUE(ref > 0);
        return ref;
}

static void test_lockout_reason_to_string(void)
{
        ASSERT_STREQ(lockout_reason_to_string(LOCKOUT_PAIN), "pain");
        ASSERT_STREQ(lockout_reason_to_string(LOCKOUT_OVERHEAT), "overheat");
        ASSERT_STREQ(lockout_reason_to_string(LOCKOUT_FAULT), "fault");
        ASSERT_TRUE(lockout_reason_to_string(LOCKOUT_REASON_MAX) == NULL);
        ASSERT_TRUE(lockout_reason_to_string((LockoutReason) -1) == NULL);
}

/* The bytes on disk are the documented format, with zlib's CRC-32 (values from Python's zlib). */
static void test_ledger_file_format(void)
{
        _cleanup_rm_rf_ char *dir = make_temp_dir();
        _cleanup_free_ char *path = path_in(dir, "ledger"), *text = NULL;
        _cleanup_(ledger_freep) Ledger *l = NULL;
        struct stat st;
        uint64_t ref = 0;

        ASSERT_EQ(slow_crc32("123456789"), 0xcbf43926);

        l = open_ledger(dir, UINT64_C(1700000000000000));
        ASSERT_STREQ(ledger_get_path(l), path);
        ASSERT_EQ(stat(path, &st), 0);
        ASSERT_EQ(st.st_mode & 07777, 0600);
        ASSERT_EQ(st.st_size, 0);

        ASSERT_OK(ledger_session_started(l, UINT64_C(1700000001000000), "quad-warmup",
                                         "KneeWrap_01", 1000, &ref));
        ASSERT_EQ(ref, 1);
        ASSERT_OK(ledger_session_ended(l, UINT64_C(1700000601000000), ref, 600000, "completed",
                                       "finished"));
        ASSERT_OK(ledger_add_lockout(l, UINT64_C(1700000700000000), LOCKOUT_PAIN, NULL,
                                     UINT64_C(1700086400000000)));
        ASSERT_OK(ledger_clear(l, UINT64_C(1700000800000000)));

        text = read_file(path);
        ASSERT_STREQ(text, "1 1700000001000000 start routine=quad-warmup device=KneeWrap_01 "
                           "uid=1000 crc=88691277\n"
                           "2 1700000601000000 end start=1 duration_ms=600000 state=completed "
                           "reason=finished crc=8e761500\n"
                           "3 1700000700000000 lockout reason=pain until=1700086400000000 "
                           "scope=* crc=729f4741\n"
                           "4 1700000800000000 clear crc=627666cf\n");
        l = ledger_free(l);

        /* A failclosed record written by someone else's zlib is read back. */
        write_file(path, "a",
                   "5 1700000900000000 failclosed until=1700006400000000 why=test crc=cbce5b72\n");
        l = open_ledger(dir, UINT64_C(1700000950000000));
        {
                const char *why = NULL;
                uint64_t until = 0;

                ASSERT_TRUE(ledger_get_fail_closed(l, UINT64_C(1700000950000000), &until, &why));
                ASSERT_EQ(until, UINT64_C(1700006400000000));
                ASSERT_STREQ(why, "test");
                ASSERT_FALSE(ledger_get_fail_closed(l, UINT64_C(1700006400000000), NULL, NULL));
        }
}

/* Everything the ledger reports survives closing and reopening it. */
static void test_ledger_reopen(void)
{
        _cleanup_rm_rf_ char *dir = make_temp_dir();
        _cleanup_(ledger_freep) Ledger *l = NULL;
        _cleanup_free_ LedgerSession *h = NULL;
        uint64_t t = utc(2024, 5, 6, 8, 0), a, b, until = 0;
        LockoutReason reason = LOCKOUT_REASON_MAX;

        set_tz("UTC");
        l = open_ledger(dir, t);
        ASSERT_EQ(ledger_sessions_today(l, t), 0);
        ASSERT_EQ(ledger_last_end(l), 0);
        ASSERT_EQ(history(l, 10, &h), 0);

        a = start_session(l, t);
        ASSERT_OK(ledger_session_ended(l, t + 10 * USEC_PER_MINUTE, a, 600000, "completed",
                                       "finished"));
        ASSERT_OK(ledger_session_started(l, t + HOUR, "calf-knead", "Pad_2", 42, &b));
        ASSERT_OK(ledger_session_ended(l, t + HOUR + USEC_PER_MINUTE, b, 61000, "stopped",
                                       "session-stop"));
        ASSERT_OK(ledger_add_lockout(l, t + 2 * HOUR, LOCKOUT_OVERHEAT, NULL, t + 3 * HOUR));
        ASSERT_FALSE(ledger_get_fail_closed(l, t, NULL, NULL));
        l = ledger_free(l);

        l = open_ledger(dir, t + 2 * HOUR + 1);
        ASSERT_EQ(ledger_sessions_today(l, t + 2 * HOUR), 2);
        ASSERT_EQ(ledger_last_end(l), t + HOUR + USEC_PER_MINUTE);
        ASSERT_TRUE(ledger_get_lockout(l, t + 2 * HOUR + 1, NULL, &reason, &until));
        ASSERT_EQ(reason, LOCKOUT_OVERHEAT);
        ASSERT_EQ(until, t + 3 * HOUR);
        ASSERT_FALSE(ledger_get_fail_closed(l, t + 2 * HOUR, NULL, NULL));

        ASSERT_EQ(history(l, 10, &h), 2);
        ASSERT_EQ(h[0].ref, b);
        ASSERT_STREQ(h[0].routine, "calf-knead");
        ASSERT_STREQ(h[0].device, "Pad_2");
        ASSERT_EQ(h[0].uid, 42);
        ASSERT_EQ(h[0].start_usec, t + HOUR);
        ASSERT_EQ(h[0].end_usec, t + HOUR + USEC_PER_MINUTE);
        ASSERT_EQ(h[0].duration_ms, 61000);
        ASSERT_STREQ(h[0].state, "stopped");
        ASSERT_STREQ(h[0].reason, "session-stop");
        ASSERT_EQ(h[1].ref, a);
        ASSERT_STREQ(h[1].routine, "quad-warmup");
        ASSERT_STREQ(h[1].state, "completed");
        ASSERT_EQ(history(l, 1, &h), 1);
        ASSERT_EQ(h[0].ref, b);

        /* Sequence numbers carry on where the file ended. */
        ASSERT_EQ(start_session(l, t + 3 * HOUR), 6);
}

/* The count covers the local day of now and starts again at local midnight. */
static void test_ledger_sessions_today_utc(void)
{
        _cleanup_rm_rf_ char *dir = make_temp_dir();
        _cleanup_(ledger_freep) Ledger *l = NULL;
        uint64_t day = utc(2024, 3, 10, 0, 0);

        set_tz("UTC");
        l = open_ledger(dir, day);
        start_session(l, day - 1); /* 23:59:59.999999 the day before */
        start_session(l, day);
        start_session(l, day + 8 * HOUR);
        start_session(l, day + 24 * HOUR - 1);
        ASSERT_EQ(ledger_sessions_today(l, day - 1), 4); /* the later ones are "in the future" */
        ASSERT_EQ(ledger_sessions_today(l, day + 24 * HOUR - 1), 3);
        ASSERT_EQ(ledger_sessions_today(l, day + 24 * HOUR), 0);
        start_session(l, day + 25 * HOUR);
        ASSERT_EQ(ledger_sessions_today(l, day + 26 * HOUR), 1);
        ASSERT_EQ(ledger_sessions_today(l, day + 48 * HOUR), 0);
        l = ledger_free(l);

        /* Reopening ends the open sessions but keeps the count. */
        l = open_ledger(dir, day + 26 * HOUR);
        ASSERT_EQ(ledger_sessions_today(l, day + 26 * HOUR), 1);
        ASSERT_EQ(ledger_sessions_today(l, day + 12 * HOUR), 4);
}

/* The day is the local one: Berlin's midnight is 23:00 UTC in winter, 22:00 in summer. */
static void test_ledger_sessions_today_berlin(void)
{
        _cleanup_rm_rf_ char *dir = make_temp_dir();
        _cleanup_(ledger_freep) Ledger *l = NULL;

        set_tz_berlin();
        l = open_ledger(dir, utc(2024, 1, 14, 12, 0));
        start_session(l, utc(2024, 1, 14, 22, 30)); /* 23:30 on the 14th in Berlin */
        start_session(l, utc(2024, 1, 14, 23, 30)); /* 00:30 on the 15th in Berlin */
        ASSERT_EQ(ledger_sessions_today(l, utc(2024, 1, 14, 22, 59)), 2);
        ASSERT_EQ(ledger_sessions_today(l, utc(2024, 1, 14, 23, 0)), 1);
        ASSERT_EQ(ledger_sessions_today(l, utc(2024, 1, 15, 22, 59)), 1);
        ASSERT_EQ(ledger_sessions_today(l, utc(2024, 1, 15, 23, 0)), 0);

        /* Summer time. */
        start_session(l, utc(2024, 7, 1, 21, 30)); /* 23:30 on 1 July in Berlin */
        start_session(l, utc(2024, 7, 1, 22, 30)); /* 00:30 on 2 July in Berlin */
        ASSERT_EQ(ledger_sessions_today(l, utc(2024, 7, 1, 21, 59)), 2);
        ASSERT_EQ(ledger_sessions_today(l, utc(2024, 7, 1, 22, 0)), 1);
        ASSERT_EQ(ledger_sessions_today(l, utc(2024, 7, 2, 21, 59)), 1);
        ASSERT_EQ(ledger_sessions_today(l, utc(2024, 7, 2, 22, 0)), 0);

        /* The 23-hour day when summer time starts (31 March 2024) is still one day. */
        start_session(l, utc(2024, 3, 30, 23, 30)); /* 00:30 CET */
        start_session(l, utc(2024, 3, 31, 21, 30)); /* 23:30 CEST */
        ASSERT_EQ(ledger_sessions_today(l, utc(2024, 3, 31, 21, 59)), 2 + 2);
        ASSERT_EQ(ledger_sessions_today(l, utc(2024, 3, 31, 22, 0)), 2);

        set_tz("UTC");
}

/* Stepping the clock back, by hours or across midnight, never loosens a limit. */
static void test_ledger_clock_backwards(void)
{
        _cleanup_rm_rf_ char *dir = make_temp_dir();
        _cleanup_(ledger_freep) Ledger *l = NULL;
        uint64_t day = utc(2024, 4, 2, 0, 0), until = 0, ref;
        LockoutReason reason;

        set_tz("UTC");
        l = open_ledger(dir, day + 9 * HOUR);
        ref = start_session(l, day + 10 * HOUR);
        ASSERT_OK(ledger_session_ended(l, day + 10 * HOUR + 20 * USEC_PER_MINUTE, ref, 1200000,
                                       "completed", "finished"));
        start_session(l, day + 11 * HOUR);
        ASSERT_OK(ledger_add_lockout(l, day + 11 * HOUR + 30 * USEC_PER_MINUTE, LOCKOUT_PAIN, NULL,
                                     day + 13 * HOUR + 30 * USEC_PER_MINUTE));

        /* Back by three and a half hours. */
        ASSERT_EQ(ledger_sessions_today(l, day + 8 * HOUR), 2);
        ASSERT_TRUE(ledger_get_lockout(l, day + 8 * HOUR, NULL, &reason, &until));
        ASSERT_EQ(reason, LOCKOUT_PAIN);
        ASSERT_EQ(until, day + 13 * HOUR + 30 * USEC_PER_MINUTE);
        ASSERT_EQ(ledger_last_end(l), day + 10 * HOUR + 20 * USEC_PER_MINUTE);

        /* Back across midnight: today's sessions lie in the future, and still count. */
        ASSERT_EQ(ledger_sessions_today(l, day - 2 * HOUR), 2);
        ASSERT_TRUE(ledger_get_lockout(l, day - 2 * HOUR, NULL, NULL, NULL));
        start_session(l, day - 2 * HOUR);
        ASSERT_EQ(ledger_sessions_today(l, day - 2 * HOUR), 3);

        /* An end recorded at the earlier time does not move the last end back. */
        ASSERT_OK(ledger_session_ended(l, day - 2 * HOUR, 5, 0, "stopped", "session-stop"));
        ASSERT_EQ(ledger_last_end(l), day + 10 * HOUR + 20 * USEC_PER_MINUTE);
        l = ledger_free(l);

        /* Nor does reopening with the clock back (which ends the session still open). */
        l = open_ledger(dir, day - HOUR);
        ASSERT_EQ(ledger_sessions_today(l, day - HOUR), 3);
        ASSERT_EQ(ledger_sessions_today(l, day + 12 * HOUR), 2);
        ASSERT_EQ(ledger_last_end(l), day + 10 * HOUR + 20 * USEC_PER_MINUTE);
        ASSERT_TRUE(ledger_get_lockout(l, day - HOUR, NULL, NULL, &until));
        ASSERT_EQ(until, day + 13 * HOUR + 30 * USEC_PER_MINUTE);
}

static void check_torn(const char *dir, const char *tail, const char *problem)
{
        _cleanup_free_ char *path = path_in(dir, "ledger"), *good = NULL, *text = NULL;
        _cleanup_free_ char *message = NULL;
        _cleanup_(ledger_freep) Ledger *l = NULL;
        _cleanup_free_ LedgerSession *h = NULL;
        uint64_t t = utc(2024, 6, 1, 9, 0), ref;

        l = open_ledger(dir, t);
        ref = start_session(l, t);
        ASSERT_OK(ledger_session_ended(l, t + 1, ref, 1, "completed", "finished"));
        ref = start_session(l, t + 2);
        ASSERT_OK(ledger_session_ended(l, t + 3, ref, 1, "completed", "finished"));
        l = ledger_free(l);
        good = read_file(path);

        write_file(path, "a", tail);
        ASSERT_OK(ledger_open(dir, t + 4, &l, &message));
        ASSERT_CONTAINS(message, path);
        ASSERT_CONTAINS(message, ":5: ");
        ASSERT_CONTAINS(message, problem);
        ASSERT_CONTAINS(message, "dropped");
        ASSERT_FALSE(ledger_get_fail_closed(l, t + 4, NULL, NULL));

        /* Every good record is there, and only those are in the file. */
        ASSERT_EQ(history(l, 10, &h), 2);
        ASSERT_STREQ(h[0].state, "completed");
        ASSERT_STREQ(h[1].state, "completed");
        ASSERT_EQ(ledger_last_end(l), t + 3);
        text = read_file(path);
        ASSERT_STREQ(text, good);
        text = mfree(text);

        /* The next record starts on a clean line, and the file reads back cleanly. */
        ASSERT_EQ(start_session(l, t + 5), 5);
        ASSERT_OK(ledger_session_ended(l, t + 6, 5, 1, "completed", "finished"));
        l = ledger_free(l);
        l = open_ledger(dir, t + 7);
        ASSERT_EQ(history(l, 10, &h), 3);
        ASSERT_EQ(h[0].ref, 5);
        ASSERT_EQ(ledger_sessions_today(l, t + 7), 3);
        text = read_file(path);
        ASSERT_EQ(count_lines(text), 6);
        ASSERT_EQ(strncmp(text, good, strlen(good)), 0);
}

/* A write torn by a crash is dropped, and nothing before it is lost. */
static void test_ledger_torn_last_record(void)
{
        _cleanup_free_ char *bad_crc = make_record("5 1717232400000000 clear");
        _cleanup_rm_rf_ char *dir1 = make_temp_dir();
        _cleanup_rm_rf_ char *dir2 = make_temp_dir();
        _cleanup_rm_rf_ char *dir3 = make_temp_dir();
        _cleanup_rm_rf_ char *dir4 = make_temp_dir();

        set_tz("UTC");
        /* No newline: the write stopped part way. */
        check_torn(dir1, "5 1717232400000000 start routine=quad-warm", "incomplete record");
        /* Only a few bytes of the line. */
        check_torn(dir2, "5", "incomplete record");
        /* A whole line whose checksum is wrong, at the very end. */
        bad_crc[strlen(bad_crc) - 2] = bad_crc[strlen(bad_crc) - 2] == '0' ? '1' : '0';
        check_torn(dir3, bad_crc, "bad checksum");
        /* An empty last line. */
        check_torn(dir4, "\n", "malformed record");
}

/* A ledger with nothing but a torn record becomes an empty one. */
static void test_ledger_torn_only_record(void)
{
        _cleanup_rm_rf_ char *dir = make_temp_dir();
        _cleanup_free_ char *path = path_in(dir, "ledger"), *message = NULL;
        _cleanup_(ledger_freep) Ledger *l = NULL;

        write_file(path, "w", "1 17000000");
        ASSERT_OK(ledger_open(dir, 1, &l, &message));
        ASSERT_CONTAINS(message, ":1: incomplete record");
        ASSERT_EQ(file_size(path), 0);
        ASSERT_EQ(start_session(l, 2), 1);
}

static void check_corrupt(const char *dir, const char *text, uint64_t now, const char *line,
                          const char *problem, const char *aside_name)
{
        _cleanup_free_ char *path = path_in(dir, "ledger"), *aside = path_in(dir, aside_name);
        _cleanup_free_ char *message = NULL, *contents = NULL, *expected = NULL, *body = NULL;
        _cleanup_(ledger_freep) Ledger *l = NULL;
        _cleanup_free_ LedgerSession *h = NULL;
        const char *why = NULL;
        uint64_t until = 0, midnight;

        /* Berlin's next midnight after now, as a UTC instant. */
        {
                time_t t = (time_t) (now / USEC_PER_SEC);
                struct tm tm;

                ASSERT_TRUE(localtime_r(&t, &tm));
                tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
                tm.tm_mday++;
                tm.tm_isdst = -1;
                midnight = (uint64_t) mktime(&tm) * USEC_PER_SEC;
        }

        write_file(path, "w", text);
        ASSERT_OK(ledger_open(dir, now, &l, &message));
        ASSERT_CONTAINS(message, path);
        ASSERT_CONTAINS(message, line);
        ASSERT_CONTAINS(message, problem);
        ASSERT_CONTAINS(message, aside);
        ASSERT_CONTAINS(message, "fail closed");

        /* The untrusted file is kept, byte for byte, for a human to look at. */
        contents = read_file(aside);
        ASSERT_STREQ(contents, text);
        contents = mfree(contents);

        /* None of its records counts; instead, everything fails closed for the rest of the day. */
        ASSERT_EQ(history(l, 10, &h), 0);
        ASSERT_EQ(ledger_sessions_today(l, now), 0);
        ASSERT_FALSE(ledger_get_lockout(l, now, NULL, NULL, NULL));
        ASSERT_TRUE(ledger_get_fail_closed(l, now, &until, &why));
        ASSERT_EQ(until, midnight);
        ASSERT_STREQ(why, "ledger-corrupt");
        ASSERT_TRUE(ledger_get_fail_closed(l, midnight - 1, NULL, NULL));
        ASSERT_FALSE(ledger_get_fail_closed(l, midnight, NULL, NULL));

        /* The new ledger holds exactly that. */
        ASSERT_TRUE(asprintf(&body, "1 %" PRIu64 " failclosed until=%" PRIu64 " why=ledger-corrupt",
                             now, midnight) > 0);
        expected = make_record(body);
        contents = read_file(path);
        ASSERT_STREQ(contents, expected);
        l = ledger_free(l);

        /* It survives a restart, and an administrator can clear it. */
        l = open_ledger(dir, now + 1);
        ASSERT_TRUE(ledger_get_fail_closed(l, now + 1, &until, NULL));
        ASSERT_EQ(until, midnight);
        ASSERT_OK(ledger_clear(l, now + 2));
        ASSERT_FALSE(ledger_get_fail_closed(l, now + 2, NULL, NULL));
        l = ledger_free(l);
        l = open_ledger(dir, now + 3);
        ASSERT_FALSE(ledger_get_fail_closed(l, now + 3, NULL, NULL));
}

/* A bad record with more after it: the ledger is set aside and limits fail closed. */
static void test_ledger_corrupt_middle(void)
{
        _cleanup_rm_rf_ char *dir = make_temp_dir();
        _cleanup_free_ char *path = path_in(dir, "ledger"), *text = NULL, *name = NULL;
        _cleanup_(ledger_freep) Ledger *l = NULL;
        uint64_t t = utc(2024, 1, 15, 8, 0), ref;
        char *p;

        set_tz_berlin();
        l = open_ledger(dir, t);
        ref = start_session(l, t);
        ASSERT_OK(ledger_session_ended(l, t + HOUR, ref, 1200000, "completed", "finished"));
        ASSERT_OK(ledger_add_lockout(l, t + HOUR, LOCKOUT_FAULT, NULL, t + 48 * HOUR));
        start_session(l, t + 2 * HOUR);
        l = ledger_free(l);

        /* One flipped bit in the duration of the second record. */
        text = read_file(path);
        p = strstr(text, "duration_ms=1200000");
        ASSERT_TRUE(p);
        p[strlen("duration_ms=")] ^= 1;
        ASSERT_TRUE(asprintf(&name, "ledger.corrupt-%" PRIu64, t + 3 * HOUR) > 0);
        check_corrupt(dir, text, t + 3 * HOUR, ":2: ", "bad checksum", name);

        /* Set aside at the same time again: the earlier copy is not overwritten. */
        free(name);
        ASSERT_TRUE(asprintf(&name, "ledger.corrupt-%" PRIu64 ".1", t + 3 * HOUR) > 0);
        check_corrupt(dir, text, t + 3 * HOUR, ":2: ", "bad checksum", name);
        set_tz("UTC");
}

/* Records that are each intact but do not follow each other are corrupt too. */
static void test_ledger_corrupt_sequence(void)
{
        _cleanup_rm_rf_ char *dir = make_temp_dir();
        _cleanup_free_ char *r1 = make_record("1 1705300000000000 start routine=a device=b uid=0");
        _cleanup_free_ char *r3 = make_record("3 1705300000000001 clear");
        _cleanup_free_ char *r4 = make_record("4 1705300000000002 clear");
        _cleanup_free_ char *text = NULL;

        set_tz_berlin();
        ASSERT_TRUE(asprintf(&text, "%s%s%s", r1, r3, r4) > 0);
        check_corrupt(dir, text, UINT64_C(1705310000000000),
                      ":2: ", "sequence number 3, expected 2", "ledger.corrupt-1705310000000000");

        /* A bad record followed by a torn one is not a torn write: fail closed. */
        free(text);
        ASSERT_TRUE(asprintf(&text, "%s%s", r1, "2 garbage\n3 1705") > 0);
        check_corrupt(dir, text, UINT64_C(1705320000000000), ":2: ", "malformed record",
                      "ledger.corrupt-1705320000000000");
        set_tz("UTC");
}

/* A daemon killed mid-session: on the next start the session gets its end, dated then. */
static void test_ledger_interrupted_session(void)
{
        _cleanup_rm_rf_ char *dir = make_temp_dir();
        _cleanup_free_ char *path = path_in(dir, "ledger"), *text = NULL;
        _cleanup_(ledger_freep) Ledger *l = NULL;
        uint64_t t = utc(2024, 2, 1, 10, 0), size;
        _cleanup_free_ LedgerSession *h = NULL;
        int status;
        pid_t pid;

        set_tz("UTC");
        l = open_ledger(dir, t);
        ASSERT_EQ(start_session(l, t), 1);
        ASSERT_OK(ledger_session_ended(l, t + 1, 1, 1, "completed", "finished"));
        l = ledger_free(l);

        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                Ledger *c = open_ledger(dir, t + HOUR);

                start_session(c, t + HOUR);
                start_session(c, t + HOUR + 1);
                raise(SIGKILL);
                _exit(EXIT_FAILURE);
        }
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

        l = open_ledger(dir, t + 5 * HOUR);
        ASSERT_EQ(ledger_last_end(l), t + 5 * HOUR);
        ASSERT_EQ(ledger_sessions_today(l, t + 5 * HOUR), 3);
        ASSERT_EQ(history(l, 10, &h), 3);
        for (size_t i = 0; i < 2; i++) {
                ASSERT_EQ(h[i].ref, 4 - i);
                ASSERT_EQ(h[i].end_usec, t + 5 * HOUR);
                ASSERT_EQ(h[i].duration_ms, 0);
                ASSERT_STREQ(h[i].state, "aborted");
                ASSERT_STREQ(h[i].reason, "daemon-restart");
        }
        ASSERT_STREQ(h[2].state, "completed");
        ASSERT_EQ(h[2].end_usec, t + 1);
        l = ledger_free(l);

        /* The end records are in the file, oldest session first; a second restart adds none. */
        text = read_file(path);
        ASSERT_EQ(count_lines(text), 6);
        for (unsigned seq = 5; seq <= 6; seq++) {
                _cleanup_free_ char *record = NULL;

                ASSERT_TRUE(asprintf(&record,
                                     "\n%u %" PRIu64 " end start=%u duration_ms=0 state=aborted "
                                     "reason=daemon-restart crc=",
                                     seq, t + 5 * HOUR, seq - 2) > 0);
                ASSERT_CONTAINS(text, record);
        }
        size = file_size(path);
        l = open_ledger(dir, t + 6 * HOUR);
        ASSERT_EQ(ledger_last_end(l), t + 5 * HOUR);
        ASSERT_EQ(file_size(path), size);
}

/* The active lockout that ends last wins; clear ends them all, and later ones count again. */
static void test_ledger_lockouts(void)
{
        _cleanup_rm_rf_ char *dir = make_temp_dir();
        _cleanup_(ledger_freep) Ledger *l = NULL;
        uint64_t t = utc(2024, 8, 1, 12, 0), until = 0;
        LockoutReason reason = LOCKOUT_REASON_MAX;

        set_tz("UTC");
        l = open_ledger(dir, t);
        ASSERT_FALSE(ledger_get_lockout(l, t, NULL, &reason, &until));
        ASSERT_EQ(reason, LOCKOUT_REASON_MAX); /* untouched */

        /* An expired one is no lockout. */
        ASSERT_OK(ledger_add_lockout(l, t, LOCKOUT_FAULT, NULL, t - 1));
        ASSERT_FALSE(ledger_get_lockout(l, t, NULL, NULL, NULL));

        ASSERT_OK(ledger_add_lockout(l, t, LOCKOUT_PAIN, NULL, t + HOUR));
        ASSERT_TRUE(ledger_get_lockout(l, t + 1, NULL, &reason, &until));
        ASSERT_EQ(reason, LOCKOUT_PAIN);
        ASSERT_EQ(until, t + HOUR);
        ASSERT_OK(ledger_add_lockout(l, t + 1, LOCKOUT_OVERHEAT, NULL, t + 2 * HOUR));
        ASSERT_OK(ledger_add_lockout(l, t + 2, LOCKOUT_FAULT, NULL, t + 90 * USEC_PER_MINUTE));
        ASSERT_TRUE(ledger_get_lockout(l, t + 3, NULL, &reason, &until));
        ASSERT_EQ(reason, LOCKOUT_OVERHEAT);
        ASSERT_EQ(until, t + 2 * HOUR);
        ASSERT_TRUE(ledger_get_lockout(l, t + 2 * HOUR - 1, NULL, NULL, NULL));
        ASSERT_FALSE(ledger_get_lockout(l, t + 2 * HOUR, NULL, NULL, NULL));
        l = ledger_free(l);

        l = open_ledger(dir, t + 4);
        ASSERT_TRUE(ledger_get_lockout(l, t + 4, NULL, &reason, &until));
        ASSERT_EQ(reason, LOCKOUT_OVERHEAT);
        ASSERT_EQ(until, t + 2 * HOUR);

        ASSERT_OK(ledger_clear(l, t + 5));
        ASSERT_FALSE(ledger_get_lockout(l, t + 5, NULL, NULL, NULL));
        ASSERT_FALSE(ledger_get_lockout(l, t - 24 * HOUR, NULL, NULL, NULL));
        ASSERT_OK(ledger_add_lockout(l, t + 6, LOCKOUT_PAIN, NULL, t + 30 * USEC_PER_MINUTE));
        l = ledger_free(l);

        /* Only the lockout after the clear is left after a restart. */
        l = open_ledger(dir, t + 7);
        ASSERT_TRUE(ledger_get_lockout(l, t + 7, NULL, &reason, &until));
        ASSERT_EQ(reason, LOCKOUT_PAIN);
        ASSERT_EQ(until, t + 30 * USEC_PER_MINUTE);
        ASSERT_FALSE(ledger_get_lockout(l, t + 30 * USEC_PER_MINUTE, NULL, NULL, NULL));
}

static void check_broken(Ledger *l, uint64_t now, int error)
{
        const char *why = NULL;
        uint64_t until = 0;

        ASSERT_TRUE(ledger_get_fail_closed(l, now, &until, &why));
        ASSERT_EQ(until, UINT64_MAX);
        ASSERT_STREQ(why, "ledger-write-failed");
        ASSERT_EQ(ledger_get_write_error(l), error);
        /* Every later append fails with the first error, and clear cannot undo it. */
        ASSERT_EQ(ledger_session_started(l, now, "a", "b", 0, NULL), error);
        ASSERT_EQ(ledger_add_lockout(l, now, LOCKOUT_PAIN, NULL, now + HOUR), error);
        ASSERT_EQ(ledger_clear(l, now), error);
        ASSERT_TRUE(ledger_get_fail_closed(l, now, NULL, NULL));
}

/* When a record cannot be written, nothing changes and the ledger fails closed. */
static void test_ledger_broken_append(void)
{
        _cleanup_rm_rf_ char *dir = make_temp_dir();
        _cleanup_free_ char *path = path_in(dir, "ledger"), *good = NULL, *text = NULL;
        _cleanup_free_ char *message = NULL;
        _cleanup_(ledger_freep) Ledger *l = NULL;
        uint64_t t = utc(2024, 9, 1, 12, 0), ref = 0;
        _cleanup_free_ LedgerSession *h = NULL;
        struct rlimit saved, rl;
        int fd, pipe_fds[2];

        set_tz("UTC");
        l = open_ledger(dir, t);
        start_session(l, t); /* still open */
        good = read_file(path);

        /* write() fails: the descriptor is not open for writing. */
        fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(ledger_test_replace_fd(l, fd));
        ASSERT_ERROR(ledger_session_started(l, t + 1, "quad-warmup", "KneeWrap_01", 0, &ref),
                     EBADF);
        ASSERT_EQ(ref, 0);
        ASSERT_EQ(ledger_sessions_today(l, t + 1), 1);
        ASSERT_FALSE(ledger_get_lockout(l, t + 1, NULL, NULL, NULL));
        check_broken(l, t + 1, -EBADF);
        ASSERT_ERROR(ledger_session_ended(l, t + 1, 1, 0, "stopped", "x"), EBADF);
        /* History is not read from a file other than the one appended to. */
        ASSERT_ERROR(history(l, 10, &h), ESTALE);
        /* Even with a working descriptor again: what failed once is not trusted again. */
        fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(ledger_test_replace_fd(l, fd));
        check_broken(l, t + 1, -EBADF);
        ASSERT_EQ(history(l, 10, &h), 1);
        ASSERT_TRUE(h[0].state == NULL);
        ASSERT_EQ(ledger_last_end(l), 0);
        l = ledger_free(l);
        text = read_file(path);
        ASSERT_STREQ(text, good);
        text = mfree(text);

        /* Only reopening mends it (and ends the session the failure left open). */
        l = open_ledger(dir, t + 2);
        ASSERT_FALSE(ledger_get_fail_closed(l, t + 2, NULL, NULL));
        ASSERT_EQ(ledger_last_end(l), t + 2);

        /* fdatasync() fails: a pipe takes the write but cannot be synced. */
        ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
        ASSERT_OK(ledger_test_replace_fd(l, pipe_fds[1]));
        ASSERT_ERROR(ledger_add_lockout(l, t + 3, LOCKOUT_PAIN, NULL, t + HOUR), EINVAL);
        ASSERT_FALSE(ledger_get_lockout(l, t + 3, NULL, NULL, NULL));
        check_broken(l, t + 3, -EINVAL);
        ASSERT_EQ(close(pipe_fds[0]), 0);
        l = ledger_free(l);

        /* A short write (the file size limit lets a few bytes through) leaves a torn record,
         * and the error is why the rest could not follow (as ENOSPC on a full disk). */
        l = open_ledger(dir, t + 4);
        good = mfree(good);
        good = read_file(path);
        ASSERT_TRUE(signal(SIGXFSZ, SIG_IGN) != SIG_ERR);
        ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
        rl = saved;
        rl.rlim_cur = (rlim_t) file_size(path) + 10;
        ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &rl), 0);
        ASSERT_ERROR(ledger_session_started(l, t + 5, "quad-warmup", "KneeWrap_01", 0, NULL),
                     EFBIG);
        ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &saved), 0);
        ASSERT_TRUE(signal(SIGXFSZ, SIG_DFL) != SIG_ERR);
        ASSERT_EQ(file_size(path), strlen(good) + 10);
        ASSERT_EQ(ledger_sessions_today(l, t + 5), 1);
        check_broken(l, t + 5, -EFBIG);
        l = ledger_free(l);

        ASSERT_OK(ledger_open(dir, t + 6, &l, &message));
        ASSERT_CONTAINS(message, "incomplete record");
        text = read_file(path);
        ASSERT_STREQ(text, good);
        ASSERT_EQ(ledger_sessions_today(l, t + 6), 1);
        ASSERT_FALSE(ledger_get_fail_closed(l, t + 6, NULL, NULL));
}

/* Bad values are refused before anything is written. */
static void test_ledger_invalid_values(void)
{
        _cleanup_rm_rf_ char *dir = make_temp_dir();
        _cleanup_free_ char *path = path_in(dir, "ledger"), *text = NULL;
        _cleanup_(ledger_freep) Ledger *l = NULL;
        _cleanup_free_ LedgerSession *h = NULL;
        char too_long[LEDGER_VALUE_MAX + 2], longest[LEDGER_VALUE_MAX + 1];
        uint64_t ref;

        set_tz("UTC");
        memset(too_long, 'a', sizeof(too_long) - 1);
        too_long[sizeof(too_long) - 1] = 0;
        memset(longest, 'a', sizeof(longest) - 1);
        longest[sizeof(longest) - 1] = 0;

        l = open_ledger(dir, 1);
        ASSERT_ERROR(ledger_session_started(l, 1, NULL, "dev", 0, NULL), EINVAL);
        ASSERT_ERROR(ledger_session_started(l, 1, "", "dev", 0, NULL), EINVAL);
        ASSERT_ERROR(ledger_session_started(l, 1, "Quad", "dev", 0, NULL), EINVAL);
        ASSERT_ERROR(ledger_session_started(l, 1, "quad warmup", "dev", 0, NULL), EINVAL);
        ASSERT_ERROR(ledger_session_started(l, 1, "quad=1", "dev", 0, NULL), EINVAL);
        ASSERT_ERROR(ledger_session_started(l, 1, "quad\n", "dev", 0, NULL), EINVAL);
        ASSERT_ERROR(ledger_session_started(l, 1, too_long, "dev", 0, NULL), EINVAL);
        ASSERT_ERROR(ledger_session_started(l, 1, "quad", NULL, 0, NULL), EINVAL);
        ASSERT_ERROR(ledger_session_started(l, 1, "quad", "knee-wrap", 0, NULL), EINVAL);
        ASSERT_ERROR(ledger_session_started(l, 1, "quad", "dev 1", 0, NULL), EINVAL);
        ASSERT_ERROR(ledger_add_lockout(l, 1, LOCKOUT_REASON_MAX, NULL, 2), EINVAL);
        ASSERT_ERROR(ledger_add_lockout(l, 1, (LockoutReason) -1, NULL, 2), EINVAL);
        ASSERT_ERROR(ledger_session_ended(l, 1, 1, 0, "stopped", "x"), ENOENT);

        /* The longest allowed value is fine. */
        ASSERT_OK(ledger_session_started(l, 1, longest, "Dev_9", UINT32_MAX, &ref));
        ASSERT_EQ(ref, 1);
        ASSERT_ERROR(ledger_session_ended(l, 2, ref, 0, "Stopped", "x"), EINVAL);
        ASSERT_ERROR(ledger_session_ended(l, 2, ref, 0, "stopped", "client_vanished"), EINVAL);
        ASSERT_ERROR(ledger_session_ended(l, 2, ref, 0, "stopped", ""), EINVAL);
        ASSERT_ERROR(ledger_session_ended(l, 2, ref, 0, NULL, "x"), EINVAL);
        ASSERT_ERROR(ledger_session_ended(l, 2, ref, 0, "stopped", too_long), EINVAL);
        ASSERT_ERROR(ledger_session_ended(l, 2, ref + 1, 0, "stopped", "x"), ENOENT);
        ASSERT_OK(ledger_session_ended(l, 2, ref, UINT32_MAX, "stopped", "client-vanished"));
        ASSERT_ERROR(ledger_session_ended(l, 3, ref, 0, "stopped", "x"), EALREADY);

        /* None of that broke the ledger or reached the file. */
        ASSERT_FALSE(ledger_get_fail_closed(l, 3, NULL, NULL));
        l = ledger_free(l);
        text = read_file(path);
        ASSERT_EQ(count_lines(text), 2);
        l = open_ledger(dir, 4);
        ASSERT_EQ(history(l, 1, &h), 1);
}

/* Errors opening the ledger come back with the path; a locked ledger is refused. */
static void test_ledger_open_errors(void)
{
        _cleanup_rm_rf_ char *dir = make_temp_dir();
        _cleanup_free_ char *path = path_in(dir, "ledger"), *file = path_in(dir, "file");
        _cleanup_free_ char *message = NULL, *missing = path_in(dir, "missing");
        _cleanup_(ledger_freep) Ledger *l = NULL, *l2 = NULL;
        int fd;

        ASSERT_ERROR(ledger_open(missing, 1, &l, &message), ENOENT);
        ASSERT_TRUE(l == NULL);
        ASSERT_CONTAINS(message, missing);
        ASSERT_CONTAINS(message, "No such file or directory");
        message = mfree(message);

        write_file(file, "w", "");
        ASSERT_ERROR(ledger_open(file, 1, &l, &message), ENOTDIR);
        ASSERT_CONTAINS(message, file);
        message = mfree(message);

        ASSERT_EQ(mkdir(path, 0700), 0);
        ASSERT_ERROR(ledger_open(dir, 1, &l, &message), EISDIR);
        ASSERT_CONTAINS(message, path);
        message = mfree(message);
        ASSERT_EQ(rmdir(path), 0);

        /* Too large to be ours (sparse, so this costs nothing). */
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(ftruncate(fd, (off_t) LEDGER_FILE_MAX_SIZE + 1), 0);
        ASSERT_EQ(close(fd), 0);
        ASSERT_ERROR(ledger_open(dir, 1, &l, &message), EFBIG);
        ASSERT_CONTAINS(message, path);
        ASSERT_CONTAINS(message, "larger than 16 MiB");
        message = mfree(message);
        ASSERT_EQ(unlink(path), 0);

        /* A second daemon on the same ledger would interleave records. */
        l = open_ledger(dir, 1);
        ASSERT_ERROR(ledger_open(dir, 1, &l2, &message), EBUSY);
        ASSERT_TRUE(l2 == NULL);
        ASSERT_CONTAINS(message, path);
        l = ledger_free(l);
        l2 = open_ledger(dir, 1);
}

/*
 * History is read back from the file, newest first, at most LEDGER_HISTORY_MAX sessions, each
 * with its end, also after a reopen; the day is counted among the newest LEDGER_DAY_STARTS_MAX
 * starts.
 */
static void test_ledger_history_limit(void)
{
        _cleanup_rm_rf_ char *dir = make_temp_dir();
        _cleanup_free_ char *path = path_in(dir, "ledger"), *text = NULL;
        _cleanup_(ledger_freep) Ledger *l = NULL;
        _cleanup_free_ LedgerSession *h = NULL;
        const size_t n = LEDGER_HISTORY_MAX + 5;
        uint64_t t = utc(2024, 10, 1, 0, 0);

        set_tz("UTC");
        l = open_ledger(dir, t);
        for (size_t i = 0; i < n; i++) {
                uint64_t ref;

                ASSERT_OK(ledger_session_started(l, t + i, i % 2 ? "odd" : "even", "Dev", 0, &ref));
                /* A lockout between sessions: history skips what isn't a session. */
                if (i % 100 == 0)
                        ASSERT_OK(ledger_add_lockout(l, t + i, LOCKOUT_FAULT, "virtual:x", t + i));
                if (i % 3 == 0)
                        ASSERT_OK(ledger_session_ended(l, t + i, ref, (uint32_t) i, "completed",
                                                       "finished"));
        }
        ASSERT_EQ(history(l, SIZE_MAX, &h), LEDGER_HISTORY_MAX);
        for (size_t k = 0; k < LEDGER_HISTORY_MAX; k++) {
                size_t i = n - 1 - k; /* the session's number, counting from 0 */

                ASSERT_EQ(h[k].start_usec, t + i);
                ASSERT_STREQ(h[k].routine, i % 2 ? "odd" : "even");
                if (i % 3 == 0) {
                        ASSERT_STREQ(h[k].state, "completed");
                        ASSERT_EQ(h[k].duration_ms, i);
                } else
                        ASSERT_TRUE(h[k].state == NULL); /* still open */
        }
        ASSERT_EQ(history(l, 3, &h), 3);
        ASSERT_EQ(h[2].start_usec, t + n - 3);
        ASSERT_EQ(ledger_sessions_today(l, t + n), LEDGER_DAY_STARTS_MAX);
        l = ledger_free(l);

        /* Reopening ends every open session, the oldest first, and reads back the same window. */
        l = open_ledger(dir, t + n);
        ASSERT_EQ(history(l, SIZE_MAX, &h), LEDGER_HISTORY_MAX);
        ASSERT_EQ(h[0].start_usec, t + n - 1);
        ASSERT_STREQ(h[0].state, "aborted");
        ASSERT_STREQ(h[1].state, "aborted");
        ASSERT_STREQ(h[2].state, "completed");
        ASSERT_EQ(h[LEDGER_HISTORY_MAX - 1].start_usec, t + n - LEDGER_HISTORY_MAX);
        ASSERT_EQ(ledger_sessions_today(l, t + n), LEDGER_DAY_STARTS_MAX);
        ASSERT_EQ(ledger_last_end(l), t + n);
        /* With more than the first read's worth of other records after them, history reads
         * further back to find the sessions asked for. */
        for (size_t i = 0; i < 500; i++)
                ASSERT_OK(ledger_add_lockout(l, t + n, LOCKOUT_FAULT, "virtual:x", t + n));
        ASSERT_TRUE(file_size(path) > 500 * 64);
        ASSERT_EQ(history(l, 5, &h), 5);
        ASSERT_EQ(h[0].start_usec, t + n - 1);
        ASSERT_EQ(h[4].start_usec, t + n - 5);
        ASSERT_STREQ(h[4].state, "aborted");
        /* Even the sessions older than either window were ended: one end record each. */
        l = ledger_free(l);
        text = read_file(path);
        ASSERT_EQ(count_substrings(text, " end start="), n);
}

/* Lockouts for one device model apply to it alone; lockouts for everyone apply to all. */
static void test_ledger_lockout_scopes(void)
{
        _cleanup_rm_rf_ char *dir = make_temp_dir();
        uint64_t t = UINT64_C(1700000000000000), until = 0;
        LockoutReason reason;
        Ledger *l;

        l = open_ledger(dir, t);
        ASSERT_OK(ledger_add_lockout(l, t, LOCKOUT_FAULT, "virtual:flaky", t + HOUR));
        ASSERT_TRUE(ledger_get_lockout(l, t + 1, "virtual:flaky", &reason, &until));
        ASSERT_EQ(reason, LOCKOUT_FAULT);
        ASSERT_EQ(until, t + HOUR);
        ASSERT_FALSE(ledger_get_lockout(l, t + 1, "virtual:virtual", NULL, NULL));
        ASSERT_FALSE(ledger_get_lockout(l, t + 1, NULL, NULL, NULL));

        /* A pain report is about the person: it holds for every device. */
        ASSERT_OK(ledger_add_lockout(l, t + 2, LOCKOUT_PAIN, NULL, t + 2 * HOUR));
        ASSERT_TRUE(ledger_get_lockout(l, t + 3, "virtual:virtual", &reason, NULL));
        ASSERT_EQ(reason, LOCKOUT_PAIN);
        ASSERT_TRUE(ledger_get_lockout(l, t + 3, "virtual:flaky", &reason, &until));
        ASSERT_EQ(until, t + 2 * HOUR); /* the one ending last wins */

        ASSERT_ERROR(ledger_add_lockout(l, t + 4, LOCKOUT_FAULT, "Bad Scope", t + HOUR), EINVAL);

        /* Scopes survive a reopen. */
        l = ledger_free(l);
        l = open_ledger(dir, t + 5);
        ASSERT_TRUE(ledger_get_lockout(l, t + 6, "virtual:flaky", &reason, NULL));
        ASSERT_OK(ledger_clear(l, t + 7));
        ASSERT_FALSE(ledger_get_lockout(l, t + 8, "virtual:flaky", NULL, NULL));
        ledger_free(l);
}

RUN_TESTS(TEST_CASE(test_ledger_lockout_scopes), TEST_CASE(test_lockout_reason_to_string),
          TEST_CASE(test_ledger_file_format), TEST_CASE(test_ledger_reopen),
          TEST_CASE(test_ledger_sessions_today_utc), TEST_CASE(test_ledger_sessions_today_berlin),
          TEST_CASE(test_ledger_clock_backwards), TEST_CASE(test_ledger_torn_last_record),
          TEST_CASE(test_ledger_torn_only_record), TEST_CASE(test_ledger_corrupt_middle),
          TEST_CASE(test_ledger_corrupt_sequence), TEST_CASE(test_ledger_interrupted_session),
          TEST_CASE(test_ledger_lockouts), TEST_CASE(test_ledger_broken_append),
          TEST_CASE(test_ledger_invalid_values), TEST_CASE(test_ledger_open_errors),
          TEST_CASE(test_ledger_history_limit))
