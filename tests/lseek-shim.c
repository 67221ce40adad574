/* SPDX-License-Identifier: MIT */

/*
 * Test-only preload, loaded after libumockdev-preload. kneed opens a USB device's usbfs node
 * itself and hands the fd to libusb_wrap_sys_device(), which rewinds it with lseek(fd, 0,
 * SEEK_SET) before reading the descriptors. A real usbfs node can be rewound; the pseudo
 * terminal the test harness uses to emulate one (so that epoll works on it) cannot, and says
 * ESPIPE. For a character device rewound to 0, this says it worked; the read that follows is
 * answered by the test's emulated device. Nothing else changes.
 */

/* Both symbols are defined here; with 64-bit file offsets the headers would rename lseek. */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

off64_t lseek64(int fd, off64_t offset, int whence);
off_t lseek(int fd, off_t offset, int whence);

off64_t lseek64(int fd, off64_t offset, int whence)
{
        static off64_t (*real)(int, off64_t, int);
        struct stat st;
        off64_t r;

        if (!real)
                real = (off64_t(*)(int, off64_t, int)) dlsym(RTLD_NEXT, "lseek64");
        r = real(fd, offset, whence);
        if (r < 0 && errno == ESPIPE && offset == 0 && whence == SEEK_SET && fstat(fd, &st) == 0 &&
            S_ISCHR(st.st_mode))
                return 0;
        return r;
}

off_t lseek(int fd, off_t offset, int whence)
{
        return (off_t) lseek64(fd, offset, whence);
}
