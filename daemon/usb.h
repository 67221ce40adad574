/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The libusb transport, inside the daemon's one event loop: one libusb context whose pollfds
 * and timeouts are sd-event sources, no discovery of its own (sd-device finds devices; each is
 * opened from its /dev/bus/usb node with libusb_wrap_sys_device()), asynchronous transfers
 * only, so a slow device never blocks the loop or another device.
 */

#include <libusb.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

#include "list.h"

typedef struct KneedDevice Device;
typedef struct UsbFd UsbFd;
typedef struct UsbDevice UsbDevice;

typedef struct UsbContext {
        libusb_context *ctx;
        sd_event *event;
        UsbFd *fds;
        sd_event_source *timeout_source;
        UsbDevice *closing; /* released devices to close on the next iteration */
        sd_event_source *close_source;
        unsigned n_pending; /* transfers in flight, over all devices */
        /* Called when the last transfer in flight completes (the daemon waits for it to exit). */
        void (*drained)(void *userdata);
        void *drained_userdata;
} UsbContext;

/* One opened device. Transfers in flight keep it alive after its Device has gone. */
struct UsbDevice {
        unsigned n_ref;
        UsbContext *context;
        Device *device; /* NULL once the device is gone */
        libusb_device_handle *handle;
        int fd;
        uint32_t claimed;  /* interfaces claimed, as bits */
        uint32_t detached; /* interfaces whose kernel driver was detached, to give back */
        unsigned n_pending;
        LIST_FIELDS(UsbDevice, closing);
};

int usb_context_new(sd_event *e, UsbContext **ret);
UsbContext *usb_context_free(UsbContext *c);

/* Opens devnode (/dev/bus/usb/BBB/DDD) for device d. */
int usb_device_open(UsbContext *c, Device *d, const char *devnode, UsbDevice **ret);

/*
 * The device is going. Transfers in flight (a final stop, say) are left to complete; the
 * handle is released and closed after the last of them.
 */
void usb_device_release(UsbDevice *u);

/* Claims an interface (released at the end), detaching a kernel driver only when asked. */
int usb_device_claim_interface(UsbDevice *u, int interface, bool detach_kernel_driver);

/*
 * Submits a control transfer from host to device; returns once submitted. A transfer that
 * fails, stalls or times out is reported as a fault of the device.
 */
int usb_device_control_out(UsbDevice *u, uint8_t request_type, uint8_t request, uint16_t value,
                           uint16_t index, const uint8_t *data, uint16_t size, unsigned timeout_ms);

/* libusb errors as negative errnos, once, where they enter our code. */
int usb_error_to_errno(int libusb_error);
