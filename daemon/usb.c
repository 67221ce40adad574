/* SPDX-License-Identifier: MIT */

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>

#include "device.h"
#include "libusb-dlopen.h"
#include "list.h"
#include "log.h"
#include "macro.h"
#include "usb.h"

struct UsbFd {
        int fd;
        sd_event_source *source;
        LIST_FIELDS(UsbFd, fds);
};

int usb_error_to_errno(int e)
{
        switch (e) {
        case LIBUSB_SUCCESS:
                return 0;
        case LIBUSB_ERROR_IO:
                return -EIO;
        case LIBUSB_ERROR_INVALID_PARAM:
                return -EINVAL;
        case LIBUSB_ERROR_ACCESS:
                return -EACCES;
        case LIBUSB_ERROR_NO_DEVICE:
                return -ENODEV;
        case LIBUSB_ERROR_NOT_FOUND:
                return -ENOENT;
        case LIBUSB_ERROR_BUSY:
                return -EBUSY;
        case LIBUSB_ERROR_TIMEOUT:
                return -ETIMEDOUT;
        case LIBUSB_ERROR_OVERFLOW:
                return -EOVERFLOW;
        case LIBUSB_ERROR_PIPE:
                return -EPIPE;
        case LIBUSB_ERROR_INTERRUPTED:
                return -EINTR;
        case LIBUSB_ERROR_NO_MEM:
                return -ENOMEM;
        case LIBUSB_ERROR_NOT_SUPPORTED:
                return -EOPNOTSUPP;
        default:
                return -EIO;
        }
}

static void update_timeout(UsbContext *c);
static void close_pending(UsbContext *c);

/* Lets libusb do what is due, without ever blocking. */
static void process(UsbContext *c)
{
        struct timeval zero = {};
        int r;

        r = sym_libusb_handle_events_timeout_completed(c->ctx, &zero, NULL);
        if (r < 0)
                log_debug("libusb event handling: %s", sym_libusb_error_name(r));
        update_timeout(c);
}

static int on_fd(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        process(userdata);
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        process(userdata);
        return 0;
}

/* Where libusb can't fold its timeouts into a pollfd (no timerfd), ask for the next one. */
static void update_timeout(UsbContext *c)
{
        struct timeval tv;
        int r;

        if (sym_libusb_pollfds_handle_timeouts(c->ctx))
                return;
        r = sym_libusb_get_next_timeout(c->ctx, &tv);
        if (r <= 0) {
                if (c->timeout_source)
                        (void) sd_event_source_set_enabled(c->timeout_source, SD_EVENT_OFF);
                return;
        }
        uint64_t usec = (uint64_t) tv.tv_sec * 1000000 + (uint64_t) tv.tv_usec;
        if (!c->timeout_source)
                r = sd_event_add_time_relative(c->event, &c->timeout_source, CLOCK_MONOTONIC, usec,
                                               1000, on_timeout, c);
        else {
                r = sd_event_source_set_time_relative(c->timeout_source, usec);
                if (r >= 0)
                        r = sd_event_source_set_enabled(c->timeout_source, SD_EVENT_ONESHOT);
        }
        if (r < 0)
                log_error_errno(r, "Failed to arm the libusb timeout: %m");
}

static void pollfd_added(int fd, short events, void *userdata)
{
        UsbContext *c = userdata;
        uint32_t ev = (events & POLLIN ? EPOLLIN : 0) | (events & POLLOUT ? EPOLLOUT : 0);
        UsbFd *f;
        int r;

        f = calloc(1, sizeof(UsbFd));
        if (!f) {
                log_oom();
                return;
        }
        f->fd = fd;
        r = sd_event_add_io(c->event, &f->source, fd, ev, on_fd, c);
        if (r < 0) {
                log_error_errno(r, "Failed to watch a libusb fd: %m");
                free(f);
                return;
        }
        LIST_PREPEND(fds, c->fds, f);
}

