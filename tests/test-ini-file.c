/* SPDX-License-Identifier: MIT */

#include "ini-file.h"
#include "strv.h"
#include "tests.h"

typedef struct Seen {
        char **items; /* "section/key=value@line" */
        const char *fail_key;
} Seen;

static int on_key(IniParser *p, const char *section, const char *key, const char *value,
                  void *userdata)
{
        Seen *s = userdata;
        char *item;

        if (s->fail_key && streq(key, s->fail_key))
                return ini_error(p, -EINVAL, "refusing key '%s'", key);
        ASSERT_TRUE(asprintf(&item, "%s/%s=%s@%u", section, key, value, ini_parser_line(p)) > 0);
        ASSERT_OK(strv_consume(&s->items, item));
        return 0;
}

static const IniCallbacks callbacks = {.key = on_key};

static int parse(const char *text, Seen *s, char **error)
{
        return ini_parse_buffer("test.ini", text, strlen(text), &callbacks, s, error);
}

static void test_ini_parse_buffer_lines(void)
{
        _cleanup_free_ char *error = NULL;
        Seen s = {};

        ASSERT_OK(parse("# comment\n\n[A]\nx = 1\n  y=two words  \n[B]\nz=3", &s, &error));
        ASSERT_EQ(strv_length(s.items), 3);
        ASSERT_STREQ(s.items[0], "A/x=1@4");
        /* An indented line is an ordinary key, not a continuation of x. */
        ASSERT_STREQ(s.items[1], "A/y=two words@5");
        ASSERT_STREQ(s.items[2], "B/z=3@7");
        strv_free(s.items);
}

static void test_ini_parse_buffer_bom(void)
{
        _cleanup_free_ char *error = NULL;
        Seen s = {};

        ASSERT_OK(parse("\xEF\xBB\xBF[A]\nx=1\n", &s, &error));
        ASSERT_STREQ(s.items[0], "A/x=1@2");
        strv_free(s.items);
}

static void check_error(const char *text, const char *expected)
{
        _cleanup_free_ char *error = NULL;
        Seen s = {};

        ASSERT_TRUE(parse(text, &s, &error) < 0);
        ASSERT_STREQ(error, expected);
        strv_free(s.items);
}

static void test_ini_parse_buffer_errors(void)
{
        char longline[400];

        check_error("[A]\nx=1\nx=2\n", "test.ini:3: duplicate key 'x' in [A]");
        check_error("[A]\nx=1\n[A]\ny=2\n", "test.ini:3: duplicate section [A]");
        /* inih skips every kind of leading white space, so the checks must see through it too
         * (found by fuzz-routine: a header behind carriage returns escaped both). */
        check_error("\r\r[A]\nx=1\n[A]\nx=2\n", "test.ini:3: duplicate section [A]");
        check_error("[A]\nx=1\n\v\f\rx=2\n", "test.ini:3: duplicate key 'x' in [A]");
        check_error("x=1\n", "test.ini:1: key 'x' outside of any section");
        check_error("[A]\nthis is not a key\n",
                    "test.ini:2: syntax error (expected [Section] or Key=Value)");
        check_error("[A\nx=1\n", "test.ini:1: syntax error (expected [Section] or Key=Value)");

        snprintf(longline, sizeof(longline), "[A]\nx=%0300d\ny=1\n", 0);
        check_error(longline, "test.ini:2: line is too long (at most 198 characters)");
}

static void test_ini_parse_buffer_comment_in_section_header(void)
{
        _cleanup_free_ char *error = NULL;
        Seen s = {};

        /* inih ends a header at an inline comment before its "]": no header, the section stays
         * [A]. Found by fuzz-device-file: a key given again after such a line got past the
         * duplicate check, and the device file parser leaked the first value. */
        ASSERT_TRUE(parse("[A]\nx=1\n[B \v;c]\nx=2\n", &s, &error) < 0);
        ASSERT_STREQ(error, "test.ini:3: syntax error (expected [Section] or Key=Value)");
        ASSERT_EQ(strv_length(s.items), 1);
        strv_free(s.items);
}

static void test_ini_parse_buffer_nul(void)
{
        static const char text[] = "[A]\nx=1\0\ny=2\n";
        _cleanup_free_ char *error = NULL;
        Seen s = {};

        ASSERT_TRUE(ini_parse_buffer("nul.ini", text, sizeof(text) - 1, &callbacks, &s, &error) <
                    0);
        ASSERT_STREQ(error, "nul.ini:2: line contains a NUL byte");
        strv_free(s.items);
}

static void test_ini_parse_buffer_handler_error_stops(void)
{
        _cleanup_free_ char *error = NULL;
        Seen s = {.fail_key = "bad"};

        ASSERT_TRUE(parse("[A]\nok=1\nbad=2\nlater=3\n", &s, &error) < 0);
        ASSERT_STREQ(error, "test.ini:3: refusing key 'bad'");
        /* Keys after the first error are not delivered. */
        ASSERT_EQ(strv_length(s.items), 1);
        strv_free(s.items);
}

static void test_ini_parse_path_missing(void)
{
        _cleanup_free_ char *error = NULL;
        Seen s = {};

        ASSERT_ERROR(ini_parse_path("/nonexistent/x.ini", &callbacks, &s, &error), ENOENT);
        ASSERT_CONTAINS(error, "/nonexistent/x.ini: No such file or directory");
}

RUN_TESTS(TEST_CASE(test_ini_parse_buffer_lines), TEST_CASE(test_ini_parse_buffer_bom),
          TEST_CASE(test_ini_parse_buffer_errors),
          TEST_CASE(test_ini_parse_buffer_comment_in_section_header),
          TEST_CASE(test_ini_parse_buffer_nul),
          TEST_CASE(test_ini_parse_buffer_handler_error_stops),
          TEST_CASE(test_ini_parse_path_missing))
