/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Removes leading and trailing blanks in place; returns s. */
char *strstrip(char *s);

/*
 * Strict number parsing: the whole string must be a decimal number within the type's range,
 * with no sign for the unsigned variants. Return 0, or -EINVAL (not a number) or -ERANGE.
 */
int safe_atou(const char *s, unsigned *ret);
int safe_atoi(const char *s, int *ret);
int safe_atou64(const char *s, uint64_t *ret);
/* Hexadecimal, exactly four digits without prefix, as in USB vendor and product IDs. */
int parse_hex16(const char *s, uint16_t *ret);
/* yes/no, true/false, on/off, 1/0. Returns 1, 0 or -EINVAL. */
int parse_boolean(const char *s);

/* Whether s is a valid plugin or model id: [a-z0-9-]+, not starting with '-'. */
bool id_is_valid(const char *s);

/* Whether s is a valid D-Bus object path element: [A-Za-z0-9_]+ */
bool object_path_element_is_valid(const char *s);
