/* SPDX-License-Identifier: MIT */

#include <ctype.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "ini-file.h"
#include "io-util.h"
#include "string-util.h"
#include "strv.h"

struct IniParser {
        const char *name;
        const char *data;
        size_t size;
        size_t offset;
        unsigned line;
        const IniCallbacks *cb;
        void *userdata;
        char *error;
        int error_code;
        char *section; /* current section, for duplicate detection */
        char **seen_sections;
        char **seen_keys; /* keys of the current section */
};

int ini_error(IniParser *p, int error, const char *format, ...)
{
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        if (p->error_code < 0)
                return p->error_code;

        va_start(ap, format);
        if (vasprintf(&msg, format, ap) < 0)
                msg = NULL;
        va_end(ap);

        if (asprintf(&p->error, "%s:%u: %s", p->name, p->line, msg ? msg : "out of memory") < 0)
                p->error = NULL;
        p->error_code = error < 0 ? error : -EINVAL;
        return p->error_code;
}

unsigned ini_parser_line(const IniParser *p)
{
        return p->line;
}

const char *ini_parser_name(const IniParser *p)
{
        return p->name;
}

/*
 * Where inih ends a [Section] header: at its "]", unless an inline comment (";" after white
 * space) comes first. Then the line is no header to inih, and the section doesn't change.
 */
static const char *header_end(const char *line)
{
        bool was_space = false;

        for (const char *c = line + 1; *c; c++) {
                if (*c == ']')
                        return c;
                if (was_space && *c == ';')
                        return NULL;
                was_space = isspace((unsigned char) *c);
        }
        return NULL;
}

static int section_begin(IniParser *p, const char *line, const char *end)
{
        _cleanup_free_ char *name = NULL;

        name = strndup(line + 1, (size_t) (end - line - 1));
        if (!name)
                return ini_error(p, -ENOMEM, "out of memory");
        strstrip(name);

        if (strv_contains(p->seen_sections, name))
                return ini_error(p, -EINVAL, "duplicate section [%s]", name);
        if (strv_extend(&p->seen_sections, name) < 0)
                return ini_error(p, -ENOMEM, "out of memory");
        p->seen_keys = strv_free(p->seen_keys);

        if (p->cb->section)
                return p->cb->section(p, name, p->userdata);
        return 0;
}

/* inih's reader: hands over one physical line at a time, so our count is the line number. */
static char *reader(char *str, int num, void *stream)
{
        IniParser *p = stream;
        const char *start, *nl;
        size_t len;

        if (p->offset >= p->size)
                return NULL;

        start = p->data + p->offset;
        nl = memchr(start, '\n', p->size - p->offset);
        len = nl ? (size_t) (nl - start) : p->size - p->offset;
        p->offset += len + (nl ? 1 : 0);
        p->line++;

        /* Leading blanks would make inih treat the line as a continuation of the last value.
         * All that inih skips (isspace()) goes, so that a header or key behind a carriage
         * return is seen here as inih will see it. */
        while (len > 0 && *start != '\0' && strchr(" \t\v\f\r", *start)) {
                start++;
                len--;
        }

        if (p->error_code >= 0) {
                if (memchr(start, 0, len))
                        (void) ini_error(p, -EINVAL, "line contains a NUL byte");
                else if (len >= (size_t) num - 1)
                        (void) ini_error(p, -EINVAL, "line is too long (at most %d characters)",
                                         num - 2);
        }
        if (p->error_code < 0) {
                str[0] = 0; /* keep inih going until the end; the error is already recorded */
                return str;
        }

        memcpy(str, start, len);
        str[len] = 0;

        /*
         * Report syntax errors here, in line order; inih would only tell us the line at the end,
         * after the handler had seen (and perhaps complained about) later lines.
         */
        if (str[0] == '[') {
                const char *end = header_end(str);

                if (!end)
                        (void) ini_error(p, -EINVAL,
                                         "syntax error (expected [Section] or Key=Value)");
                else
                        (void) section_begin(p, str, end);
        } else if (str[0] && !strchr(";#\r", str[0]) && !strpbrk(str, "=:") &&
                   strspn(str, " \t\r") != len)
                (void) ini_error(p, -EINVAL, "syntax error (expected [Section] or Key=Value)");
        return str;
}

static int handler(void *userdata, const char *section, const char *key, const char *value)
{
        IniParser *p = userdata;

        if (p->error_code < 0)
                return 1; /* already failed; ignore the rest */

        if (isempty(section)) {
                (void) ini_error(p, -EINVAL, "key '%s' outside of any section", key);
                return 1;
        }
        if (strv_contains(p->seen_keys, key)) {
                (void) ini_error(p, -EINVAL, "duplicate key '%s' in [%s]", key, section);
                return 1;
        }
        if (strv_extend(&p->seen_keys, key) < 0) {
                (void) ini_error(p, -ENOMEM, "out of memory");
                return 1;
        }

        (void) p->cb->key(p, section, key, value, p->userdata);
        return 1;
}

int ini_parse_buffer(const char *name, const char *data, size_t size, const IniCallbacks *cb,
                     void *userdata, char **error_message)
{
        IniParser p = {
                .name = name,
                .data = data,
                .size = size,
                .cb = cb,
                .userdata = userdata,
        };
        int r;

        /* Skip a UTF-8 byte order mark ourselves, so that line 1 is counted like any other. */
        if (size >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
                p.offset = 3;

        r = ini_parse_stream(reader, &p, handler, &p);
        if (r != 0 && p.error_code >= 0) {
                /* inih's own syntax error; r is the line number it failed on. */
                p.line = r > 0 ? (unsigned) r : p.line;
                (void) ini_error(&p, -EINVAL, "syntax error (expected [Section] or Key=Value)");
        }

        strv_free(p.seen_sections);
        strv_free(p.seen_keys);

        if (p.error_code < 0) {
                if (error_message)
                        *error_message = TAKE_PTR(p.error);
                free(p.error);
                return p.error_code;
        }
        return 0;
}

int read_full_file(const char *path, size_t max_size, char **ret_data, size_t *ret_size)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, alloc = 4096;
        struct stat st;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if ((uint64_t) st.st_size > max_size)
                return -EFBIG;

        buf = malloc(alloc);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n;

                if (size + 1 >= alloc) {
                        char *nb;

                        if (alloc > max_size)
                                return -EFBIG;
                        alloc *= 2;
                        nb = realloc(buf, alloc);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                }
                n = loop_read(fd, buf + size, alloc - size - 1);
                if (n < 0)
                        return (int) n;
                size += (size_t) n;
                if (size + 1 < alloc)
                        break; /* the end of the file */
        }
        if (size > max_size)
                return -EFBIG;
        buf[size] = 0;
        *ret_data = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = size;
        return 0;
}

int ini_parse_path(const char *path, const IniCallbacks *cb, void *userdata, char **error_message)
{
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        r = read_full_file(path, INI_FILE_MAX_SIZE, &data, &size);
        if (r < 0) {
                if (error_message && asprintf(error_message, "%s: %s", path,
                                              r == -EFBIG ? "file is too large" : strerror(-r)) < 0)
                        *error_message = NULL;
                return r;
        }
        return ini_parse_buffer(path, data, size, cb, userdata, error_message);
}
