/* SPDX-License-Identifier: MIT */
#pragma once

/* Minimal test helpers: a failed assertion prints where and what, then aborts. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ASSERT_TRUE(expr)                                                                        \
        do {                                                                                     \
                if (!(expr)) {                                                                   \
                        fprintf(stderr, "%s:%d: %s: assertion failed: %s\n", __FILE__, __LINE__, \
                                __func__, #expr);                                                \
                        abort();                                                                 \
                }                                                                                \
        } while (0)

#define ASSERT_FALSE(expr) ASSERT_TRUE(!(expr))

#define ASSERT_EQ(a, b)                                                                         \
        do {                                                                                    \
                long long _a_ = (long long) (a), _b_ = (long long) (b);                         \
                if (_a_ != _b_) {                                                               \
                        fprintf(stderr, "%s:%d: %s: %s == %s failed: %lld != %lld\n", __FILE__, \
                                __LINE__, __func__, #a, #b, _a_, _b_);                          \
                        abort();                                                                \
                }                                                                               \
        } while (0)

#define ASSERT_STREQ(a, b)                                                                  \
        do {                                                                                \
                const char *_a_ = (a), *_b_ = (b);                                          \
                if (!_a_ || !_b_ || strcmp(_a_, _b_) != 0) {                                \
                        fprintf(stderr, "%s:%d: %s: %s == %s failed: \"%s\" != \"%s\"\n",   \
                                __FILE__, __LINE__, __func__, #a, #b, _a_ ? _a_ : "(null)", \
                                _b_ ? _b_ : "(null)");                                      \
                        abort();                                                            \
                }                                                                           \
        } while (0)

/* Asserts that haystack contains needle. */
#define ASSERT_CONTAINS(haystack, needle)                                                        \
        do {                                                                                     \
                const char *_h_ = (haystack), *_n_ = (needle);                                   \
                if (!_h_ || !strstr(_h_, _n_)) {                                                 \
                        fprintf(stderr, "%s:%d: %s: \"%s\" does not contain \"%s\"\n", __FILE__, \
                                __LINE__, __func__, _h_ ? _h_ : "(null)", _n_);                  \
                        abort();                                                                 \
                }                                                                                \
        } while (0)

#define ASSERT_OK(expr)                                                                   \
        do {                                                                              \
                long long _r_ = (long long) (expr);                                       \
                if (_r_ < 0) {                                                            \
                        fprintf(stderr, "%s:%d: %s: %s failed: %s\n", __FILE__, __LINE__, \
                                __func__, #expr, strerror((int) -_r_));                   \
                        abort();                                                          \
                }                                                                         \
        } while (0)

/* Asserts that expr returns -errno_value. */
#define ASSERT_ERROR(expr, errno_value)                                                          \
        do {                                                                                     \
                long long _r_ = (long long) (expr);                                              \
                if (_r_ != -(errno_value)) {                                                     \
                        fprintf(stderr, "%s:%d: %s: %s returned %lld, expected -%s\n", __FILE__, \
                                __LINE__, __func__, #expr, _r_, #errno_value);                   \
                        abort();                                                                 \
                }                                                                                \
        } while (0)

typedef struct TestCase {
        const char *name;
        void (*func)(void);
} TestCase;

#define TEST_CASE(f)  \
        {             \
#f, f \
        }

/* Runs the cases in order and prints a closing line that test runners understand. */
static inline int run_tests(const TestCase *cases, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                fprintf(stderr, "-- %s\n", cases[i].name);
                cases[i].func();
        }
        printf("%zu passed, 0 failed\n", n);
        return 0;
}

#define RUN_TESTS(...)                                                     \
        int main(void)                                                     \
        {                                                                  \
                static const TestCase cases[] = {__VA_ARGS__};             \
                return run_tests(cases, sizeof(cases) / sizeof(cases[0])); \
        }
