/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The kneed plugin ABI.
 *
 * A plugin is a shared module in the plugin directory that exports one symbol, `kneed_plugin`,
 * a KneedPlugin descriptor. The daemon dlopen()s the module at start to check the descriptor, and
 * unloads it again until a device needs the plugin: a module must not rely on being loaded only
 * once. It calls the hooks from its single event-loop thread; no hook is ever called
 * concurrently with another.
 *
 * Plugins never see sd-bus, sd-event or the safety policy. They receive commands that the
 * daemon's safety clamp has already limited, and talk back only through the kneed_device_*()
 * functions below. Every function returns >= 0 on success and a negative errno on failure,
 * unless it says otherwise.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever KneedPlugin's layout or a hook's meaning changes. */
#define KNEED_PLUGIN_ABI 1

/* The name of the descriptor symbol every plugin exports. */
#define KNEED_PLUGIN_SYMBOL "kneed_plugin"

/* Opaque; owned by the daemon and valid from probe() until remove() returns. */
typedef struct KneedDevice KneedDevice;

/* Forward declaration so plugins that don't use libusb need not include its header. */
struct libusb_device_handle;

typedef enum KneedTransport {
        KNEED_TRANSPORT_VIRTUAL,
        KNEED_TRANSPORT_HIDRAW,
        KNEED_TRANSPORT_USB,
} KneedTransport;

/* The fixed pattern vocabulary routines use. A plugin maps each to what its hardware can do. */
typedef enum KneedPattern {
        KNEED_PATTERN_CONTINUOUS,
        KNEED_PATTERN_PULSE,
        KNEED_PATTERN_WAVE,
        KNEED_PATTERN_PERCUSSION,
        KNEED_PATTERN_KNEAD,
        KNEED_PATTERN_SWEEP,
        KNEED_PATTERN_MAX,
} KneedPattern;

/*
 * One command, already clamped by the daemon. It describes the whole desired state: run `zone`
 * at `level` with `pattern`, every other zone off, and the heater at `heat_celsius` (0 = off).
 */
typedef struct KneedOutput {
        const char *zone;    /* one of the device's zones, see kneed_device_get_zone() */
        unsigned zone_index; /* its index in the device's zone list */
        unsigned level;      /* native steps, 0 (motors off) .. kneed_device_get_levels() */
        KneedPattern pattern;
        unsigned heat_celsius; /* 0, or at most the device's and the policy's heat cap */
} KneedOutput;

#define KNEED_TEMPERATURE_UNKNOWN INT32_MIN

/* Fault bits a device can report; any of them stops the device. */
typedef enum KneedFault {
        KNEED_FAULT_NONE = 0,
        KNEED_FAULT_MOTOR = 1u << 0,
        KNEED_FAULT_HEATER = 1u << 1,
        KNEED_FAULT_SENSOR = 1u << 2,
        KNEED_FAULT_OVERHEAT = 1u << 3,
        KNEED_FAULT_OTHER = 1u << 7,
} KneedFault;

typedef struct KneedStatus {
        int32_t temperature_decicelsius; /* KNEED_TEMPERATURE_UNKNOWN when there is no sensor */
        int contact;                     /* 1 skin contact, 0 none, -1 unknown */
        uint32_t faults;                 /* KneedFault bits */
} KneedStatus;

typedef struct KneedPlugin {
        /* Must be KNEED_PLUGIN_ABI; a module with another value is refused. */
        uint32_t abi;
        /* Unique, [a-z0-9-]+, equal to the plugin's folder name and Plugin= in device files. */
        const char *id;

        /*
         * Required. Called once for a device the database assigned to this plugin, or for an
         * unmatched hidraw/usb device (kneed_device_get_match() returns NULL) that a plugin for
         * a standard device class may claim. Returns -ENODEV to decline, 0 to bind. May set the
         * capabilities (zones, levels, heat, keepalive) and userdata; may not send output.
         */
        int (*probe)(KneedDevice *device);

        /* Required. The device is going away (unplug or shutdown); free what probe() made. */
        void (*remove)(KneedDevice *device);

        /*
         * Required. Apply one clamped command. Returns < 0 if it could not be delivered; the
         * daemon then stops the device and marks it faulted.
         */
        int (*set_output)(KneedDevice *device, const KneedOutput *output);

        /* Required. Everything off: motors and heater. Must be safe to call at any time. */
        int (*stop)(KneedDevice *device);

        /*
         * Optional. Called every KeepaliveMs while the device runs, for devices whose firmware
         * stops on its own when the keepalives stop (a dead-man switch).
         */
        int (*keepalive)(KneedDevice *device);

        /* Optional. Fill in the device's current status, as far as it is known. */
        int (*status)(KneedDevice *device, KneedStatus *ret_status);
} KneedPlugin;

