/* SPDX-License-Identifier: MIT */
#pragma once

/* A streaming JSON writer for kneectl --json: commas and escaping handled, nothing else. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

typedef struct JsonWriter {
        FILE *f;
        unsigned depth;
        bool need_comma[JSON_MAX_DEPTH];
        bool after_key;
} JsonWriter;

void json_begin_object(JsonWriter *j);
void json_end_object(JsonWriter *j);
void json_begin_array(JsonWriter *j);
void json_end_array(JsonWriter *j);
void json_key(JsonWriter *j, const char *key);
void json_string(JsonWriter *j, const char *s);
void json_uint(JsonWriter *j, uint64_t v);
void json_int(JsonWriter *j, int64_t v);
void json_double(JsonWriter *j, double v);
void json_bool(JsonWriter *j, bool v);
void json_null(JsonWriter *j);
/* Ends the document with a newline. */
void json_finish(JsonWriter *j);
