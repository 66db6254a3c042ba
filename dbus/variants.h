/* The core's state as GVariants for org.mipd.MobileNode1: statistics, agents,
 * links, events and handovers, with the names the XML documents. */
#pragma once

#include <arpa/inet.h>
#include <glib.h>

#include "client/core/mn.h"

/* Dotted quad, or "" for 0. */
const char *mip_ip4_str(uint32_t host, char buf[INET_ADDRSTRLEN]);
const char *mip_plan_mode_name(MipPlanMode m);   /* foreign-agent, co-located, home, none */

/* Floating references. */
GVariant *mip_variant_statistics(const MipMn *mn, guint64 tunnel_tx, guint64 tunnel_rx);
GVariant *mip_variant_agents(const MipMn *mn);
GVariant *mip_variant_links(const MipMn *mn);
GVariant *mip_variant_event(const MipMn *mn, const MipMnEvent *ev);
/* switched_at: when the shell applied the new plan (core clock). */
GVariant *mip_variant_handover(const char *old_ifname, const MipMnStatus *st, const MipMnEvent *ev,
                               MipTime switched_at);
