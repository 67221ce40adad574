/* SPDX-License-Identifier: MIT */

#include <errno.h>
#include <stdlib.h>

#include "bus-polkit.h"
#include "kneed-bus.h"
#include "log.h"
#include "macro.h"

/* A person typing a password takes a while; a non-interactive answer comes at once. */
#define POLKIT_TIMEOUT_USEC (25 * UINT64_C(1000000))
#define POLKIT_INTERACTIVE_TIMEOUT_USEC (300 * UINT64_C(1000000))

/* CheckAuthorization's flags: may polkit ask the person to authenticate? */
#define POLKIT_ALLOW_USER_INTERACTION 1u

struct PolkitQuery {
        PolkitRegistry *registry;
        sd_bus_message *request; /* the method call being authorized */
        char *action;
        sd_bus_slot *slot;     /* CheckAuthorization in flight */
        sd_bus_message *reply; /* polkit's answer, once it came */
        LIST_FIELDS(PolkitQuery, queries);
};

static PolkitQuery *query_free(PolkitQuery *q)
{
        if (!q)
                return NULL;
        LIST_REMOVE(queries, q->registry->queries, q);
        sd_bus_slot_unref(q->slot);
        sd_bus_message_unref(q->request);
        sd_bus_message_unref(q->reply);
        free(q->action);
        return mfree(q);
}

void polkit_registry_init(PolkitRegistry *reg, sd_bus *bus, bool enabled)
{
        *reg = (PolkitRegistry){.bus = bus, .enabled = enabled};
}

void polkit_registry_done(PolkitRegistry *reg)
{
        while (reg->queries)
                query_free(reg->queries);
}

static const char *describe(const char *action)
{
        if (streq(action, KNEED_ACTION_START_ROUTINE))
                return "start a massage routine";
        if (streq(action, KNEED_ACTION_MANAGE))
                return "manage kneed (reload its configuration, clear lockouts)";
        return action;
}

static int on_check_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
        PolkitQuery *q = userdata;
        int r;

        q->slot = sd_bus_slot_unref(q->slot);
        q->reply = sd_bus_message_ref(reply);

        /* The method call runs again, from its first argument, and finds the answer. */
        r = sd_bus_message_rewind(q->request, true);
        if (r >= 0)
                r = sd_bus_enqueue_for_read(q->registry->bus, q->request);
        if (r < 0) {
                log_error_errno(r, "Failed to resume a call waiting for polkit: %m");
                (void) sd_bus_reply_method_errorf(q->request, KNEED_ERROR_NOT_AUTHORIZED,
                                                  "Not authorized: the answer from polkit was "
                                                  "lost (%s)",
                                                  strerror(-r));
                query_free(q);
        }
        return 1;
}

/* polkit's answer for q: 1 allowed, < 0 refused with error set. */
static int answer(PolkitQuery *q, sd_bus_error *error)
{
        const sd_bus_error *e = sd_bus_message_get_error(q->reply);
        int authorized, challenge, r;

        /* No polkit, or it failed: nobody is authorized, and the log says why. */
        if (e) {
                log_warning("Cannot ask polkit whether %s may %s: %s",
                            strna(sd_bus_message_get_sender(q->request)), describe(q->action),
                            e->message ? e->message : e->name);
                return sd_bus_error_setf(error, KNEED_ERROR_NOT_AUTHORIZED,
                                         "Not authorized to %s: polkit could not be asked (%s)",
                                         describe(q->action), e->message ? e->message : e->name);
        }

        r = sd_bus_message_enter_container(q->reply, 'r', "bba{ss}");
        if (r >= 0)
                r = sd_bus_message_read(q->reply, "bb", &authorized, &challenge);
        if (r < 0)
                return sd_bus_error_setf(error, KNEED_ERROR_NOT_AUTHORIZED,
                                         "Not authorized to %s: polkit's answer was unreadable",
                                         describe(q->action));
        if (authorized)
                return 1;
        if (challenge)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                                         "Authentication is required to %s; call again allowing "
                                         "interactive authorization",
                                         describe(q->action));
        return sd_bus_error_setf(error, KNEED_ERROR_NOT_AUTHORIZED, "Not authorized to %s",
                                 describe(q->action));
}

static int ask(PolkitRegistry *reg, sd_bus_message *message, const char *action,
               sd_bus_error *error)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        bool interactive = sd_bus_message_get_allow_interactive_authorization(message) > 0;
        const char *sender = sd_bus_message_get_sender(message);
        PolkitQuery *q;
        int r;

        if (!sender)
                return sd_bus_error_setf(error, KNEED_ERROR_NOT_AUTHORIZED,
                                         "Not authorized to %s: the call has no sender",
                                         describe(action));

        r = sd_bus_message_new_method_call(reg->bus, &call, "org.freedesktop.PolicyKit1",
                                           "/org/freedesktop/PolicyKit1/Authority",
                                           "org.freedesktop.PolicyKit1.Authority",
                                           "CheckAuthorization");
        if (r >= 0)
                r = sd_bus_message_append(call, "(sa{sv})sa{ss}us", "system-bus-name", 1, "name",
                                          "s", sender, action, 0,
                                          interactive ? POLKIT_ALLOW_USER_INTERACTION : 0u, "");
        if (r < 0)
                return r;

        q = calloc(1, sizeof(PolkitQuery));
        if (!q)
                return -ENOMEM;
        q->registry = reg;
        q->action = strdup(action);
        q->request = sd_bus_message_ref(message);
        LIST_PREPEND(queries, reg->queries, q);
        if (!q->action) {
                query_free(q);
                return -ENOMEM;
        }
        r = sd_bus_call_async(reg->bus, &q->slot, call, on_check_reply, q,
                              interactive ? POLKIT_INTERACTIVE_TIMEOUT_USEC : POLKIT_TIMEOUT_USEC);
        if (r < 0) {
                query_free(q);
                return r;
        }
        return 0;
}

int polkit_check(PolkitRegistry *reg, sd_bus_message *message, const char *action,
                 sd_bus_error *error)
{
        PolkitQuery *q;
        int r;

        if (!reg->enabled)
                return 1;

        /* The second time round: the answer for this very call. */
        LIST_FOREACH (queries, q, reg->queries)
                if (q->request == message && streq(q->action, action))
                        break;
        if (!q)
                return ask(reg, message, action, error);
        if (!q->reply)
                return 0; /* still waiting */
        r = answer(q, error);
        query_free(q);
        return r;
}
