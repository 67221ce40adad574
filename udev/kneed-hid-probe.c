/* SPDX-License-Identifier: MIT */

/*
 * kneed-hid-probe SYSPATH: run by udev for hidraw devices (IMPORT{program}), like systemd's
 * fido_id. Reads the report descriptor of the HID device under the hidraw node at SYSPATH from
 * sysfs and prints ID_KNEED_PLUGIN=hid-haptics when it describes a Simple Haptic Controller
 * kneed can drive (haptics_descriptor_is_usable()), so that the rules give it to the kneed
 * group and start kneed, as for the devices in the database. Which waveforms the device offers
 * needs a feature report from the device itself: the plugin checks that when it binds.
 *
 * Exit status: 0 (also when it is no haptic controller, printing nothing), 1 when the
 * descriptor can't be read, 2 for a wrong command line.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "haptics-descriptor.h"
#include "hid-descriptor.h"

/* HID_MAX_DESCRIPTOR_SIZE in the kernel; one byte more tells a too-long file apart. */
#define DESCRIPTOR_MAX 4096

int main(int argc, char *argv[])
{
        _cleanup_(hid_descriptor_freep) HidDescriptor *hid = NULL;
        uint8_t data[DESCRIPTOR_MAX + 1];
        HapticsDescriptor haptics;
        char path[4096];
        ssize_t n;
        int fd;

        if (argc != 2) {
                fprintf(stderr, "usage: %s SYSPATH\n", argv[0]);
                return 2;
        }
        /* The hidraw node's "device" is its HID device, which has the descriptor. */
        if (snprintf(path, sizeof(path), "%s/device/report_descriptor", argv[1]) >=
            (int) sizeof(path)) {
                fprintf(stderr, "%s: path too long\n", argv[1]);
                return 2;
        }
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return 1;
        }
        n = read(fd, data, sizeof(data));
        close(fd);
        if (n < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return 1;
        }

        /* Anything but a usable haptic controller, a broken descriptor included, is no match. */
        if (n > DESCRIPTOR_MAX || hid_descriptor_parse(data, (size_t) n, &hid) < 0 ||
            haptics_descriptor_parse(hid, &haptics) < 0 || !haptics_descriptor_is_usable(&haptics))
                return 0;
        printf("ID_KNEED_PLUGIN=hid-haptics\n");
        return fflush(stdout) == 0 ? 0 : 1;
}
