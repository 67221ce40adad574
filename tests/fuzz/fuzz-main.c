/* SPDX-License-Identifier: MIT */

/*
 * main() for fuzz targets built without libFuzzer: runs the target once on each file named, or
 * on each file of each directory named. Fails when there was nothing to run, so that a corpus
 * that went missing can't pass as a clean run.
 */

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path)
{
        uint8_t *data = NULL;
        size_t size = 0, allocated = 0;
        FILE *f;

        f = fopen(path, "re");
        if (!f) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return -errno;
        }
        for (;;) {
                if (size == allocated) {
                        uint8_t *p;
                        allocated = allocated ? allocated * 2 : 4096;
                        p = realloc(data, allocated);
                        if (!p) {
                                free(data);
                                fclose(f);
                                return -ENOMEM;
                        }
                        data = p;
                }
                size_t n = fread(data + size, 1, allocated - size, f);
                if (n == 0)
                        break;
                size += n;
        }
        fclose(f);
        (void) LLVMFuzzerTestOneInput(data, size);
        free(data);
        return 1;
}

static int compare_names(const struct dirent **a, const struct dirent **b)
{
        return strcmp((*a)->d_name, (*b)->d_name);
}

static int run_path(const char *path)
{
        struct dirent **entries;
        struct stat st;
        int n, total = 0;

        if (stat(path, &st) < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return -errno;
        }
        if (!S_ISDIR(st.st_mode))
                return run_file(path);

        n = scandir(path, &entries, NULL, compare_names);
        if (n < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return -errno;
        }
        for (int i = 0; i < n; i++) {
                char child[4096];
                if (entries[i]->d_name[0] != '.' &&
                    (size_t) snprintf(child, sizeof(child), "%s/%s", path, entries[i]->d_name) <
                            sizeof(child)) {
                        int r = run_path(child);
                        if (r < 0)
                                total = r;
                        else if (total >= 0)
                                total += r;
                }
                free(entries[i]);
        }
        free(entries);
        return total;
}

int main(int argc, char *argv[])
{
        int total = 0;

        for (int i = 1; i < argc; i++) {
                int r = run_path(argv[i]);
                if (r < 0)
                        return EXIT_FAILURE;
                total += r;
        }
        if (total == 0) {
                fprintf(stderr, "No inputs to run.\n");
                return EXIT_FAILURE;
        }
        printf("%s: %d input(s) ran cleanly\n", argv[0], total);
        return EXIT_SUCCESS;
}
