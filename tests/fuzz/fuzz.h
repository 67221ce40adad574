/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A fuzz target: one function that takes any bytes. Built with clang's libFuzzer (-Dfuzz=true)
 * it is fuzzed; built without it, fuzz-main.c runs it once over every file of its corpus, so
 * that every input that ever found a bug is replayed by the normal test runs.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An input the code under test accepted but should not have: a bug as real as a crash. */
#define FUZZ_CHECK(expr)                                                                     \
        do {                                                                                 \
                if (!(expr)) {                                                               \
                        fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, \
                                #expr);                                                      \
                        abort();                                                             \
                }                                                                            \
        } while (0)

/* A refusal says where and what was wrong ("FILE:LINE: ..."); only running out of memory may
 * leave it unsaid. */
static inline int fuzz_error_names_file(int r, const char *error, const char *name)
{
        if (r == -12 /* ENOMEM */ && !error)
                return 1;
        return error && strncmp(error, name, strlen(name)) == 0 && error[strlen(name)] == ':';
}
