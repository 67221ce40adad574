/* SPDX-License-Identifier: MIT */

#include <dlfcn.h>
#include <errno.h>

#include "libusb-dlopen.h"
#include "log.h"
#include "macro.h"

#define DEFINE_SYMBOL(name) typeof(name) *sym_##name;
LIBUSB_SYMBOLS(DEFINE_SYMBOL)

#define SYMBOL_ENTRY(name) {#name, (void **) &sym_##name},
static const struct {
        const char *name;
        void **ptr;
} symbols[] = {LIBUSB_SYMBOLS(SYMBOL_ENTRY)};

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