/* ---- Identity ----------------------------------------------------------------------------
 * These may be called at any time between probe() and the end of remove(). Strings belong to
 * the daemon and stay valid until remove() returns.
 */

/* The daemon's id for the device, used in its object path, e.g. "hidraw3". Never NULL. */
const char *kneed_device_get_id(const KneedDevice *device);
/* Human-readable model name from the device file. Never NULL. */
const char *kneed_device_get_name(const KneedDevice *device);
KneedTransport kneed_device_get_transport(const KneedDevice *device);
/* USB vendor and product IDs; 0 for virtual devices. */
uint16_t kneed_device_get_vendor_id(const KneedDevice *device);
uint16_t kneed_device_get_product_id(const KneedDevice *device);
/* The database Match= entry that bound the device, or NULL when a plugin probes it unmatched. */
const char *kneed_device_get_match(const KneedDevice *device);
/* sysfs path, or NULL for virtual devices. */
const char *kneed_device_get_syspath(const KneedDevice *device);

/* A key from the device file's [Plugin <id>] section, or NULL when absent. */
const char *kneed_device_get_key(const KneedDevice *device, const char *key);

/* ---- Transport -----------------------------------------------------------------------------
 * The daemon opens and owns the device node or handle; a plugin never closes it.
 */

/* The hidraw node, opened non-blocking and read-write. -ENODEV on other transports. */
int kneed_device_get_hidraw_fd(const KneedDevice *device);

/*
 * The libusb handle, NULL on other transports. Its context runs in the daemon's loop: submit
 * asynchronous transfers only (libusb_submit_transfer()); their callbacks run on the loop. The
 * daemon loads libusb only when a USB device appears and exports none of it: a plugin that
 * calls libusb links libusb-1.0 itself (it shares the daemon's copy).
 */
struct libusb_device_handle *kneed_device_get_usb_handle(const KneedDevice *device);

typedef void (*KneedInputFunc)(KneedDevice *device, const uint8_t *data, size_t size,
                               void *userdata);

/*
 * hidraw only: the daemon reads each input report as it arrives and hands it to func, on its
 * loop. A new call replaces the previous func; func NULL stops watching. The data is valid only
 * during the call. -EOPNOTSUPP on other transports.
 */
int kneed_device_watch_input(KneedDevice *device, KneedInputFunc func, void *userdata);

/*
 * hidraw: sends an output report, report[0] being the report ID (0 for a device without IDs).
 * Never blocks: a report the device can't take yet (EAGAIN) waits briefly in a queue, where a
 * newer report with the same ID replaces it; one still waiting after 500 ms faults the device.
 * Returns 0 (written or queued), -ENODEV when the device is gone, -EIO on a short write,
 * -ENOBUFS when the queue is full, -EOPNOTSUPP on other transports.
 */
int kneed_device_hidraw_write(KneedDevice *device, const uint8_t *report, size_t size);

/* hidraw: reads feature report report_id into buf (buf[0] = the ID). Returns its size. */
int kneed_device_hidraw_get_feature(KneedDevice *device, uint8_t report_id, uint8_t *buf,
                                    size_t size);
/* hidraw: sends a feature report (report[0] = the ID). */
int kneed_device_hidraw_set_feature(KneedDevice *device, const uint8_t *report, size_t size);

/* hidraw: the report descriptor (HIDIOCGRDESC), read once; valid until remove(). */
int kneed_device_get_report_descriptor(KneedDevice *device, const uint8_t **ret_data,
                                       size_t *ret_size);

