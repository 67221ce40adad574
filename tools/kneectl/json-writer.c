/* SPDX-License-Identifier: MIT */

#include <inttypes.h>
#include <math.h>

#include "json-writer.h"

static void value_prefix(JsonWriter *j)
{
        if (j->after_key) {
                j->after_key = false;
                return;
        }
        if (j->depth > 0 && j->need_comma[j->depth - 1])
                fputc(',', j->f);
        if (j->depth > 0)
                j->need_comma[j->depth - 1] = true;
}

static void write_escaped(FILE *f, const char *s)
{
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                switch (*p) {
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                case '\t':
                        fputs("\\t", f);
                        break;
                case '\r':
                        fputs("\\r", f);
                        break;
                default:
                        if (*p < 0x20)
                                fprintf(f, "\\u%04x", *p);
                        else
                                fputc(*p, f);
                }
        }
        fputc('"', f);
}

static void open_container(JsonWriter *j, char c)
{
        value_prefix(j);
        fputc(c, j->f);
        if (j->depth < JSON_MAX_DEPTH)
                j->need_comma[j->depth] = false;
        j->depth++;
}

static void close_container(JsonWriter *j, char c)
{
        if (j->depth > 0)
                j->depth--;
        fputc(c, j->f);
}

void json_begin_object(JsonWriter *j)
{
        open_container(j, '{');
}

void json_end_object(JsonWriter *j)
{
        close_container(j, '}');
}

void json_begin_array(JsonWriter *j)
{
        open_container(j, '[');
}

void json_end_array(JsonWriter *j)
{
        close_container(j, ']');
}

void json_key(JsonWriter *j, const char *key)
{
        value_prefix(j);
        write_escaped(j->f, key);
        fputc(':', j->f);
        j->after_key = true;
}

void json_string(JsonWriter *j, const char *s)
{
        value_prefix(j);
        if (s)
                write_escaped(j->f, s);
        else
                fputs("null", j->f);
}

void json_uint(JsonWriter *j, uint64_t v)
{
        value_prefix(j);
        fprintf(j->f, "%" PRIu64, v);
}

void json_int(JsonWriter *j, int64_t v)
{
        value_prefix(j);
        fprintf(j->f, "%" PRId64, v);
}

void json_double(JsonWriter *j, double v)
{
        value_prefix(j);
        if (isfinite(v))
                fprintf(j->f, "%.3f", v);
        else
                fputs("null", j->f);
}

void json_bool(JsonWriter *j, bool v)
{
        value_prefix(j);
        fputs(v ? "true" : "false", j->f);
}

void json_null(JsonWriter *j)
{
        value_prefix(j);
        fputs("null", j->f);
}

void json_finish(JsonWriter *j)
{
        fputc('\n', j->f);
        fflush(j->f);
}
