/* SPDX-License-Identifier: MIT */

#include <errno.h>
#include <unistd.h>

#include "io-util.h"
#include "macro.h"

ssize_t loop_read(int fd, void *buf, size_t size)
{
        size_t done = 0;

        while (done < size) {
                ssize_t n = read(fd, (char *) buf + done, size - done);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        break;
                done += (size_t) n;
        }
        return (ssize_t) done;
}