static void pollfd_removed(int fd, void *userdata)
{
        UsbContext *c = userdata;
        UsbFd *f;

        LIST_FOREACH (fds, f, c->fds)
                if (f->fd == fd) {
                        LIST_REMOVE(fds, c->fds, f);
                        sd_event_source_disable_unref(f->source);
                        free(f);
                        return;
                }
}

int usb_context_new(sd_event *e, UsbContext **ret)
{
        const struct libusb_pollfd **fds;
        UsbContext *c;
        int r;

        r = libusb_dlopen();
        if (r < 0)
                return r;

        c = calloc(1, sizeof(UsbContext));
        if (!c)
                return -ENOMEM;
        c->event = sd_event_ref(e);

        /* sd-device finds devices; libusb must not start a discovery thread of its own. */
        (void) sym_libusb_set_option(NULL, LIBUSB_OPTION_NO_DEVICE_DISCOVERY);
        r = sym_libusb_init(&c->ctx);
        if (r < 0) {
                usb_context_free(c);
                return usb_error_to_errno(r);
        }

        sym_libusb_set_pollfd_notifiers(c->ctx, pollfd_added, pollfd_removed, c);
        fds = sym_libusb_get_pollfds(c->ctx);
        for (size_t i = 0; fds && fds[i]; i++)
                pollfd_added(fds[i]->fd, fds[i]->events, c);
        sym_libusb_free_pollfds(fds);

        *ret = c;
        return 0;
}

UsbContext *usb_context_free(UsbContext *c)
{
        if (!c)
                return NULL;
        close_pending(c);
        sd_event_source_disable_unref(c->close_source);
        if (c->ctx) {
                sym_libusb_set_pollfd_notifiers(c->ctx, NULL, NULL, NULL);
                sym_libusb_exit(c->ctx);
        }
        while (c->fds) {
                UsbFd *f = c->fds;
                LIST_REMOVE(fds, c->fds, f);
                sd_event_source_disable_unref(f->source);
                free(f);
        }
        sd_event_source_disable_unref(c->timeout_source);
        sd_event_unref(c->event);
        return mfree(c);
}

static void usb_device_close(UsbDevice *u)
{
        if (u->handle) {
                for (int i = 0; i < 32; i++) {
                        if (u->claimed & (1u << i))
                                (void) sym_libusb_release_interface(u->handle, i);
                        if (u->detached & (1u << i))
                                (void) sym_libusb_attach_kernel_driver(u->handle, i);
                }
                sym_libusb_close(u->handle);
        }
        safe_close(u->fd);
        free(u);
}

static void close_pending(UsbContext *c)
{
        while (c->closing) {
                UsbDevice *u = c->closing;
                LIST_REMOVE(closing, c->closing, u);
                usb_device_close(u);
        }
}

static int on_close(sd_event_source *s, void *userdata)
{
        close_pending(userdata);
        return 0;
}

/*
 * The last reference may go inside a transfer callback, and libusb calls some of those with its
 * own locks held (a disconnect completes transfers under open_devs_lock), which sym_libusb_close()
 * takes again: the close waits for the next loop iteration.
 */
static void usb_device_unref(UsbDevice *u)
{
        UsbContext *c;
        int r;

        if (!u || --u->n_ref > 0)
                return;
        c = u->context;
        LIST_PREPEND(closing, c->closing, u);
        if (c->close_source)
                r = sd_event_source_set_enabled(c->close_source, SD_EVENT_ONESHOT);
        else
                r = sd_event_add_defer(c->event, &c->close_source, on_close, c);
        if (r < 0)
                log_warning_errno(r,
                                  "Failed to schedule closing a USB device, it closes at exit: %m");
}

