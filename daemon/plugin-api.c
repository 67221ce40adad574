/* SPDX-License-Identifier: MIT */

/*
 * The functions plugins call (include/kneed/plugin.h). They are exported from the kneed binary
 * through kneed.sym; everything else in the daemon stays private.
 */

#include <sys/epoll.h>

#include "device.h"
#include "log.h"
#include "manager.h"
#include "safety.h"
#include "strv.h"
#include "time-util.h"
#include "zone.h"

const char *kneed_device_get_id(const KneedDevice *device)
{
        return device->id;
}

const char *kneed_device_get_name(const KneedDevice *device)
{
        return device->name;
}

KneedTransport kneed_device_get_transport(const KneedDevice *device)
{
        return device->transport;
}

uint16_t kneed_device_get_vendor_id(const KneedDevice *device)
{
        return device->vendor_id;
}

uint16_t kneed_device_get_product_id(const KneedDevice *device)
{
        return device->product_id;
}

const char *kneed_device_get_match(const KneedDevice *device)
{
        return device->match;
}

const char *kneed_device_get_syspath(const KneedDevice *device)
{
        return device->syspath;
}

const char *kneed_device_get_key(const KneedDevice *device, const char *key)
{
        size_t l = strlen(key);

        STRV_FOREACH (kv, device->keys)
                if (strncmp(*kv, key, l) == 0 && (*kv)[l] == '=')
                        return *kv + l + 1;
        return NULL;
}

size_t kneed_device_get_n_zones(const KneedDevice *device)
{
        return strv_length(device->zones);
}

const char *kneed_device_get_zone(const KneedDevice *device, size_t i)
{
        return i < strv_length(device->zones) ? device->zones[i] : NULL;
}

unsigned kneed_device_get_levels(const KneedDevice *device)
{
        return device->levels;
}

unsigned kneed_device_get_max_heat(const KneedDevice *device)
{
        return device->max_heat_celsius;
}

int kneed_device_set_zones(KneedDevice *device, const char *const *zones)
{
        _cleanup_strv_free_ char **copy = NULL;
        int r;

        if (!device->probing)
                return -EPERM;
        if (!zones || !zones[0])
                return -EINVAL;
        for (const char *const *z = zones; *z; z++) {
                if (!zone_name_is_valid(*z) || zone_from_string(*z) == ZONE_KNEECAP ||
                    strv_contains(copy, *z))
                        return -EINVAL;
                r = strv_extend(&copy, *z);
                if (r < 0)
                        return r;
        }
        strv_free(device->zones);
        device->zones = TAKE_PTR(copy);
        return 0;
}

int kneed_device_set_levels(KneedDevice *device, unsigned levels)
{
        if (!device->probing)
                return -EPERM;
        if (levels == 0 || levels > DEVICE_LEVELS_MAX)
                return -EINVAL;
        device->levels = levels;
        return 0;
}

int kneed_device_set_max_heat(KneedDevice *device, unsigned max_celsius)
{
        if (!device->probing)
                return -EPERM;
        if (max_celsius != 0 &&
            (max_celsius < DEVICE_HEAT_MIN_CELSIUS || max_celsius > DEVICE_HEAT_MAX_CELSIUS))
                return -EINVAL;
        device->max_heat_celsius = max_celsius;
        return 0;
}

int kneed_device_set_keepalive_supported(KneedDevice *device, bool supported)
{
        if (!device->probing)
                return -EPERM;
        device->keepalive_supported = supported;
        return 0;
}

unsigned kneed_device_get_keepalive_ms(const KneedDevice *device)
{
        return device->keepalive_supported ? manager_keepalive_ms(device->manager) : 0;
}

void kneed_device_set_userdata(KneedDevice *device, void *userdata)
{
        device->userdata = userdata;
}

void *kneed_device_get_userdata(const KneedDevice *device)
{
        return device->userdata;
}

uint64_t kneed_now_usec(void)
{
        return now_usec(CLOCK_MONOTONIC);
}

static int timer_handler(sd_event_source *s, uint64_t usec, void *userdata)
{
        KneedTimer *t = userdata;

        t->func(t->device, t->userdata);
        return 0;
}

int kneed_timer_new(KneedDevice *device, KneedTimerFunc func, void *userdata, KneedTimer **ret)
{
        KneedTimer *t;

        if (!func || !ret)
                return -EINVAL;
        t = calloc(1, sizeof(KneedTimer));
        if (!t)
                return -ENOMEM;
        t->device = device;
        t->func = func;
        t->userdata = userdata;
        LIST_PREPEND(timers, device->timers, t);
        *ret = t;
        return 0;
}

int kneed_timer_arm(KneedTimer *timer, uint64_t delay_usec)
{
        int r;

        /* The event source comes with the first arm: a device's timers that never run (most of
         * them, while it is idle) cost none. A new time source is enabled one-shot. */
        if (!timer->source)
                return sd_event_add_time_relative(timer->device->manager->event, &timer->source,
                                                  CLOCK_MONOTONIC, delay_usec, USEC_PER_MSEC,
                                                  timer_handler, timer);

        r = sd_event_source_set_time_relative(timer->source, delay_usec);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(timer->source, SD_EVENT_ONESHOT);
}

