/* SPDX-License-Identifier: MIT */

#include <dlfcn.h>
#include <errno.h>

#include "libusb-dlopen.h"
#include "log.h"
#include "macro.h"

typeof(libusb_alloc_transfer) *sym_libusb_alloc_transfer;
typeof(libusb_attach_kernel_driver) *sym_libusb_attach_kernel_driver;
typeof(libusb_claim_interface) *sym_libusb_claim_interface;
typeof(libusb_close) *sym_libusb_close;
typeof(libusb_detach_kernel_driver) *sym_libusb_detach_kernel_driver;
typeof(libusb_error_name) *sym_libusb_error_name;
typeof(libusb_exit) *sym_libusb_exit;
typeof(libusb_free_pollfds) *sym_libusb_free_pollfds;
typeof(libusb_free_transfer) *sym_libusb_free_transfer;
typeof(libusb_get_next_timeout) *sym_libusb_get_next_timeout;
typeof(libusb_get_pollfds) *sym_libusb_get_pollfds;
typeof(libusb_handle_events_timeout_completed) *sym_libusb_handle_events_timeout_completed;
typeof(libusb_init) *sym_libusb_init;
typeof(libusb_kernel_driver_active) *sym_libusb_kernel_driver_active;
typeof(libusb_pollfds_handle_timeouts) *sym_libusb_pollfds_handle_timeouts;
typeof(libusb_release_interface) *sym_libusb_release_interface;
typeof(libusb_set_option) *sym_libusb_set_option;
typeof(libusb_set_pollfd_notifiers) *sym_libusb_set_pollfd_notifiers;
typeof(libusb_submit_transfer) *sym_libusb_submit_transfer;
typeof(libusb_wrap_sys_device) *sym_libusb_wrap_sys_device;

#define SYMBOL(name)                         \
        {                                    \
#name, (void **) &sym_##name \
        }

static const struct {
        const char *name;
        void **ptr;
} symbols[] = {
        SYMBOL(libusb_alloc_transfer),
        SYMBOL(libusb_attach_kernel_driver),
        SYMBOL(libusb_claim_interface),
        SYMBOL(libusb_close),
        SYMBOL(libusb_detach_kernel_driver),
        SYMBOL(libusb_error_name),
        SYMBOL(libusb_exit),
        SYMBOL(libusb_free_pollfds),
        SYMBOL(libusb_free_transfer),
        SYMBOL(libusb_get_next_timeout),
        SYMBOL(libusb_get_pollfds),
        SYMBOL(libusb_handle_events_timeout_completed),
        SYMBOL(libusb_init),
        SYMBOL(libusb_kernel_driver_active),
        SYMBOL(libusb_pollfds_handle_timeouts),
        SYMBOL(libusb_release_interface),
        SYMBOL(libusb_set_option),
        SYMBOL(libusb_set_pollfd_notifiers),
        SYMBOL(libusb_submit_transfer),
        SYMBOL(libusb_wrap_sys_device),
};

int libusb_dlopen(void)
{
        static void *handle = NULL;
        void *h;

        if (handle)
                return 0;

        /* Never unloaded: the handle lives as long as the daemon. */
        h = dlopen(LIBUSB_SONAME, RTLD_NOW | RTLD_NODELETE);
        if (!h) {
                log_error("USB devices can't be used: %s", dlerror());
                return -EOPNOTSUPP;
        }
        for (size_t i = 0; i < ELEMENTSOF(symbols); i++) {
                *symbols[i].ptr = dlsym(h, symbols[i].name);
                if (!*symbols[i].ptr) {
                        log_error("USB devices can't be used: %s lacks %s", LIBUSB_SONAME,
                                  symbols[i].name);
                        dlclose(h);
                        return -EOPNOTSUPP;
                }
        }
        handle = h;
        return 0;
}
