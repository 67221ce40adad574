/* SPDX-License-Identifier: MIT */

/*
 * A plugin as a third party would write it: built outside kneed's tree, against nothing but the
 * installed <kneed/plugin.h> and kneed-plugin.pc (tests/integration/test_install.py). It drives
 * virtual devices whose device file names it, and appends every command it gets to the file
 * the device file's Record= key names, so the test can see kneed really loaded and used it.
 */

#include <errno.h>
#include <fcntl.h>
#include <kneed/plugin.h>
#include <stdio.h>
#include <unistd.h>

static int record(KneedDevice *device, const char *line)
{
        const char *path = kneed_device_get_key(device, "Record");
        int fd, r = 0;

        if (!path)
                return -EINVAL;
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        if (dprintf(fd, "%s %s\n", kneed_device_get_id(device), line) < 0)
                r = -EIO;
        close(fd);
        return r;
}

static int oot_probe(KneedDevice *device)
{
        if (kneed_device_get_transport(device) != KNEED_TRANSPORT_VIRTUAL)
                return -ENODEV;
        return record(device, "probe");
}

static void oot_remove(KneedDevice *device)
{
        (void) record(device, "remove");
}

static int oot_set_output(KneedDevice *device, const KneedOutput *output)
{
        char line[128];

        snprintf(line, sizeof(line), "output zone=%s level=%u", output->zone, output->level);
        return record(device, line);
}

static int oot_stop(KneedDevice *device)
{
        return record(device, "stop");
}

__attribute__((visibility("default"))) const KneedPlugin kneed_plugin = {
        .abi = KNEED_PLUGIN_ABI,
        .id = "oot-example",
        .probe = oot_probe,
        .remove = oot_remove,
        .set_output = oot_set_output,
        .stop = oot_stop,
};
