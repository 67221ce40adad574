/* SPDX-License-Identifier: MIT */

#include <fcntl.h>
#include <linux/hidraw.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>

#include "device.h"
#include "hidraw.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "time-util.h"

int hidraw_open(const char *devnode)
{
        int fd = open(devnode, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        return fd < 0 ? negative_errno() : fd;
}

int hidraw_read_descriptor(Hidraw *h)
{
        struct hidraw_report_descriptor desc = {};
        int size = 0;

        if (h->descriptor)
                return 0;
        if (ioctl(h->fd, HIDIOCGRDESCSIZE, &size) < 0)
                return negative_errno();
        if (size <= 0 || size > HID_MAX_DESCRIPTOR_SIZE)
                return -EBADMSG;
        desc.size = (uint32_t) size;
        if (ioctl(h->fd, HIDIOCGRDESC, &desc) < 0)
                return negative_errno();
        h->descriptor = malloc((size_t) size);
        if (!h->descriptor)
                return -ENOMEM;
        memcpy(h->descriptor, desc.value, (size_t) size);
        h->descriptor_size = (size_t) size;
        return 0;
}

/* The kernel's hidraw says ENODEV (writes, ioctls) or EIO (reads) once the device is gone. */
static int check_gone(Device *d, int r)
{
        if (r == -ENODEV)
                device_vanished(d);
        return r;
}

static int write_once(Hidraw *h, const uint8_t *report, size_t size)
{
        ssize_t n = write(h->fd, report, size);

        if (n < 0)
                return negative_errno();
        /* hidraw writes a report whole or not at all; anything else is a broken transport. */
        if ((size_t) n != size)
                return -EIO;
        return 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata);

/* The one io source follows what is needed: input watched, reports waiting. */
static int update_io(Device *d, Hidraw *h)
{
        uint32_t events = (h->watch_input ? EPOLLIN : 0) | (h->n_queued > 0 ? EPOLLOUT : 0);
        int r;

        if (events == 0 || d->gone) {
                if (h->io_source)
                        (void) sd_event_source_set_enabled(h->io_source, SD_EVENT_OFF);
                return 0;
        }
        if (!h->io_source)
                return sd_event_add_io(d->manager->event, &h->io_source, h->fd, events, on_io, d);
        r = sd_event_source_set_io_events(h->io_source, events);
        if (r >= 0)
                r = sd_event_source_set_enabled(h->io_source, SD_EVENT_ON);
        return r;
}

static void queue_drop(Device *d, Hidraw *h)
{
        h->n_queued = 0;
        h->deadline_source = sd_event_source_disable_unref(h->deadline_source);
        if (d)
                (void) update_io(d, h);
}

static void flush_queue(Device *d, Hidraw *h)
{
        int r = 0;

        while (h->n_queued > 0) {
                r = write_once(h, h->queue[0].data, h->queue[0].size);
                if (r == -EAGAIN)
                        return; /* still full: wait for the next EPOLLOUT */
                if (r < 0)
                        break;
                memmove(h->queue, h->queue + 1, sizeof(HidrawQueued) * --h->n_queued);
        }
        queue_drop(d, h);
        if (r < 0 && check_gone(d, r) != -ENODEV)
                kneed_device_report_fault(d, r, "a queued output report could not be written");
}

/* Counts one input report; true when it is one too many for this second. */
static bool input_flooding(Hidraw *h)
{
        uint64_t now = now_usec(CLOCK_MONOTONIC);

        if (now - h->input_window_usec >= USEC_PER_SEC) {
                h->input_window_usec = now;
                h->input_count = 0;
        }
        return ++h->input_count > HIDRAW_INPUT_MAX_PER_SEC;
}

static void read_input(Device *d, Hidraw *h)
{
        /* Zeroed once per wakeup: whatever a transport does, a plugin never sees stack
         * garbage. (Under valgrind, umockdev's emulated read() in a flood of reports returned
         * lengths for bytes valgrind never saw written.) */
        uint8_t report[HIDRAW_REPORT_MAX] = {};
        ssize_t n;

        /* Drain what is there; a bounded number of reads keeps one chatty device from
         * starving the loop. */
        for (unsigned i = 0; i < 16 && h->watch_input && !d->gone; i++) {
                n = read(h->fd, report, sizeof(report));
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                return;
                        if (errno == EIO || errno == ENODEV) {
                                device_vanished(d);
                                return;
                        }
                        h->watch_input = false;
                        (void) update_io(d, h);
                        kneed_device_report_fault(d, negative_errno(), "reading input failed");
                        return;
                }
                if (n == 0 || !d->input_func)
                        return;
                if (input_flooding(h)) {
                        char message[96];

                        h->watch_input = false;
                        (void) update_io(d, h);
                        snprintf(message, sizeof(message),
                                 "the device floods kneed with input reports (more than %u in "
                                 "one second)",
                                 HIDRAW_INPUT_MAX_PER_SEC);
                        kneed_device_report_fault(d, -ENOBUFS, message);
                        return;
                }
                device_hook_begin(d);
                d->input_func(d, report, (size_t) n, d->input_userdata);
                if (device_hook_end(d) < 0)
                        return;
        }
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        Device *d = userdata;
        Hidraw *h = &d->hidraw;

        /* A hidraw node hangs up only when its device has gone. */
        if (revents & (EPOLLHUP | EPOLLERR)) {
                device_vanished(d);
                return 0;
        }
        if (revents & EPOLLOUT)
                flush_queue(d, h);
        if (revents & EPOLLIN)
                read_input(d, h);
        return 0;
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
        Device *d = userdata;

        queue_drop(d, &d->hidraw);
        kneed_device_report_fault(d, -ETIMEDOUT, "the device accepted no output for 500 ms");
        return 0;
}