/*
 * usb: claims an interface for the plugin, released when the device goes. The kernel driver is
 * detached only when detach_kernel_driver is true (and given back afterwards).
 */
int kneed_device_usb_claim_interface(KneedDevice *device, int interface, bool detach_kernel_driver);

/*
 * usb: submits a control transfer from host to device and returns once it is submitted. A
 * transfer that fails, stalls or times out (timeout_ms) faults the device. At shutdown the
 * daemon waits for transfers in flight, so a final stop goes out.
 */
int kneed_device_usb_control_out(KneedDevice *device, uint8_t request_type, uint8_t request,
                                 uint16_t value, uint16_t index, const uint8_t *data, uint16_t size,
                                 unsigned timeout_ms);

/* ---- Capabilities (from the device file; a plugin may refine them in probe()) --------- */

size_t kneed_device_get_n_zones(const KneedDevice *device);
/* Zone i of the device, or NULL when out of range. */
const char *kneed_device_get_zone(const KneedDevice *device, size_t i);
/* Highest native level; levels run 0 (off) .. this. */
unsigned kneed_device_get_levels(const KneedDevice *device);
/* Highest heater target the device supports in °C, 0 without a heater. */
unsigned kneed_device_get_max_heat(const KneedDevice *device);

/* Only during probe(). -EINVAL for an empty list, an unknown zone or a zero level count. */
int kneed_device_set_zones(KneedDevice *device, const char *const *zones);
int kneed_device_set_levels(KneedDevice *device, unsigned levels);
int kneed_device_set_max_heat(KneedDevice *device, unsigned max_celsius);
int kneed_device_set_keepalive_supported(KneedDevice *device, bool supported);
/*
 * The dead-man timeout the firmware should use, from the policy, in milliseconds; 0 when the
 * device doesn't support keepalives. The daemon calls keepalive() well within this period.
 */
unsigned kneed_device_get_keepalive_ms(const KneedDevice *device);

/* ---- Plugin state ---------------------------------------------------------------------- */

/* One pointer for the plugin's per-device state; the plugin frees it in remove(). */
void kneed_device_set_userdata(KneedDevice *device, void *userdata);
void *kneed_device_get_userdata(const KneedDevice *device);

/* ---- Time ------------------------------------------------------------------------------ */

/* CLOCK_MONOTONIC in microseconds, the clock every timestamp kneed writes uses. */
uint64_t kneed_now_usec(void);

typedef struct KneedTimer KneedTimer;
typedef void (*KneedTimerFunc)(KneedDevice *device, void *userdata);

/*
 * A one-shot timer on the daemon's loop, owned by the device: it is freed with the device after
 * remove() at the latest. Created disarmed.
 */
int kneed_timer_new(KneedDevice *device, KneedTimerFunc func, void *userdata, KneedTimer **ret);
/* Fires once, delay_usec from now; re-arming replaces the pending expiry. */
int kneed_timer_arm(KneedTimer *timer, uint64_t delay_usec);
void kneed_timer_disarm(KneedTimer *timer);
/* Accepts NULL; returns NULL. */
KneedTimer *kneed_timer_free(KneedTimer *timer);

/* ---- Reporting back ------------------------------------------------------------------------
 * These may be called at any time, also from inside a hook: reports made inside a hook are
 * applied when the hook has returned, so the daemon never calls back into the plugin from
 * within one of its own hooks.
 */

/*
 * What the device reports: temperature, contact, faults. Any fault bit stops the device and
 * faults it. The daemon checks the temperature against the heat cap.
 */
void kneed_device_report_status(KneedDevice *device, const KneedStatus *status);

/*
 * The device stopped on its own, with a short reason such as "keepalive" (its dead-man timer
 * ran out). The daemon ends any session on it with that reason.
 */
void kneed_device_report_stopped(KneedDevice *device, const char *reason);

/*
 * The device failed: error is a negative errno, message says what happened. The daemon stops
 * it and marks it faulted; it takes no output until it is unplugged and replugged.
 */
void kneed_device_report_fault(KneedDevice *device, int error, const char *message);

#ifdef __cplusplus
}
#endif
