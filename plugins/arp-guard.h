/* The ARP sysctls that keep a node away from home quiet about its home
 * address (RFC 5944 §4.6), set per plan and put back at home; private to
 * plugins/routes.c. */
#pragma once

#include <glib.h>

#include "client/core/plan.h"

typedef struct MipArpGuard MipArpGuard;

MipArpGuard *mip_arp_guard_new(void);
/* Sets what the plan needs; call before the plan's addresses appear. */
void mip_arp_guard_protect(MipArpGuard *g, const MipPlan *plan);
/* The plan is in place and the old one gone: put back what it no longer
 * needs (at home: everything). */
void mip_arp_guard_settle(MipArpGuard *g);
/* The plan failed: back to what the previous plan needed. */
void mip_arp_guard_abort(MipArpGuard *g);
/* Puts back every value we changed. */
void mip_arp_guard_free(MipArpGuard *g);
