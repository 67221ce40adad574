/* SPDX-License-Identifier: MIT */

#include <dirent.h>
#include <dlfcn.h>
#include <stdarg.h>

#include "log.h"
#include "plugin-loader.h"
#include "string-util.h"

int plugin_descriptor_check(const KneedPlugin *desc, const char **reason_out)
{
        const char *reason = NULL;
        int r = -EINVAL;

        if (desc->abi != KNEED_PLUGIN_ABI) {
                reason = "wrong ABI version";
                r = -EPROTO;
        } else if (!id_is_valid(desc->id))
                reason = "missing or invalid id (expected [a-z0-9-]+)";
        else if (!desc->probe)
                reason = "missing required hook probe";
        else if (!desc->remove)
                reason = "missing required hook remove";
        else if (!desc->set_output)
                reason = "missing required hook set_output";
        else if (!desc->stop)
                reason = "missing required hook stop";
        else
                return 0;

        if (reason_out)
                *reason_out = reason;
        return r;
}

const Plugin *plugin_set_find(const PluginSet *set, const char *id)
{
        for (size_t i = 0; i < set->n_plugins; i++)
                if (streq(set->plugins[i]->desc->id, id))
                        return set->plugins[i];
        return NULL;
}

static int set_reason(char **reason_out, int r, const char *format, ...) _printf_(3, 4);
static int set_reason(char **reason_out, int r, const char *format, ...)
{
        va_list ap;

        if (reason_out) {
                va_start(ap, format);
                if (vasprintf(reason_out, format, ap) < 0)
                        *reason_out = NULL;
                va_end(ap);
        }
        return r;
}

int plugin_set_load_module(PluginSet *set, const char *path, char **reason_out)
{
        const KneedPlugin *desc;
        const char *reason;
        Plugin *p, **n;
        void *handle;
        int r;

        /* RTLD_NOW: a module with unresolved symbols fails here, not halfway through a session. */
        handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!handle)
                return set_reason(reason_out, -ENOEXEC, "cannot be loaded: %s", dlerror());

        desc = dlsym(handle, KNEED_PLUGIN_SYMBOL);
        if (!desc) {
                dlclose(handle);
                return set_reason(reason_out, -ENOEXEC, "exports no '%s' descriptor",
                                  KNEED_PLUGIN_SYMBOL);
        }

        r = plugin_descriptor_check(desc, &reason);
        if (r == -EPROTO) {
                r = set_reason(reason_out, r, "%s: has ABI %u, this kneed needs ABI %u", reason,
                               desc->abi, (unsigned) KNEED_PLUGIN_ABI);
                dlclose(handle);
                return r;
        }
        if (r < 0) {
                r = set_reason(reason_out, r, "%s", reason);
                dlclose(handle);
                return r;
        }

        if (plugin_set_find(set, desc->id)) {
                r = set_reason(reason_out, -EEXIST,
                               "duplicate plugin id '%s', already loaded from %s", desc->id,
                               plugin_set_find(set, desc->id)->path);
                dlclose(handle);
                return r;
        }

        p = calloc(1, sizeof(Plugin));
        n = realloc(set->plugins, sizeof(Plugin *) * (set->n_plugins + 1));
        if (n)
                set->plugins = n;
        if (!p || !n || !(p->path = strdup(path))) {
                free(p);
                dlclose(handle);
                return set_reason(reason_out, -ENOMEM, "out of memory");
        }
        p->desc = desc;
        p->handle = handle;
        set->plugins[set->n_plugins++] = p;
        return 0;
}

static int filter_modules(const struct dirent *de)
{
        size_t l = strlen(de->d_name);
        return de->d_name[0] != '.' && l > 3 && streq(de->d_name + l - 3, ".so");
}

int plugin_set_load_dir(PluginSet *set, const char *dir)
{
        struct dirent **names = NULL;
        int n, loaded = 0;

        n = scandir(dir, &names, filter_modules, alphasort);
        if (n < 0)
                return negative_errno();

        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *path = NULL, *reason = NULL;
                int r;

                if (asprintf(&path, "%s/%s", dir, names[i]->d_name) < 0)
                        path = NULL;
                free(names[i]);
                if (!path) {
                        log_oom();
                        continue;
                }

                r = plugin_set_load_module(set, path, &reason);
                if (r < 0) {
                        log_warning_errno(r, "Refusing plugin %s: %s", path, strna(reason));
                        continue;
                }
                log_debug("Loaded plugin '%s' from %s", set->plugins[set->n_plugins - 1]->desc->id,
                          path);
                loaded++;
        }
        free(names);
        return loaded;
}

void plugin_set_clear(PluginSet *set)
{
        for (size_t i = 0; i < set->n_plugins; i++) {
                free(set->plugins[i]->path);
                dlclose(set->plugins[i]->handle);
                free(set->plugins[i]);
        }
        free(set->plugins);
        *set = (PluginSet){};
}
