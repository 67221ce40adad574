/* SPDX-License-Identifier: MIT */

#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include "macro.h"
#include "plugin-loader.h"
#include "tests.h"

static const char *module(const char *name)
{
        static char path[4096];

        snprintf(path, sizeof(path), "%s/%s", getenv("KNEED_LOADER_PLUGIN_DIR"), name);
        return path;
}

static bool module_is_loaded(const char *name)
{
        void *handle = dlopen(module(name), RTLD_NOW | RTLD_NOLOAD);

        if (!handle)
                return false;
        dlclose(handle);
        return true;
}

static void test_plugin_set_add_module_good(void)
{
        _cleanup_free_ char *reason = NULL;
        PluginSet set = {};

        ASSERT_OK(plugin_set_add_module(&set, module("good.so"), &reason));
        ASSERT_EQ(set.n_plugins, 1);
        ASSERT_STREQ(set.plugins[0]->id, "good");
        ASSERT_TRUE(plugin_set_find(&set, "good") == set.plugins[0]);
        ASSERT_TRUE(plugin_set_find(&set, "other") == NULL);

        /* Checked, then unloaded until a device needs it. */
        ASSERT_TRUE(set.plugins[0]->desc == NULL);
        ASSERT_FALSE(module_is_loaded("good.so"));
        ASSERT_OK(plugin_open(set.plugins[0]));
        ASSERT_STREQ(set.plugins[0]->desc->id, "good");
        ASSERT_TRUE(module_is_loaded("good.so"));
        ASSERT_OK(plugin_open(set.plugins[0])); /* already loaded: nothing to do */

        plugin_set_clear(&set);
        ASSERT_FALSE(module_is_loaded("good.so"));
}

/* Copies a test module over dir/name, the way a package upgrade replaces a file. */
static void install_module(const char *dir, const char *module_name, const char *name)
{
        char tmp[4096], path[4096], buf[4096];
        int in, out;
        ssize_t n;

        snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        in = open(module(module_name), O_RDONLY | O_CLOEXEC);
        out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ASSERT_TRUE(in >= 0 && out >= 0);
        while ((n = read(in, buf, sizeof(buf))) > 0)
                ASSERT_EQ(write(out, buf, (size_t) n), n);
        ASSERT_EQ(n, 0);
        close(in);
        close(out);
        ASSERT_OK(rename(tmp, path));
}

static void check_open_after_replacing(const char *replacement, int error)
{
        char dir[] = "/tmp/kneed-test-plugins-XXXXXX", path[4096];
        PluginSet set = {};

        ASSERT_TRUE(mkdtemp(dir));
        install_module(dir, "good.so", "plugin.so");
        ASSERT_EQ(plugin_set_add_dir(&set, dir), 1);
        install_module(dir, replacement, "plugin.so");

        ASSERT_ERROR(plugin_open(set.plugins[0]), error);
        ASSERT_TRUE(set.plugins[0]->desc == NULL);
        /* Refused for good, even once the file is right again. */
        install_module(dir, "good.so", "plugin.so");
        ASSERT_ERROR(plugin_open(set.plugins[0]), error);
        plugin_set_clear(&set);

        snprintf(path, sizeof(path), "%s/plugin.so", dir);
        ASSERT_OK(unlink(path));
        ASSERT_OK(rmdir(dir));
}

static void test_plugin_open_checks_the_module_again(void)
{
        check_open_after_replacing("bad-abi.so", EPROTO);
        check_open_after_replacing("not-elf.so", ENOEXEC);
        check_open_after_replacing("good-two.so", ESTALE);
}

static void check_refused(const char *name, int error, const char *reason_part)
{
        _cleanup_free_ char *reason = NULL;
        PluginSet set = {};

        ASSERT_EQ(plugin_set_add_module(&set, module(name), &reason), -error);
        ASSERT_EQ(set.n_plugins, 0);
        ASSERT_CONTAINS(reason, reason_part);
        plugin_set_clear(&set);
}

static void test_plugin_set_add_module_bad_abi(void)
{
        check_refused("bad-abi.so", EPROTO, "has ABI 99, this kneed needs ABI 1");
}

static void test_plugin_set_add_module_missing_hook(void)
{
        check_refused("missing-hook.so", EINVAL, "missing required hook stop");
}

static void test_plugin_set_add_module_no_descriptor(void)
{
        check_refused("no-descriptor.so", ENOEXEC, "exports no 'kneed_plugin' descriptor");
}

static void test_plugin_set_add_module_bad_id(void)
{
        check_refused("bad-id.so", EINVAL, "invalid id");
}

static void test_plugin_set_add_module_not_elf(void)
{
        check_refused("not-elf.so", ENOEXEC, "cannot be loaded");
}

static void test_plugin_set_add_module_duplicate(void)
{
        _cleanup_free_ char *reason = NULL;
        PluginSet set = {};

        ASSERT_OK(plugin_set_add_module(&set, module("good.so"), NULL));
        ASSERT_EQ(plugin_set_add_module(&set, module("zz-duplicate.so"), &reason), -EEXIST);
        ASSERT_CONTAINS(reason, "duplicate plugin id 'good'");
        ASSERT_CONTAINS(reason, "good.so");
        ASSERT_EQ(set.n_plugins, 1);
        plugin_set_clear(&set);
}

static void test_plugin_set_add_dir(void)
{
        PluginSet set = {};

        /* Every bad module is skipped; the loader carries on with the rest. */
        ASSERT_EQ(plugin_set_add_dir(&set, getenv("KNEED_LOADER_PLUGIN_DIR")), 2);
        ASSERT_EQ(set.n_plugins, 2);
        /* Added in name order: "good-two.so" sorts before "good.so". */
        ASSERT_STREQ(set.plugins[0]->id, "good-two");
        ASSERT_STREQ(set.plugins[1]->id, "good");
        ASSERT_CONTAINS(set.plugins[1]->path, "/good.so");
        plugin_set_clear(&set);

        ASSERT_ERROR(plugin_set_add_dir(&set, "/nonexistent/kneed-plugins"), ENOENT);
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

RUN_TESTS(TEST_CASE(test_plugin_set_add_module_good), TEST_CASE(test_plugin_set_add_module_bad_abi),
          TEST_CASE(test_plugin_set_add_module_missing_hook),
          TEST_CASE(test_plugin_set_add_module_no_descriptor),
          TEST_CASE(test_plugin_set_add_module_bad_id),
          TEST_CASE(test_plugin_set_add_module_not_elf),
          TEST_CASE(test_plugin_set_add_module_duplicate), TEST_CASE(test_plugin_set_add_dir),
          TEST_CASE(test_plugin_open_checks_the_module_again),
          TEST_CASE(test_plugin_descriptor_check))
