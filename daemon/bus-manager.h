/* SPDX-License-Identifier: MIT */
#pragma once

typedef struct Manager Manager;

/* Registers the ObjectManager and the Manager interface at /org/kneed/Kneed1. */
int bus_manager_register(Manager *m);
void bus_manager_emit_changed(Manager *m, const char *property);