int hidraw_write(Device *d, Hidraw *h, const uint8_t *report, size_t size)
{
        size_t i;
        int r;

        if (size == 0 || size > HIDRAW_REPORT_MAX)
                return -EINVAL;

        /* Keep the order: while reports wait, new ones wait behind them. */
        if (h->n_queued == 0) {
                r = write_once(h, report, size);
                if (r != -EAGAIN)
                        return check_gone(d, r);
        }

        if (size > sizeof(h->queue[0].data))
                return -ENOBUFS;
        /* A newer report with the same ID replaces a waiting one: each carries the whole
         * state, and only the latest state matters. */
        for (i = 0; i < h->n_queued; i++)
                if (h->queue[i].data[0] == report[0])
                        break;
        if (i == h->n_queued) {
                if (h->n_queued == HIDRAW_QUEUE_MAX)
                        return -ENOBUFS;
                h->n_queued++;
        }
        memcpy(h->queue[i].data, report, size);
        h->queue[i].size = size;

        r = update_io(d, h);
        if (r >= 0 && !h->deadline_source)
                r = sd_event_add_time_relative(d->manager->event, &h->deadline_source,
                                               CLOCK_MONOTONIC, HIDRAW_WRITE_DEADLINE_USEC, 1000,
                                               on_deadline, d);
        if (r < 0) {
                queue_drop(d, h);
                return r;
        }
        return 0;
}

int hidraw_get_feature(Device *d, Hidraw *h, uint8_t report_id, uint8_t *buf, size_t size)
{
        int n;

        if (size == 0 || size > HIDRAW_REPORT_MAX)
                return -EINVAL;
        buf[0] = report_id;
        n = ioctl(h->fd, HIDIOCGFEATURE(size), buf);
        return n < 0 ? check_gone(d, negative_errno()) : n;
}

int hidraw_set_feature(Device *d, Hidraw *h, const uint8_t *report, size_t size)
{
        int n;

        if (size == 0 || size > HIDRAW_REPORT_MAX)
                return -EINVAL;
        n = ioctl(h->fd, HIDIOCSFEATURE(size), report);
        if (n < 0)
                return check_gone(d, negative_errno());
        return (size_t) n == size ? 0 : -EIO;
}

int hidraw_watch_input(Device *d, Hidraw *h, bool watch)
{
        /* A new start: input counted before (a flood that faulted the device, say) is not held
         * against what comes now. */
        if (watch && !h->watch_input) {
                h->input_window_usec = 0;
                h->input_count = 0;
        }
        h->watch_input = watch;
        return update_io(d, h);
}

void hidraw_close(Hidraw *h)
{
        queue_drop(NULL, h);
        h->io_source = sd_event_source_disable_unref(h->io_source);
        h->fd = safe_close(h->fd);
        h->descriptor = mfree(h->descriptor);
        h->descriptor_size = 0;
}
