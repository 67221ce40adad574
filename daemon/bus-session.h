/* SPDX-License-Identifier: MIT */
#pragma once

typedef struct Manager Manager;
typedef struct Session Session;

/* Registers the fallback vtable and node enumerator for /org/kneed/Kneed1/session/<n>. */
int bus_session_register(Manager *m);

void bus_session_emit_added(Session *s);
void bus_session_emit_removed(Session *s);
/* names: NULL-terminated list of property names. */
void bus_session_emit_changed(Session *s, const char *const *names);
void bus_session_emit_step_started(Session *s);
void bus_session_emit_finished(Session *s);
