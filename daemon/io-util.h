/* SPDX-License-Identifier: MIT */
#pragma once

#include <sys/types.h>

/*
 * Reads size bytes into buf, going on after short reads and EINTR: fewer only at the end of
 * the file. Returns how many, or a negative errno.
 */
ssize_t loop_read(int fd, void *buf, size_t size);
