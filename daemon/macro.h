/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The handful of helpers every file uses: cleanup attributes, ownership transfer and errno
 * conversion, in the spirit of systemd's macro.h but written for this project.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((__cleanup__(f)))
#define _unused_ __attribute__((__unused__))
#define _printf_(a, b) __attribute__((__format__(printf, a, b)))
#define _noreturn_ __attribute__((__noreturn__))
#define _pure_ __attribute__((__pure__))
#define _const_ __attribute__((__const__))
#define _likely_(x) (__builtin_expect(!!(x), 1))
#define _unlikely_(x) (__builtin_expect(!!(x), 0))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define CLAMP(x, lo, hi) ((x) < (lo) ? (lo) : (x) > (hi) ? (hi) : (x))

/* __extension__ keeps -Wpedantic quiet about the statement expressions. */
#define TAKE_PTR(ptr)                           \
        __extension__({                         \
                __typeof__(ptr) *_pp_ = &(ptr); \
                __typeof__(ptr) _p_ = *_pp_;    \
                *_pp_ = NULL;                   \
                _p_;                            \
        })

#define TAKE_FD(fd)                 \
        __extension__({             \
                int *_fdp_ = &(fd); \
                int _fd_ = *_fdp_;  \
                *_fdp_ = -1;        \
                _fd_;               \
        })

static inline void freep(void *p)
{
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline int safe_close(int fd)
{
        if (fd >= 0) {
                int saved = errno;
                close(fd);
                errno = saved;
        }
        return -1;
}

static inline void closep(int *fd)
{
        safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* For free functions that accept NULL and return NULL, like systemd's *_unref(). */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func) \
        static inline void func##p(type *p)     \
        {                                       \
                if (*p)                         \
                        *p = func(*p);          \
        }                                       \
        struct useless_struct_to_allow_trailing_semicolon

/* errno as a negative error code, never 0 even if a broken libc call forgot to set it. */
static inline int negative_errno(void)
{
        return errno > 0 ? -errno : -EIO;
}

/* Turns a libc "-1 and errno" result into our "-errno" convention, once, at the boundary. */
#define RET_NERRNO(expr)                          \
        __extension__({                           \
                int _r_ = (expr);                 \
                _r_ < 0 ? negative_errno() : _r_; \
        })

static inline bool streq(const char *a, const char *b)
{
        return strcmp(a, b) == 0;
}

static inline bool streq_ptr(const char *a, const char *b)
{
        if (!a || !b)
                return a == b;
        return streq(a, b);
}

static inline const char *strempty(const char *s)
{
        return s ? s : "";
}

static inline const char *strna(const char *s)
{
        return s ? s : "n/a";
}

static inline bool isempty(const char *s)
{
        return !s || !*s;
}

/* Returns the part after prefix, or NULL. */
static inline const char *startswith(const char *s, const char *prefix)
{
        size_t l = strlen(prefix);
        return strncmp(s, prefix, l) == 0 ? s + l : NULL;
}

static inline void *mfree(void *p)
{
        free(p);
        return NULL;
}

#define zero(x) memset(&(x), 0, sizeof(x))