int usb_device_open(UsbContext *c, Device *d, const char *devnode, UsbDevice **ret)
{
        UsbDevice *u;
        int r;

        u = calloc(1, sizeof(UsbDevice));
        if (!u)
                return -ENOMEM;
        u->n_ref = 1;
        u->context = c;
        u->device = d;
        u->fd = open(devnode, O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (u->fd < 0) {
                r = negative_errno();
                free(u);
                return r;
        }
        r = sym_libusb_wrap_sys_device(c->ctx, (intptr_t) u->fd, &u->handle);
        if (r < 0) {
                usb_device_close(u);
                return usb_error_to_errno(r);
        }
        *ret = u;
        return 0;
}

int usb_device_claim_interface(UsbDevice *u, int interface, bool detach_kernel_driver)
{
        int r;

        if (interface < 0 || interface >= 32)
                return -EINVAL;
        if (detach_kernel_driver && sym_libusb_kernel_driver_active(u->handle, interface) == 1) {
                r = sym_libusb_detach_kernel_driver(u->handle, interface);
                if (r < 0)
                        return usb_error_to_errno(r);
                u->detached |= 1u << interface;
        }
        r = sym_libusb_claim_interface(u->handle, interface);
        if (r < 0)
                return usb_error_to_errno(r);
        u->claimed |= 1u << interface;
        return 0;
}

static int transfer_status_to_errno(enum libusb_transfer_status s)
{
        switch (s) {
        case LIBUSB_TRANSFER_COMPLETED:
                return 0;
        case LIBUSB_TRANSFER_TIMED_OUT:
                return -ETIMEDOUT;
        case LIBUSB_TRANSFER_STALL:
                return -EPIPE;
        case LIBUSB_TRANSFER_NO_DEVICE:
                return -ENODEV;
        case LIBUSB_TRANSFER_CANCELLED:
                return -ECANCELED;
        case LIBUSB_TRANSFER_OVERFLOW:
                return -EOVERFLOW;
        case LIBUSB_TRANSFER_ERROR:
        default:
                return -EIO;
        }
}

static void LIBUSB_CALL on_transfer_done(struct libusb_transfer *t)
{
        UsbDevice *u = t->user_data;
        int r = transfer_status_to_errno(t->status);

        u->n_pending--;
        u->context->n_pending--;
        if (r == -ENODEV && u->device)
                device_vanished(u->device); /* unplugged: not a fault */
        else if (r < 0 && r != -ECANCELED && u->device) {
                char message[96];
                snprintf(message, sizeof(message), "a control transfer failed: %s",
                         sym_libusb_error_name(
                                 t->status == LIBUSB_TRANSFER_STALL       ? LIBUSB_ERROR_PIPE
                                 : t->status == LIBUSB_TRANSFER_TIMED_OUT ? LIBUSB_ERROR_TIMEOUT
                                                                          : LIBUSB_ERROR_IO));
                kneed_device_report_fault(u->device, r, message);
        }
        sym_libusb_free_transfer(t);
        if (u->context->n_pending == 0 && u->context->drained)
                u->context->drained(u->context->drained_userdata);
        usb_device_unref(u);
}

int usb_device_control_out(UsbDevice *u, uint8_t request_type, uint8_t request, uint16_t value,
                           uint16_t index, const uint8_t *data, uint16_t size, unsigned timeout_ms)
{
        struct libusb_transfer *t;
        uint8_t *buf;
        int r;

        if (request_type & LIBUSB_ENDPOINT_IN)
                return -EINVAL;
        t = sym_libusb_alloc_transfer(0);
        buf = malloc(LIBUSB_CONTROL_SETUP_SIZE + size);
        if (!t || !buf) {
                sym_libusb_free_transfer(t);
                free(buf);
                return -ENOMEM;
        }
        libusb_fill_control_setup(buf, request_type, request, value, index, size);
        if (size > 0)
                memcpy(buf + LIBUSB_CONTROL_SETUP_SIZE, data, size);
        libusb_fill_control_transfer(t, u->handle, buf, on_transfer_done, u, timeout_ms);
        t->flags = LIBUSB_TRANSFER_FREE_BUFFER;

        r = sym_libusb_submit_transfer(t);
        if (r < 0) {
                sym_libusb_free_transfer(t);
                return usb_error_to_errno(r);
        }
        u->n_ref++;
        u->n_pending++;
        u->context->n_pending++;
        return 0;
}

void usb_device_release(UsbDevice *u)
{
        if (!u)
                return;
        u->device = NULL;
        /* In-flight transfers complete (or are cancelled) on the loop; the last one closes. */
        usb_device_unref(u);
}
