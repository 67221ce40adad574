/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The hidraw transport: one non-blocking fd per device, watched by the daemon's loop through one
 * io source (sd-event takes one per fd): EPOLLIN while the plugin watches input, EPOLLOUT while
 * output reports wait. Reports that meet EAGAIN wait in a short queue; one that can't go out
 * within HIDRAW_WRITE_DEADLINE_USEC faults the device, as does input beyond
 * HIDRAW_INPUT_MAX_PER_SEC. A node that hangs up or says ENODEV
 * means the device was unplugged: device_vanished(), not a fault.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#define HIDRAW_REPORT_MAX 4096
#define HIDRAW_QUEUE_MAX 4
#define HIDRAW_WRITE_DEADLINE_USEC (500 * UINT64_C(1000))
/*
 * More input reports than this in one second and the device is faulted: a full-speed USB
 * interrupt endpoint delivers at most one report per 1 ms frame (USB 2.0, 5.7.4), and a
 * massage device reports when something changes (okmp: at least once a second). Beyond it a
 * device only burns the CPU kneed needs for every other device.
 */
#define HIDRAW_INPUT_MAX_PER_SEC 1000u

typedef struct KneedDevice Device;

typedef struct HidrawQueued {
        uint8_t data[64];
        size_t size;
} HidrawQueued;

typedef struct Hidraw {
        int fd;
        uint8_t *descriptor; /* the report descriptor, read once */
        size_t descriptor_size;
        HidrawQueued queue[HIDRAW_QUEUE_MAX];
        size_t n_queued;
        sd_event_source *io_source;
        sd_event_source *deadline_source;
        bool watch_input;
        uint64_t input_window_usec; /* when the current one-second count began */
        unsigned input_count;
} Hidraw;

/* Opens devnode read-write and non-blocking. Returns the fd or a negative errno. */
int hidraw_open(const char *devnode);

/* Reads the report descriptor with HIDIOCGRDESCSIZE/HIDIOCGRDESC into h (cached). */
int hidraw_read_descriptor(Hidraw *h);

/*
 * Writes an output report (report[0] is the report ID, 0 without IDs). Returns 0 when written
 * or queued behind EAGAIN; -EIO for a short write; -ENODEV when the device is gone; -ENOBUFS
 * when the queue is full.
 */
int hidraw_write(Device *d, Hidraw *h, const uint8_t *report, size_t size);

/* Feature reports; buf[0] carries the report ID. get returns the bytes read. */
int hidraw_get_feature(Device *d, Hidraw *h, uint8_t report_id, uint8_t *buf, size_t size);
int hidraw_set_feature(Device *d, Hidraw *h, const uint8_t *report, size_t size);

/* Starts or stops handing input reports to the device's input_func. */
int hidraw_watch_input(Device *d, Hidraw *h, bool watch);

/* Closes the fd and drops what is queued. */
void hidraw_close(Hidraw *h);
