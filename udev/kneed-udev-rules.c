/* SPDX-License-Identifier: MIT */

/*
 * kneed-udev-rules DIR PROBE: prints the udev rules for every device file in DIR, and the rules
 * that run PROBE (kneed-hid-probe, installed there) to find standard HID haptic controllers.
 * Built and run at build time with the daemon's own device-file parser, so that the rules and
 * the database can never disagree. A bad device file fails the build.
 */

#include <stdio.h>

#include "device-db.h"
#include "strv.h"

/* Only the daemon opens these nodes: its group, no uaccess for the seat's user; and plugging
 * one in starts kneed. */
#define ACCESS \
        "GROUP=\"kneed\", MODE=\"0660\", TAG+=\"systemd\", ENV{SYSTEMD_WANTS}+=\"kneed.service\""

static void print_rule(const DeviceInfo *info, const DeviceMatch *m)
{
        const char *file = strrchr(info->path, '/') ? strrchr(info->path, '/') + 1 : info->path;

        printf("# %s (%s)\n", info->name, file);
        if (m->type == DEVICE_MATCH_USB)
                printf("SUBSYSTEM==\"usb\", ENV{DEVTYPE}==\"usb_device\", "
                       "ATTR{idVendor}==\"%04x\", "
                       "ATTR{idProduct}==\"%04x\", ",
                       m->vendor_id, m->product_id);
        else
                /* The hid parent is named BUS:VENDOR:PRODUCT.N, over USB and Bluetooth alike. */
                printf("SUBSYSTEM==\"hidraw\", KERNELS==\"????:%04X:%04X.*\", ", m->vendor_id,
                       m->product_id);
        printf("ENV{ID_KNEED_PLUGIN}=\"%s\", %s\n", info->plugin, ACCESS);
}

int main(int argc, char *argv[])
{
        _cleanup_strv_free_ char **errors = NULL;
        DeviceDatabase db = {};
        const DeviceInfo *info;
        int r;

        if (argc != 3) {
                fprintf(stderr, "usage: %s DEVICE-DIR PROBE-PATH\n", argv[0]);
                return 2;
        }
        r = device_db_load_dir(&db, argv[1], &errors);
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", argv[1], strerror(-r));
                return 1;
        }
        STRV_FOREACH (e, errors)
                fprintf(stderr, "%s\n", *e);
        if (errors) {
                device_db_clear(&db);
                return 1;
        }

        printf("# SPDX-License-Identifier: MIT\n"
               "# Generated from kneed's device database (data/devices) by kneed-udev-rules.\n"
               "# Do not edit: change the device files instead.\n\n"
               "ACTION==\"remove\", GOTO=\"kneed_end\"\n"
               "SUBSYSTEM!=\"usb|hidraw\", GOTO=\"kneed_end\"\n\n");
        LIST_FOREACH (infos, info, db.infos)
                for (size_t i = 0; i < info->n_matches; i++)
                        if (info->matches[i].type != DEVICE_MATCH_VIRTUAL)
                                print_rule(info, &info->matches[i]);
        printf("\n# Standard HID haptic controllers no device file names: the probe reads the "
               "report\n# descriptor and the hid-haptics plugin drives what it finds.\n"
               "SUBSYSTEM==\"hidraw\", ENV{ID_KNEED_PLUGIN}==\"\", IMPORT{program}=\"%s %%S%%p\"\n"
               "SUBSYSTEM==\"hidraw\", ENV{ID_KNEED_PLUGIN}==\"hid-haptics\", %s\n",
               argv[2], ACCESS);
        printf("\nLABEL=\"kneed_end\"\n");

        device_db_clear(&db);
        return fflush(stdout) == 0 ? 0 : 1;
}
