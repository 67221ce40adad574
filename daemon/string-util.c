/* SPDX-License-Identifier: MIT */

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "string-util.h"

char *strstrip(char *s)
{
        char *e, *b = s;

        while (*b && isspace((unsigned char) *b))
                b++;
        e = b + strlen(b);
        while (e > b && isspace((unsigned char) e[-1]))
                e--;
        memmove(s, b, (size_t) (e - b));
        s[e - b] = 0;
        return s;
}

int safe_atou64(const char *s, uint64_t *ret)
{
        unsigned long long v;
        char *end;

        if (isempty(s) || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (errno != 0 || *end)
                return -EINVAL;
        *ret = (uint64_t) v;
        return 0;
}

int safe_atou(const char *s, unsigned *ret)
{
        uint64_t v;
        int r;

        r = safe_atou64(s, &v);
        if (r < 0)
                return r;
        if (v > UINT_MAX)
                return -ERANGE;
        *ret = (unsigned) v;
        return 0;
}

int safe_atoi(const char *s, int *ret)
{
        long v;
        char *end;

        if (isempty(s) || !(isdigit((unsigned char) s[0]) || s[0] == '-'))
                return -EINVAL;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno == ERANGE || v < INT_MIN || v > INT_MAX)
                return -ERANGE;
        if (errno != 0 || *end || end == s)
                return -EINVAL;
        *ret = (int) v;
        return 0;
}

int parse_hex16(const char *s, uint16_t *ret)
{
        unsigned v = 0;

        if (strlen(s) != 4)
                return -EINVAL;
        for (size_t i = 0; i < 4; i++) {
                if (!isxdigit((unsigned char) s[i]))
                        return -EINVAL;
                v = v * 16 + (unsigned) (isdigit((unsigned char) s[i])
                                                 ? s[i] - '0'
                                                 : tolower((unsigned char) s[i]) - 'a' + 10);
        }
        *ret = (uint16_t) v;
        return 0;
}

int parse_boolean(const char *s)
{
        static const char *const yes[] = {"yes", "true", "on", "1"};
        static const char *const no[] = {"no", "false", "off", "0"};

        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strcasecmp(s, yes[i]) == 0)
                        return 1;
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (strcasecmp(s, no[i]) == 0)
                        return 0;
        return -EINVAL;
}

bool object_path_element_is_valid(const char *s)
{
        if (isempty(s))
                return false;
        for (const char *p = s; *p; p++)
                if (!isalnum((unsigned char) *p) && *p != '_')
                        return false;
        return true;
}

bool id_is_valid(const char *s)
{
        if (isempty(s) || s[0] == '-')
                return false;
        for (const char *p = s; *p; p++)
                if (!(*p >= 'a' && *p <= 'z') && !isdigit((unsigned char) *p) && *p != '-')
                        return false;
        return true;
}
