/* SPDX-License-Identifier: MIT */

/*
 * The Rez TranceVibrator (USB 0b49:064f): one motor whose speed is set with a vendor control
 * transfer to interface 0 (bmRequestType 0x41, bRequest 1, wValue the speed 0..255, wIndex 0,
 * no data). Speed 0 stops it. It knows no patterns, no heat and no dead-man switch.
 */

#include <errno.h>
#include <kneed/plugin.h>

#define REZ_REQUEST_TYPE 0x41 /* host to device, vendor, interface */
#define REZ_REQUEST_SET_SPEED 1
#define REZ_TIMEOUT_MS 1000

static int rez_probe(KneedDevice *d)
{
        if (kneed_device_get_transport(d) != KNEED_TRANSPORT_USB || !kneed_device_get_match(d))
                return -ENODEV;
        /* No kernel driver binds it; claim interface 0 so that no one else talks to it. */
        return kneed_device_usb_claim_interface(d, 0, false);
}

static void rez_remove(KneedDevice *d)
{
}

static int set_speed(KneedDevice *d, unsigned speed)
{
        return kneed_device_usb_control_out(d, REZ_REQUEST_TYPE, REZ_REQUEST_SET_SPEED,
                                            (uint16_t) (speed > 255 ? 255 : speed), 0, NULL, 0,
                                            REZ_TIMEOUT_MS);
}

static int rez_set_output(KneedDevice *d, const KneedOutput *out)
{
        /* Levels=255 in its device file: kneed's native level is the speed. Patterns are
         * beyond this device: it runs continuous whatever the routine says. */
        return set_speed(d, out->level);
}

static int rez_stop(KneedDevice *d)
{
        return set_speed(d, 0);
}

__attribute__((visibility("default"))) const KneedPlugin kneed_plugin = {
        .abi = KNEED_PLUGIN_ABI,
        .id = "rez-trancevibrator",
        .probe = rez_probe,
        .remove = rez_remove,
        .set_output = rez_set_output,
        .stop = rez_stop,
};