void kneed_timer_disarm(KneedTimer *timer)
{
        if (timer && timer->source)
                (void) sd_event_source_set_enabled(timer->source, SD_EVENT_OFF);
}

KneedTimer *kneed_timer_free(KneedTimer *timer)
{
        if (!timer)
                return NULL;
        LIST_REMOVE(timers, timer->device->timers, timer);
        sd_event_source_disable_unref(timer->source);
        return mfree(timer);
}

void kneed_device_report_status(KneedDevice *device, const KneedStatus *status)
{
        device->status = *status;
        if (status->faults == KNEED_FAULT_NONE) {
                if (device->in_hook > 0)
                        device->pending_status = true;
                else
                        (void) safety_check_temperature(device, status);
        }
        if (status->faults != KNEED_FAULT_NONE) {
                char message[64];

                snprintf(message, sizeof(message), "the device reported a fault (bits 0x%02x)",
                         (unsigned) status->faults);
                kneed_device_report_fault(device, -EIO, message);
        }
}

void kneed_device_report_stopped(KneedDevice *device, const char *reason)
{
        if (isempty(reason))
                reason = "device-stopped";
        if (device->in_hook > 0) {
                if (!device->pending_stopped)
                        device->pending_stopped = strdup(reason);
                return;
        }
        log_warning("Device %s stopped on its own (%s)", device->id, reason);
        (void) device_stop(device, reason);
}

void kneed_device_report_fault(KneedDevice *device, int error, const char *message)
{
        /* An unplugged device fails at everything; that is its removal, not a fault. */
        if (device->gone)
                return;
        if (device->in_hook > 0) {
                /* The first report wins; it is applied once the hook returns. */
                if (!device->pending_fault) {
                        device->pending_fault = strdup(message ? message : "fault");
                        device->pending_fault_error = error < 0 ? error : -EIO;
                }
                return;
        }
        device_fault(device, error < 0 ? error : -EIO, message);
}

int kneed_device_get_hidraw_fd(const KneedDevice *device)
{
        return device->transport == KNEED_TRANSPORT_HIDRAW && device->hidraw.fd >= 0
                       ? device->hidraw.fd
                       : -ENODEV;
}

struct libusb_device_handle *kneed_device_get_usb_handle(const KneedDevice *device)
{
        return device->transport == KNEED_TRANSPORT_USB && device->usb ? device->usb->handle : NULL;
}

int kneed_device_hidraw_write(KneedDevice *device, const uint8_t *report, size_t size)
{
        if (device->transport != KNEED_TRANSPORT_HIDRAW || device->hidraw.fd < 0)
                return -EOPNOTSUPP;
        if (device->gone)
                return -ENODEV;
        return hidraw_write(device, &device->hidraw, report, size);
}

int kneed_device_hidraw_get_feature(KneedDevice *device, uint8_t report_id, uint8_t *buf,
                                    size_t size)
{
        if (device->transport != KNEED_TRANSPORT_HIDRAW || device->hidraw.fd < 0)
                return -EOPNOTSUPP;
        if (device->gone)
                return -ENODEV;
        return hidraw_get_feature(device, &device->hidraw, report_id, buf, size);
}

int kneed_device_hidraw_set_feature(KneedDevice *device, const uint8_t *report, size_t size)
{
        if (device->transport != KNEED_TRANSPORT_HIDRAW || device->hidraw.fd < 0)
                return -EOPNOTSUPP;
        if (device->gone)
                return -ENODEV;
        return hidraw_set_feature(device, &device->hidraw, report, size);
}

int kneed_device_get_report_descriptor(KneedDevice *device, const uint8_t **ret_data,
                                       size_t *ret_size)
{
        int r;

        if (device->transport != KNEED_TRANSPORT_HIDRAW || device->hidraw.fd < 0)
                return -EOPNOTSUPP;
        r = hidraw_read_descriptor(&device->hidraw);
        if (r < 0)
                return r;
        *ret_data = device->hidraw.descriptor;
        *ret_size = device->hidraw.descriptor_size;
        return 0;
}

int kneed_device_usb_claim_interface(KneedDevice *device, int interface, bool detach_kernel_driver)
{
        if (device->transport != KNEED_TRANSPORT_USB || !device->usb)
                return -EOPNOTSUPP;
        return usb_device_claim_interface(device->usb, interface, detach_kernel_driver);
}

int kneed_device_usb_control_out(KneedDevice *device, uint8_t request_type, uint8_t request,
                                 uint16_t value, uint16_t index, const uint8_t *data, uint16_t size,
                                 unsigned timeout_ms)
{
        int r;

        if (device->transport != KNEED_TRANSPORT_USB || !device->usb)
                return -EOPNOTSUPP;
        if (device->gone)
                return -ENODEV;
        r = usb_device_control_out(device->usb, request_type, request, value, index, data, size,
                                   timeout_ms);
        if (r == -ENODEV)
                device_vanished(device);
        return r;
}

int kneed_device_watch_input(KneedDevice *device, KneedInputFunc func, void *userdata)
{
        int r;

        if (device->transport != KNEED_TRANSPORT_HIDRAW)
                return -EOPNOTSUPP;
        if (device->hidraw.fd < 0)
                return -ENODEV;

        device->input_func = func;
        device->input_userdata = userdata;
        r = hidraw_watch_input(device, &device->hidraw, func != NULL);
        return r < 0 ? r : 0;
}
