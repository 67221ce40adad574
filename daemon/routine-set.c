/* SPDX-License-Identifier: MIT */

#include <dirent.h>

#include "routine-set.h"
#include "strv.h"

Routine *routine_set_find(const RoutineSet *set, const char *id)
{
        for (size_t i = 0; i < set->n_routines; i++)
                if (streq(set->routines[i]->id, id))
                        return set->routines[i];
        return NULL;
}

static int filter_routine_files(const struct dirent *de)
{
        size_t l = strlen(de->d_name);
        return de->d_name[0] != '.' && l > 8 && streq(de->d_name + l - 8, ".routine");
}

static void add_error(char ***errors, char *message)
{
        if (errors && message)
                (void) strv_consume(errors, message);
        else
                free(message);
}

int routine_set_load_dir(RoutineSet *set, const char *dir, char ***errors)
{
        struct dirent **names = NULL;
        int n, loaded = 0;

        n = scandir(dir, &names, filter_routine_files, alphasort);
        if (n < 0)
                return negative_errno();

        for (int k = 0; k < n; k++) {
                _cleanup_(routine_unrefp) Routine *r = NULL;
                _cleanup_free_ char *path = NULL;
                char *error = NULL;
                Routine *other, **grown;

                if (asprintf(&path, "%s/%s", dir, names[k]->d_name) < 0)
                        path = NULL;
                free(names[k]);
                if (!path)
                        continue;

                if (routine_load(path, &r, &error) < 0) {
                        add_error(errors, error ? error : strdup(path));
                        continue;
                }
                other = routine_set_find(set, r->id);
                if (other) {
                        if (asprintf(&error, "%s: duplicate routine Id '%s', already defined by %s",
                                     path, r->id, other->path) < 0)
                                error = NULL;
                        add_error(errors, error);
                        continue;
                }

                grown = realloc(set->routines, sizeof(Routine *) * (set->n_routines + 1));
                if (!grown) {
                        add_error(errors, strdup(path));
                        continue;
                }
                set->routines = grown;
                set->routines[set->n_routines++] = TAKE_PTR(r);
                loaded++;
        }
        free(names);
        return loaded;
}

void routine_set_clear(RoutineSet *set)
{
        for (size_t i = 0; i < set->n_routines; i++)
                routine_unref(set->routines[i]);
        free(set->routines);
        *set = (RoutineSet){};
}
