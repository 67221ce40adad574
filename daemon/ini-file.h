/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * One wrapper around inih for every INI format kneed reads (policy, routines, device files).
 * Debian's inih is built with 200-byte lines, continuation lines and no line numbers in the
 * handler; this wrapper counts lines itself, refuses over-long lines instead of letting inih
 * split them silently, strips leading blanks so an indented line is never taken as a
 * continuation, refuses duplicate sections and keys, and keeps the first error as
 * "FILE:LINE: message".
 */

#include <stddef.h>

#include "macro.h"

#define INI_FILE_MAX_SIZE (1024 * 1024)

typedef struct IniParser IniParser;

/*
 * Called for each key. Return 0 to go on, or the result of ini_error() to fail; after the first
 * failure the remaining keys are not delivered.
 */
typedef int (*IniKeyHandler)(IniParser *p, const char *section, const char *key, const char *value,
                             void *userdata);
/* Optional: called when a section header is seen, so that empty sections can be checked. */
typedef int (*IniSectionHandler)(IniParser *p, const char *section, void *userdata);

typedef struct IniCallbacks {
        IniSectionHandler section;
        IniKeyHandler key;
} IniCallbacks;

/*
 * Parses a buffer that need not be NUL-terminated. name is used in error messages.
 * Returns 0, or a negative errno with "NAME:LINE: what was wrong" in *error_message.
 */
int ini_parse_buffer(const char *name, const char *data, size_t size, const IniCallbacks *cb,
                     void *userdata, char **error_message);

/* Reads path (at most INI_FILE_MAX_SIZE bytes) and parses it as above. */
int ini_parse_path(const char *path, const IniCallbacks *cb, void *userdata, char **error_message);

/* Records an error at the current line; returns error (negative). */
int ini_error(IniParser *p, int error, const char *format, ...) _printf_(3, 4);

unsigned ini_parser_line(const IniParser *p);
const char *ini_parser_name(const IniParser *p);

/* Reads a whole file into a NUL-terminated buffer, refusing files above max_size. */
int read_full_file(const char *path, size_t max_size, char **ret_data, size_t *ret_size);
