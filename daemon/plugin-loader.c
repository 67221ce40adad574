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

Plugin *plugin_set_find(const PluginSet *set, const char *id)
{
        for (size_t i = 0; i < set->n_plugins; i++)
                if (streq(set->plugins[i]->id, id))
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

/*
 * libFuzzer registers the coverage counters of every instrumented module loaded, and goes on
 * clearing them after a dlclose() has unmapped them: under the fuzzer, modules stay mapped.
 */
#ifdef KNEED_FUZZ_BUILD
#define MODULE_DLOPEN_FLAGS (RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE)
#else
#define MODULE_DLOPEN_FLAGS (RTLD_NOW | RTLD_LOCAL)
#endif

/* Loads a module and checks its descriptor; on failure nothing stays loaded. */
static int module_load(const char *path, void **ret_handle, const KneedPlugin **ret_desc,
                       char **reason_out)
{
        const KneedPlugin *desc;
        const char *reason;
        void *handle;
        int r;

        /* RTLD_NOW: a module with unresolved symbols fails here, not halfway through a session. */
        handle = dlopen(path, MODULE_DLOPEN_FLAGS);
        if (!handle)
                return set_reason(reason_out, -ENOEXEC, "cannot be loaded: %s", dlerror());

        desc = dlsym(handle, KNEED_PLUGIN_SYMBOL);
        if (!desc)
                r = set_reason(reason_out, -ENOEXEC, "exports no '%s' descriptor",
                               KNEED_PLUGIN_SYMBOL);
        else {
                r = plugin_descriptor_check(desc, &reason);
                if (r == -EPROTO)
                        r = set_reason(reason_out, r, "%s: has ABI %u, this kneed needs ABI %u",
                                       reason, desc->abi, (unsigned) KNEED_PLUGIN_ABI);
                else if (r < 0)
                        r = set_reason(reason_out, r, "%s", reason);
        }
        if (r < 0) {
                dlclose(handle);
                return r;
        }
        *ret_handle = handle;
        *ret_desc = desc;
        return 0;
}

int plugin_set_add_module(PluginSet *set, const char *path, char **reason_out)
{
        const KneedPlugin *desc;
        const Plugin *other;
        Plugin *p, **n;
        void *handle;
        int r;

        r = module_load(path, &handle, &desc, reason_out);
        if (r < 0)
                return r;

        other = plugin_set_find(set, desc->id);
        if (other) {
                r = set_reason(reason_out, -EEXIST,
                               "duplicate plugin id '%s', which %s has already", desc->id,
                               other->path);
                dlclose(handle);
                return r;
        }

        p = calloc(1, sizeof(Plugin));
        n = realloc(set->plugins, sizeof(Plugin *) * (set->n_plugins + 1));
        if (n)
                set->plugins = n;
        if (p && n) {
                p->id = strdup(desc->id);
                p->path = strdup(path);
        }
        dlclose(handle);
        if (!p || !n || !p->id || !p->path) {
                if (p) {
                        free(p->id);
                        free(p->path);
                }
                free(p);
                return set_reason(reason_out, -ENOMEM, "out of memory");
        }
        set->plugins[set->n_plugins++] = p;
        return 0;
}

int plugin_open(Plugin *p)
{
        _cleanup_free_ char *reason = NULL;
        const KneedPlugin *desc;
        void *handle;
        int r;

        if (p->desc)
                return 0;
        if (p->error < 0)
                return p->error;

        r = module_load(p->path, &handle, &desc, &reason);
        if (r >= 0 && !streq(desc->id, p->id)) {
                r = set_reason(&reason, -ESTALE, "now has id '%s' instead of '%s'", desc->id,
                               p->id);
                dlclose(handle);
        }
        if (r < 0) {
                p->error = r;
                return log_warning_errno(r, "Refusing plugin %s on first use: %s", p->path,
                                         strna(reason));
        }

        p->handle = handle;
        p->desc = desc;
        log_debug("Loaded plugin '%s' from %s", p->id, p->path);
        return 0;
}

static int filter_modules(const struct dirent *de)
{
        size_t l = strlen(de->d_name);
        return de->d_name[0] != '.' && l > 3 && streq(de->d_name + l - 3, ".so");
}

int plugin_set_add_dir(PluginSet *set, const char *dir)
{
        struct dirent **names = NULL;
        int n, added = 0;

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

                r = plugin_set_add_module(set, path, &reason);
                if (r < 0) {
                        log_warning_errno(r, "Refusing plugin %s: %s", path, strna(reason));
                        continue;
                }
                log_debug("Found plugin '%s' in %s", set->plugins[set->n_plugins - 1]->id, path);
                added++;
        }
        free(names);
        return added;
}

void plugin_set_clear(PluginSet *set)
{
        for (size_t i = 0; i < set->n_plugins; i++) {
                Plugin *p = set->plugins[i];

                if (p->handle)
                        dlclose(p->handle);
                free(p->id);
                free(p->path);
                free(p);
        }
        free(set->plugins);
        *set = (PluginSet){};
}
