/* SPDX-License-Identifier: MIT */
#pragma once

#include <kneed/plugin.h>
#include <stddef.h>

/*
 * A module found in the plugin dir. Reading the dir checks every module and unloads it again: a
 * plugin costs memory only once a device needs it, and plugin_open() loads it for good then.
 */
typedef struct Plugin {
        char *id; /* from its descriptor when the dir was read */
        char *path;
        void *handle;            /* from dlopen(): NULL until plugin_open() */
        const KneedPlugin *desc; /* NULL until plugin_open() */
        int error;               /* plugin_open() failed with it once: it isn't tried again */
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
 * Checks one module and adds it to the set, unloaded. Returns 0, or a negative errno and, when
 * reason is not NULL, a malloc'd explanation in *reason: -ENOEXEC (not loadable, or no
 * descriptor symbol), -EPROTO (wrong ABI), -EINVAL (bad id or missing hook), -EEXIST (another
 * module already has this id). Nothing is added on failure.
 */
int plugin_set_add_module(PluginSet *set, const char *path, char **reason);

/*
 * Adds every *.so in dir, in name order, logging each refused module with the reason and going
 * on. Returns the number added, or a negative errno when dir can't be read.
 */
int plugin_set_add_dir(PluginSet *set, const char *dir);

/*
 * Loads the module for good, checking it again: the file may have changed since the dir was
 * read. Returns 0 when p->desc is usable; otherwise the errors of plugin_set_add_module(), or
 * -ESTALE when the module now has another id, and the reason is logged once.
 */
int plugin_open(Plugin *p);

Plugin *plugin_set_find(const PluginSet *set, const char *id);
void plugin_set_clear(PluginSet *set);
