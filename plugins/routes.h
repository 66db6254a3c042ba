/* Addresses, routes and policy rules for every plan mode, through
 * libnl-route-3: the home address stays configured in every state (so
 * applications keep their sockets), tunnel outer packets and registrations
 * leave by the physical link, and everything is removed at stop and cleaned at
 * start after a crash (everything mipd installs carries protocol/priority
 * markers it can find again). */
#pragma once

#include <glib.h>

#include "client/core/plan.h"

typedef struct MipRoutes MipRoutes;

/* The markers (see plugins/routes.c for what goes where in each mode). */
enum {
    MIP_ROUTES_TABLE = 434,        /* mipd's routing table (the registration port) */
    MIP_ROUTES_PROTO = 169,        /* rtm_protocol of every route and rule mipd adds */
    MIP_ROUTES_PRIO_AGENT = 10430, /* to home agent -> table 434 (the physical link) */
    MIP_ROUTES_PRIO_COA = 10431,   /* from care-of address -> main */
    MIP_ROUTES_PRIO_ALL = 10434,   /* everything else -> table 434 */
    MIP_ROUTES_PRIO_FIRST = 10430, /* rules in [FIRST, LAST] are mipd's */
    MIP_ROUTES_PRIO_LAST = 10439,
};
/* Addresses mipd adds carry the label "<ifname, at most 11 chars>:mip". */
#define MIP_ROUTES_LABEL_SUFFIX ":mip"

MipRoutes *mip_routes_new(GError **error);
/* Removes whatever a previous mipd left (by marker) before we start. */
gboolean mip_routes_clean_stale(MipRoutes *r, GError **error);
/* Makes the plan real; tunnel_ifindex is mip0 (0 if none). Replaces the
 * previous plan's state: new routes first, then removal of the old. */
gboolean mip_routes_apply(MipRoutes *r, const MipPlan *plan, int tunnel_ifindex, GError **error);
/* Removes everything mipd installed. */
void mip_routes_free(MipRoutes *r);
