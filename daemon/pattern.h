/* SPDX-License-Identifier: MIT */
#pragma once

#include <kneed/plugin.h>

const char *pattern_to_string(KneedPattern p);
/* Returns the pattern or -EINVAL. */
int pattern_from_string(const char *s);
