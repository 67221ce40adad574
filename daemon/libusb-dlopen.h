/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * libusb, loaded when the first USB device needs it: a machine with no USB massager never maps
 * it, nor the libudev it pulls in (a quarter of a MiB of resident memory, bench/suite). Like
 * systemd's dlopen_many_sym_or_warn(): the daemon calls sym_libusb_*() once libusb_dlopen()
 * has succeeded. The inline helpers of <libusb.h> (libusb_fill_*) need no loading.
 */

#include <libusb.h>

#define LIBUSB_SONAME "libusb-1.0.so.0"

/* Every libusb function the daemon calls, once: the pointers and the loader come from it. */
#define LIBUSB_SYMBOLS(X)                         \
        X(libusb_alloc_transfer)                  \
        X(libusb_attach_kernel_driver)            \
        X(libusb_claim_interface)                 \
        X(libusb_close)                           \
        X(libusb_detach_kernel_driver)            \
        X(libusb_error_name)                      \
        X(libusb_exit)                            \
        X(libusb_free_pollfds)                    \
        X(libusb_free_transfer)                   \
        X(libusb_get_next_timeout)                \
        X(libusb_get_pollfds)                     \
        X(libusb_handle_events_timeout_completed) \
        X(libusb_init)                            \
        X(libusb_kernel_driver_active)            \
        X(libusb_pollfds_handle_timeouts)         \
        X(libusb_release_interface)               \
        X(libusb_set_option)                      \
        X(libusb_set_pollfd_notifiers)            \
        X(libusb_submit_transfer)                 \
        X(libusb_wrap_sys_device)

#define LIBUSB_DECLARE_SYMBOL(name) extern typeof(name) *sym_##name;
LIBUSB_SYMBOLS(LIBUSB_DECLARE_SYMBOL)

/* Loads libusb and every symbol above, once; logs and returns -EOPNOTSUPP when it can't. */
int libusb_dlopen(void);
