/* SPDX-License-Identifier: MIT */

#include "macro.h"
#include "plugin-loader.h"
#include "tests.h"

static const char *module(const char *name)
{
        static char path[4096];

        snprintf(path, sizeof(path), "%s/%s", getenv("KNEED_LOADER_PLUGIN_DIR"), name);
        return path;
}

static void test_plugin_set_load_module_good(void)
{
        _cleanup_free_ char *reason = NULL;
        PluginSet set = {};

        ASSERT_OK(plugin_set_load_module(&set, module("good.so"), &reason));
        ASSERT_EQ(set.n_plugins, 1);
        ASSERT_STREQ(set.plugins[0]->desc->id, "good");
        ASSERT_TRUE(plugin_set_find(&set, "good") == set.plugins[0]);
        ASSERT_TRUE(plugin_set_find(&set, "other") == NULL);
        plugin_set_clear(&set);
}

static void check_refused(const char *name, int error, const char *reason_part)
{
        _cleanup_free_ char *reason = NULL;
        PluginSet set = {};

        ASSERT_EQ(plugin_set_load_module(&set, module(name), &reason), -error);
        ASSERT_EQ(set.n_plugins, 0);
        ASSERT_CONTAINS(reason, reason_part);
        plugin_set_clear(&set);
}

static void test_plugin_set_load_module_bad_abi(void)
{
        check_refused("bad-abi.so", EPROTO, "has ABI 99, this kneed needs ABI 1");
}

static void test_plugin_set_load_module_missing_hook(void)
{
        check_refused("missing-hook.so", EINVAL, "missing required hook stop");
}

static void test_plugin_set_load_module_no_descriptor(void)
{
        check_refused("no-descriptor.so", ENOEXEC, "exports no 'kneed_plugin' descriptor");
}

static void test_plugin_set_load_module_bad_id(void)
{
        check_refused("bad-id.so", EINVAL, "invalid id");
}

static void test_plugin_set_load_module_not_elf(void)
{
        check_refused("not-elf.so", ENOEXEC, "cannot be loaded");
}

static void test_plugin_set_load_module_duplicate(void)
{
        _cleanup_free_ char *reason = NULL;
        PluginSet set = {};

        ASSERT_OK(plugin_set_load_module(&set, module("good.so"), NULL));
        ASSERT_EQ(plugin_set_load_module(&set, module("zz-duplicate.so"), &reason), -EEXIST);
        ASSERT_CONTAINS(reason, "duplicate plugin id 'good'");
        ASSERT_CONTAINS(reason, "good.so");
        ASSERT_EQ(set.n_plugins, 1);
        plugin_set_clear(&set);
}

static void test_plugin_set_load_dir(void)
{
        PluginSet set = {};

        /* Every bad module is skipped; the loader carries on with the rest. */
        ASSERT_EQ(plugin_set_load_dir(&set, getenv("KNEED_LOADER_PLUGIN_DIR")), 2);
        ASSERT_EQ(set.n_plugins, 2);
        /* Loaded in name order: "good-two.so" sorts before "good.so". */
        ASSERT_STREQ(set.plugins[0]->desc->id, "good-two");
        ASSERT_STREQ(set.plugins[1]->desc->id, "good");
        ASSERT_CONTAINS(set.plugins[1]->path, "/good.so");
        plugin_set_clear(&set);

        ASSERT_ERROR(plugin_set_load_dir(&set, "/nonexistent/kneed-plugins"), ENOENT);
}

static void test_plugin_descriptor_check(void)
{
        KneedPlugin p = {};
        const char *reason = NULL;

        ASSERT_ERROR(plugin_descriptor_check(&p, &reason), EPROTO);
        p.abi = KNEED_PLUGIN_ABI;
        ASSERT_ERROR(plugin_descriptor_check(&p, &reason), EINVAL);
        ASSERT_CONTAINS(reason, "id");
        p.id = "-leading-dash";
        ASSERT_ERROR(plugin_descriptor_check(&p, &reason), EINVAL);
        p.id = "ok";
        ASSERT_ERROR(plugin_descriptor_check(&p, &reason), EINVAL);
        ASSERT_STREQ(reason, "missing required hook probe");
}

RUN_TESTS(TEST_CASE(test_plugin_set_load_module_good),
          TEST_CASE(test_plugin_set_load_module_bad_abi),
          TEST_CASE(test_plugin_set_load_module_missing_hook),
          TEST_CASE(test_plugin_set_load_module_no_descriptor),
          TEST_CASE(test_plugin_set_load_module_bad_id),
          TEST_CASE(test_plugin_set_load_module_not_elf),
          TEST_CASE(test_plugin_set_load_module_duplicate), TEST_CASE(test_plugin_set_load_dir),
          TEST_CASE(test_plugin_descriptor_check))
