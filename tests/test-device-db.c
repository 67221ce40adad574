/* SPDX-License-Identifier: MIT */

#include <dirent.h>
#include <string.h>

#include "device-db.h"
#include "strv.h"
#include "tests.h"

#define VALID_DEVICE                             \
        "[Device]\n"                             \
        "Name=Test wrap\n"                       \
        "Match=usb:1209:0001;hidraw:1209:0001\n" \
        "Plugin=okmp\n"                          \
        "Zones=quadriceps;calves\n"              \
        "Levels=10\n"

static int parse(const char *text, DeviceInfo **ret, char **error)
{
        return device_info_parse_buffer("t.device", text, strlen(text), ret, error);
}

static void test_device_info_parse_valid(void)
{
        _cleanup_(device_info_freep) DeviceInfo *info = NULL;
        _cleanup_free_ char *error = NULL;

        ASSERT_OK(parse(VALID_DEVICE "Heat=yes\nMaxHeatCelsius=42\nKeepalive=yes\n"
                                     "[Plugin okmp]\nReportId=3\n",
                        &info, &error));
        ASSERT_STREQ(info->name, "Test wrap");
        ASSERT_STREQ(info->plugin, "okmp");
        ASSERT_EQ(info->n_matches, 2);
        ASSERT_EQ(info->matches[0].type, DEVICE_MATCH_USB);
        ASSERT_EQ(info->matches[0].vendor_id, 0x1209);
        ASSERT_EQ(info->matches[0].product_id, 0x0001);
        ASSERT_EQ(info->matches[1].type, DEVICE_MATCH_HIDRAW);
        ASSERT_EQ(strv_length(info->zones), 2);
        ASSERT_EQ(info->levels, 10);
        ASSERT_EQ(info->max_heat_celsius, 42);
        ASSERT_TRUE(info->keepalive);
        ASSERT_STREQ(device_info_get_plugin_key(info, "ReportId"), "3");
        ASSERT_TRUE(device_info_get_plugin_key(info, "Report") == NULL);
}

static void check_error(const char *text, const char *expected)
{
        _cleanup_(device_info_freep) DeviceInfo *info = NULL;
        _cleanup_free_ char *error = NULL;

        ASSERT_TRUE(parse(text, &info, &error) < 0);
        ASSERT_TRUE(info == NULL);
        ASSERT_STREQ(error, expected);
}

static void test_device_info_parse_errors(void)
{
        check_error("[Device]\nName=x\n[Other]\n",
                    "t.device:3: unknown section [Other] (expected [Device] or [Plugin <id>])");
        check_error(VALID_DEVICE "Colour=red\n", "t.device:7: unknown key 'Colour' in [Device]");
        check_error(VALID_DEVICE "Levels=0\n", "t.device:7: duplicate key 'Levels' in [Device]");
        check_error("[Device]\nLevels=0\n", "t.device:2: invalid Levels '0': expected 1..1000");
        check_error("[Device]\nLevels=abc\n", "t.device:2: invalid Levels 'abc': expected 1..1000");
        check_error("[Device]\nZones=quadriceps;shin\n",
                    "t.device:2: unknown zone 'shin' in Zones");
        check_error("[Device]\nZones=calves;calves\n", "t.device:2: Zones lists 'calves' twice");
        check_error("[Device]\nZones=quadriceps;kneecap\n",
                    "t.device:2: the kneecap is never a massage target, not a device zone");
        check_error("[Device]\nMatch=usb:12:34\n",
                    "t.device:2: invalid Match 'usb:12:34': expected four hex digits for vendor "
                    "and product, as in usb:0b49:064f");
        check_error("[Device]\nMatch=bluetooth:1234:5678\n",
                    "t.device:2: invalid Match 'bluetooth:1234:5678': expected usb:VVVV:PPPP, "
                    "hidraw:VVVV:PPPP or virtual:NAME");
        check_error("[Device]\nMatch=usb:0000:0001\n",
                    "t.device:2: invalid Match 'usb:0000:0001': vendor ID 0000");
        check_error("[Device]\nMatch=usb:1209:0001;usb:1209:0001\n",
                    "t.device:2: Match lists 'usb:1209:0001' twice");
        check_error("[Device]\nPlugin=Okmp\n",
                    "t.device:2: invalid Plugin 'Okmp': expected a plugin id ([a-z0-9-]+)");
        check_error("[Device]\nMaxHeatCelsius=80\n",
                    "t.device:2: invalid MaxHeatCelsius '80': expected 30..60");
        check_error("[Device]\nHeat=maybe\n",
                    "t.device:2: invalid Heat 'maybe': expected yes or no");
        check_error("[Device]\nName=x\n", "t.device: missing key Plugin");
        check_error("[Plugin x]\nA=1\n", "t.device: missing section [Device]");
        check_error(VALID_DEVICE "Heat=yes\n", "t.device: Heat=yes needs MaxHeatCelsius");
        check_error(VALID_DEVICE "MaxHeatCelsius=40\n",
                    "t.device: MaxHeatCelsius is set but Heat is not yes");
        check_error(VALID_DEVICE "[Plugin other]\nA=1\n",
                    "t.device:7: section [Plugin other] does not match Plugin=okmp");
}

