/* SPDX-License-Identifier: MIT */

/*
 * The okmp plugin's decoders of what the device sends: the capabilities report read at probe
 * and the status reports that stream in while it runs. The first byte picks the decoder.
 */

#include <string.h>

#include "fuzz.h"
#include "okmp-protocol.h"

static void check_capabilities(const uint8_t *report, size_t size)
{
        OkmpCapabilities caps;

        if (okmp_parse_capabilities(report, size, &caps) < 0)
                return;
        FUZZ_CHECK(caps.n_zones >= 1 && caps.n_zones <= OKMP_ZONES_MAX);
        for (unsigned i = 0; i < caps.n_zones; i++) {
                FUZZ_CHECK(caps.zones[i]);
                /* The kneecap has no zone code: no firmware can claim it. */
                FUZZ_CHECK(strcmp(caps.zones[i], "kneecap") != 0);
        }
        FUZZ_CHECK(caps.zones[caps.n_zones] == NULL);
        FUZZ_CHECK(caps.levels >= 1);
}

static void check_status(const uint8_t *report, size_t size)
{
        OkmpStatus status;

        if (okmp_parse_status(report, size, &status) < 0)
                return;
        FUZZ_CHECK(size == OKMP_STATUS_SIZE && report[0] == OKMP_REPORT_STATUS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        if (data[0] & 1)
                check_status(data + 1, size - 1);
        else
                check_capabilities(data + 1, size - 1);
        return 0;
}
