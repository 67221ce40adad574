/* SPDX-License-Identifier: MIT */
#pragma once

/* NULL-terminated string arrays. */

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

char **strv_free(char **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)

size_t strv_length(char *const *l);
bool strv_contains(char *const *l, const char *s);
/* Index of s in l, or -ENOENT. */
int strv_find(char *const *l, const char *s);
/* Appends a copy of s. */
int strv_extend(char ***l, const char *s);
/* Takes ownership of s, also on failure. */
int strv_consume(char ***l, char *s);
char **strv_copy(char *const *l);
/* Removes every entry equal to s, in place. */
void strv_remove(char **l, const char *s);

/*
 * Splits s at any of the separator characters, trimming blanks around each item and dropping
 * empty items. Returns 0 and the new array in ret, or -ENOMEM.
 */
int strv_split(const char *s, const char *separators, char ***ret);
/* Joins with sep; returns NULL on allocation failure. */
char *strv_join(char *const *l, const char *sep);

#define STRV_FOREACH(s, l) for (char *const *s = (l); s && *s; s++)
