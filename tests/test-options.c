/* SPDX-License-Identifier: MIT */

#include <stdarg.h>

#include "config.h"
#include "options.h"
#include "strv.h"
#include "tests.h"

/* Runs options_parse() on a NULL-terminated argument list, capturing what it prints. */
static int parse(Options *o, char **out_text, char **err_text, ...)
{
        char *argv[32] = {(char *) "kneed"};
        int argc = 1, r;
        size_t out_len, err_len;
        FILE *out, *err;
        va_list ap;

        va_start(ap, err_text);
        for (const char *a; (a = va_arg(ap, const char *));)
                argv[argc++] = (char *) a;
        va_end(ap);

        out = open_memstream(out_text, &out_len);
        err = open_memstream(err_text, &err_len);
        r = options_parse(argc, argv, out, err, o);
        fclose(out);
        fclose(err);
        return r;
}

static void test_options_parse_defaults(void)
{
        _cleanup_(options_done) Options o = {};
        _cleanup_free_ char *out = NULL, *err = NULL;

        ASSERT_EQ(parse(&o, &out, &err, NULL), 1);
        ASSERT_EQ(o.bus_kind, BUS_KIND_SYSTEM);
        ASSERT_STREQ(o.plugin_dir, KNEED_PLUGIN_DIR);
        ASSERT_STREQ(o.data_dir, KNEED_DATA_DIR);
        ASSERT_STREQ(o.state_dir, KNEED_STATE_DIR);
        ASSERT_STREQ(o.config_path, KNEED_POLICY_PATH);
        ASSERT_STREQ(o.extra_routine_dir, KNEED_LOCAL_ROUTINE_DIR);
        ASSERT_TRUE(o.virtual_models == NULL);
        ASSERT_TRUE(o.time_scale == 1.0);
        ASSERT_STREQ(err, "");
}

static void test_options_parse_all(void)
{
        _cleanup_(options_done) Options o = {};
        _cleanup_free_ char *out = NULL, *err = NULL;

        ASSERT_EQ(parse(&o, &out, &err, "--bus-address=unix:path=/tmp/x", "--plugin-dir=/p",
                        "--data-dir", "/d", "--state-dir=/s", "--config=/c.conf",
                        "--routine-dir=/r", "--virtual-devices=2", "--virtual-trace=/t",
                        "--time-scale=60", "--log-level=debug", "--no-hardware", NULL),
                  1);
        ASSERT_EQ(o.bus_kind, BUS_KIND_ADDRESS);
        ASSERT_STREQ(o.bus_address, "unix:path=/tmp/x");
        ASSERT_STREQ(o.plugin_dir, "/p");
        ASSERT_STREQ(o.data_dir, "/d");
        ASSERT_STREQ(o.state_dir, "/s");
        ASSERT_STREQ(o.config_path, "/c.conf");
        ASSERT_STREQ(o.extra_routine_dir, "/r");
        ASSERT_EQ(strv_length(o.virtual_models), 2);
        ASSERT_STREQ(o.virtual_trace, "/t");
        ASSERT_TRUE(o.time_scale == 60.0);
        ASSERT_EQ(o.log_level, 7);
        ASSERT_TRUE(o.no_hardware);
}

static void test_options_parse_session_then_system(void)
{
        _cleanup_(options_done) Options a = {}, b = {};
        _cleanup_free_ char *out = NULL, *err = NULL, *out2 = NULL, *err2 = NULL;

        ASSERT_EQ(parse(&a, &out, &err, "--session", NULL), 1);
        ASSERT_EQ(a.bus_kind, BUS_KIND_SESSION);
        /* The last bus option wins. */
        ASSERT_EQ(parse(&b, &out2, &err2, "--session", "--system", NULL), 1);
        ASSERT_EQ(b.bus_kind, BUS_KIND_SYSTEM);
}

static void test_options_parse_help_and_version(void)
{
        _cleanup_(options_done) Options o = {};
        _cleanup_free_ char *out = NULL, *err = NULL, *out2 = NULL, *err2 = NULL;

        ASSERT_EQ(parse(&o, &out, &err, "--help", NULL), 0);
        ASSERT_CONTAINS(out, "--virtual-devices=SPEC");
        ASSERT_CONTAINS(out, "org.kneed.Kneed1");
        ASSERT_EQ(parse(&o, &out2, &err2, "--version", NULL), 0);
        ASSERT_STREQ(out2, "kneed " KNEED_VERSION "\n");
}

static void test_options_parse_errors(void)
{
        static const char *const bad[][2] = {
                {"--no-such-option", "unknown option"},
                {"--plugin-dir=", "--plugin-dir: empty path"},
                {"--time-scale=0.5", "--time-scale: expected a number from 1 to 1000"},
                {"--time-scale=fast", "--time-scale"},
                {"--time-scale=1e9", "--time-scale"},
                {"--log-level=loud", "--log-level: unknown level 'loud'"},
                {"--virtual-devices=0", "count must be at least 1"},
                {"--virtual-devices=Bad_Model", "invalid model name 'Bad_Model'"},
                {"--virtual-devices=virtual:x", "invalid count in 'virtual:x'"},
                {"--virtual-devices=virtual:1000", "at most 256 virtual devices"},
                {"--virtual-devices=,", "empty specification"},
                {"--virtual-trace=/t", "--virtual-trace needs --virtual-devices"},
                {"stray", "unexpected argument 'stray'"},
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                _cleanup_(options_done) Options o = {};
                _cleanup_free_ char *out = NULL, *err = NULL;

                ASSERT_TRUE(parse(&o, &out, &err, bad[i][0], NULL) < 0);
                ASSERT_CONTAINS(err, bad[i][1]);
        }
}

static void test_options_parse_virtual_devices(void)
{
        _cleanup_strv_free_ char **models = NULL;

        ASSERT_OK(options_parse_virtual_devices("2", stderr, &models));
        ASSERT_EQ(strv_length(models), 2);
        ASSERT_STREQ(models[0], "virtual");
        ASSERT_STREQ(models[1], "virtual");

        /* Lists mix counts and models, and repeated options add up. */
        ASSERT_OK(options_parse_virtual_devices("virtual-heat:2, virtual", stderr, &models));
        ASSERT_EQ(strv_length(models), 5);
        ASSERT_STREQ(models[2], "virtual-heat");
        ASSERT_STREQ(models[3], "virtual-heat");
        ASSERT_STREQ(models[4], "virtual");

        /* A failed parse leaves what was there. */
        ASSERT_TRUE(options_parse_virtual_devices("virtual:0", stderr, &models) < 0);
        ASSERT_EQ(strv_length(models), 5);
}

RUN_TESTS(TEST_CASE(test_options_parse_defaults), TEST_CASE(test_options_parse_all),
          TEST_CASE(test_options_parse_session_then_system),
          TEST_CASE(test_options_parse_help_and_version), TEST_CASE(test_options_parse_errors),
          TEST_CASE(test_options_parse_virtual_devices))
