/* SPDX-License-Identifier: MIT */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "string-util.h"
#include "strv.h"

char **strv_free(char **l)
{
        STRV_FOREACH (s, l)
                free(*s);
        free(l);
        return NULL;
}

size_t strv_length(char *const *l)
{
        size_t n = 0;
        STRV_FOREACH (s, l)
                n++;
        return n;
}

int strv_find(char *const *l, const char *s)
{
        size_t i = 0;
        STRV_FOREACH (x, l) {
                if (streq(*x, s))
                        return (int) i;
                i++;
        }
        return -ENOENT;
}

bool strv_contains(char *const *l, const char *s)
{
        return strv_find(l, s) >= 0;
}

int strv_consume(char ***l, char *s)
{
        size_t n;
        char **c;

        if (!s)
                return -ENOMEM;
        n = strv_length(*l);
        c = realloc(*l, sizeof(char *) * (n + 2));
        if (!c) {
                free(s);
                return -ENOMEM;
        }
        c[n] = s;
        c[n + 1] = NULL;
        *l = c;
        return 0;
}

int strv_extend(char ***l, const char *s)
{
        return strv_consume(l, strdup(s));
}

void strv_remove(char **l, const char *s)
{
        char **w = l;

        if (!l)
                return;
        for (char **r = l; *r; r++) {
                if (streq(*r, s))
                        free(*r);
                else
                        *w++ = *r;
        }
        *w = NULL;
}

char **strv_copy(char *const *l)
{
        _cleanup_strv_free_ char **c = calloc(1, sizeof(char *));

        if (!c)
                return NULL;
        STRV_FOREACH (s, l)
                if (strv_extend(&c, *s) < 0)
                        return NULL;
        return TAKE_PTR(c);
}

int strv_split(const char *s, const char *separators, char ***ret)
{
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        const char *p = s;

        if (!l)
                return -ENOMEM;

        while (*p) {
                size_t n = strcspn(p, separators);
                _cleanup_free_ char *item = strndup(p, n);
                int r;

                if (!item)
                        return -ENOMEM;
                strstrip(item);
                if (*item) {
                        r = strv_consume(&l, TAKE_PTR(item));
                        if (r < 0)
                                return r;
                }
                p += n;
                if (*p)
                        p++;
        }

        *ret = TAKE_PTR(l);
        return 0;
}

char *strv_join(char *const *l, const char *sep)
{
        size_t len = 1, seplen = strlen(sep);
        char *r, *e;

        STRV_FOREACH (s, l)
                len += strlen(*s) + seplen;
        r = malloc(len);
        if (!r)
                return NULL;
        e = r;
        *e = 0;
        STRV_FOREACH (s, l) {
                if (s != l) {
                        memcpy(e, sep, seplen);
                        e += seplen;
                }
                size_t n = strlen(*s);
                memcpy(e, *s, n);
                e += n;
        }
        *e = 0;
        return r;
}
