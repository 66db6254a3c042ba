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

MipRoutes *mip_routes_new(GError **error);
/* Removes whatever a previous mipd left (by marker) before we start. */
gboolean mip_routes_clean_stale(MipRoutes *r, GError **error);
/* Makes the plan real; tunnel_ifindex is mip0 (0 if none). Replaces the
 * previous plan's state: new routes first, then removal of the old. */
gboolean mip_routes_apply(MipRoutes *r, const MipPlan *plan, int tunnel_ifindex,
                          GError **error);
/* Removes everything mipd installed. */
void mip_routes_free(MipRoutes *r);
