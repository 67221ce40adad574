/* SPDX-License-Identifier: MIT */

/*
 * One source, built several times with different defines, to give the plugin loader test good
 * modules and every kind of bad one.
 */

#include <errno.h>
#include <kneed/plugin.h>

#ifndef PLUGIN_ID
#define PLUGIN_ID "good"
#endif
#ifndef PLUGIN_ABI
#define PLUGIN_ABI KNEED_PLUGIN_ABI
#endif

__attribute__((unused)) static int test_probe(KneedDevice *d)
{
        return -ENODEV;
}

__attribute__((unused)) static void test_remove(KneedDevice *d)
{
}

__attribute__((unused)) static int test_set_output(KneedDevice *d, const KneedOutput *o)
{
        return 0;
}

__attribute__((unused)) static int test_stop(KneedDevice *d)
{
        return 0;
}

#ifndef NO_DESCRIPTOR
__attribute__((visibility("default"))) const KneedPlugin kneed_plugin = {
        .abi = PLUGIN_ABI,
        .id = PLUGIN_ID,
        .probe = test_probe,
        .remove = test_remove,
        .set_output = test_set_output,
#ifndef OMIT_STOP
        .stop = test_stop,
#endif
};
#else
/* Exports something, just not a descriptor. */
__attribute__((visibility("default"))) int not_a_descriptor = 1;
#endif
