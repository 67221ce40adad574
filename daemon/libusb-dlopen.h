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

extern typeof(libusb_alloc_transfer) *sym_libusb_alloc_transfer;
extern typeof(libusb_attach_kernel_driver) *sym_libusb_attach_kernel_driver;
extern typeof(libusb_claim_interface) *sym_libusb_claim_interface;
extern typeof(libusb_close) *sym_libusb_close;
extern typeof(libusb_detach_kernel_driver) *sym_libusb_detach_kernel_driver;
extern typeof(libusb_error_name) *sym_libusb_error_name;
extern typeof(libusb_exit) *sym_libusb_exit;
extern typeof(libusb_free_pollfds) *sym_libusb_free_pollfds;
extern typeof(libusb_free_transfer) *sym_libusb_free_transfer;
extern typeof(libusb_get_next_timeout) *sym_libusb_get_next_timeout;
extern typeof(libusb_get_pollfds) *sym_libusb_get_pollfds;
extern typeof(libusb_handle_events_timeout_completed) *sym_libusb_handle_events_timeout_completed;
extern typeof(libusb_init) *sym_libusb_init;
extern typeof(libusb_kernel_driver_active) *sym_libusb_kernel_driver_active;
extern typeof(libusb_pollfds_handle_timeouts) *sym_libusb_pollfds_handle_timeouts;
extern typeof(libusb_release_interface) *sym_libusb_release_interface;
extern typeof(libusb_set_option) *sym_libusb_set_option;
extern typeof(libusb_set_pollfd_notifiers) *sym_libusb_set_pollfd_notifiers;
extern typeof(libusb_submit_transfer) *sym_libusb_submit_transfer;
extern typeof(libusb_wrap_sys_device) *sym_libusb_wrap_sys_device;

/* Loads libusb and every symbol above, once; logs and returns -EOPNOTSUPP when it can't. */
int libusb_dlopen(void);
