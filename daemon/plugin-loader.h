/* SPDX-License-Identifier: MIT */
#pragma once

#include <kneed/plugin.h>
#include <stddef.h>

typedef struct Plugin {
        const KneedPlugin *desc;
        void *handle; /* from dlopen() */
        char *path;
} Plugin;

typedef struct PluginSet {
        Plugin **plugins; /* each allocated on its own: devices keep pointers to them */
        size_t n_plugins;
} PluginSet;

/*
 * Checks a descriptor. Returns 0, or -EPROTO (wrong ABI), -EINVAL (bad id or a required hook
 * missing) with a static explanation in *reason when it is not NULL.
 */
int plugin_descriptor_check(const KneedPlugin *desc, const char **reason);

/*
 * Loads one module into the set. Returns 0, or a negative errno and, when reason is not NULL,
 * a malloc'd explanation in *reason: -ENOEXEC (not loadable, or no descriptor symbol), -EPROTO
 * (wrong ABI), -EINVAL (bad id or missing hook), -EEXIST (another module already has this id).
 * Nothing is added on failure.
 */
int plugin_set_load_module(PluginSet *set, const char *path, char **reason);

/*
 * Loads every *.so in dir, in name order, logging each refused module with the reason and
 * going on. Returns the number loaded, or a negative errno when dir can't be read.
 */
int plugin_set_load_dir(PluginSet *set, const char *dir);

const Plugin *plugin_set_find(const PluginSet *set, const char *id);
void plugin_set_clear(PluginSet *set);