static void test_device_db_load_dir_duplicate_match(void)
{
        char dir[] = "/tmp/kneed-test-devdb-XXXXXX";
        _cleanup_strv_free_ char **errors = NULL;
        DeviceDatabase db = {};
        const DeviceMatch *m;
        char path[256];
        FILE *f;

        ASSERT_TRUE(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/a.device", dir);
        ASSERT_TRUE((f = fopen(path, "we")));
        fputs(VALID_DEVICE, f);
        fclose(f);
        snprintf(path, sizeof(path), "%s/b.device", dir);
        ASSERT_TRUE((f = fopen(path, "we")));
        fputs("[Device]\nName=B\nMatch=hidraw:1209:0001\nPlugin=okmp\nZones=calves\nLevels=3\n", f);
        fclose(f);
        snprintf(path, sizeof(path), "%s/c.device", dir);
        ASSERT_TRUE((f = fopen(path, "we")));
        fputs("[Device]\nName=C\nMatch=virtual:c\nPlugin=virtual\nZones=calves\nLevels=3\n", f);
        fclose(f);

        ASSERT_EQ(device_db_load_dir(&db, dir, &errors), 2);
        ASSERT_EQ(strv_length(errors), 1);
        ASSERT_CONTAINS(errors[0], "b.device: Match 'hidraw:1209:0001' is already claimed by");
        ASSERT_CONTAINS(errors[0], "a.device");

        ASSERT_TRUE(device_db_find(&db, DEVICE_MATCH_USB, 0x1209, 0x0001, NULL, &m) != NULL);
        ASSERT_STREQ(m->string, "usb:1209:0001");
        ASSERT_TRUE(device_db_find(&db, DEVICE_MATCH_VIRTUAL, 0, 0, "c", NULL) != NULL);
        ASSERT_TRUE(device_db_find(&db, DEVICE_MATCH_USB, 0x1209, 0x0002, NULL, NULL) == NULL);
        device_db_clear(&db);

        snprintf(path, sizeof(path), "rm -rf '%s'", dir);
        ASSERT_EQ(system(path), 0);
}

static void test_device_db_shipped_files(void)
{
        _cleanup_strv_free_ char **errors = NULL;
        DeviceDatabase db = {};
        char dir[4096];
        struct dirent *de;
        int n, files = 0;
        DIR *dp;

        snprintf(dir, sizeof(dir), "%s/devices", getenv("KNEED_DATA_DIR"));
        ASSERT_TRUE((dp = opendir(dir)));
        while ((de = readdir(dp))) {
                size_t l = strlen(de->d_name);
                if (l > 7 && strcmp(de->d_name + l - 7, ".device") == 0)
                        files++;
        }
        closedir(dp);

        /* Every shipped file loads, and none claims a match another one claims. */
        n = device_db_load_dir(&db, dir, &errors);
        STRV_FOREACH (e, errors)
                fprintf(stderr, "%s\n", *e);
        ASSERT_EQ(strv_length(errors), 0);
        ASSERT_EQ(n, files);
        ASSERT_TRUE(device_db_find(&db, DEVICE_MATCH_VIRTUAL, 0, 0, "virtual", NULL) != NULL);
        ASSERT_TRUE(device_db_find(&db, DEVICE_MATCH_HIDRAW, 0x1209, 0x0001, NULL, NULL) != NULL);
        ASSERT_TRUE(device_db_find(&db, DEVICE_MATCH_USB, 0x0b49, 0x064f, NULL, NULL) != NULL);
        device_db_clear(&db);
}

RUN_TESTS(TEST_CASE(test_device_info_parse_valid), TEST_CASE(test_device_info_parse_errors),
          TEST_CASE(test_device_db_load_dir_duplicate_match),
          TEST_CASE(test_device_db_shipped_files))
