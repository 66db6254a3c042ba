/* The tunnel and route plan the core asks the tunnel plugins to make real.
 * Applying the same plan twice is a no-op; a new plan replaces the old one as
 * one step (make the new paths, then remove the old).
 *
 * ARP rule (RFC 5944 §4.6), for whoever applies a plan: in every mode but
 * MIP_PLAN_HOME the node is away, and it must not answer ARP requests for its
 * home address nor broadcast ARP on the visited link (the home agent proxies
 * the home address on the home link meanwhile): put the home address where
 * the kernel will not answer for it (arp_ignore/arp_announce, or a noarp
 * device) and reach the foreign agent by its link-layer address. The core
 * never delivers an away-mode plan before the registration that makes it
 * true has been accepted; on return home it delivers MIP_PLAN_HOME first and
 * then asks for the gratuitous ARP that takes the home address back. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "link.h"

typedef enum MipPlanMode {
    MIP_PLAN_HOME,         /* at home: home address on the home link, no tunnel */
    MIP_PLAN_FOREIGN_AGENT,/* FA care-of: home address on the link, default route via the FA by link layer */
    MIP_PLAN_COLOCATED,    /* co-located care-of: tunnel between care-of address and home agent */
    MIP_PLAN_NONE,         /* no usable link: keep the home address, remove routes */
} MipPlanMode;

typedef enum MipEncapsulation {
    MIP_ENCAP_IPIP,
    MIP_ENCAP_GRE,
    MIP_ENCAP_MINIMAL,
    MIP_ENCAP_UDP,         /* RFC 3519 */
} MipEncapsulation;

typedef struct MipPlan {
    MipPlanMode mode;
    uint32_t home_address;     /* always configured, in every mode */
    uint8_t home_prefix_len;
    uint32_t home_agent;
    int ifindex;               /* the physical link in use */
    char ifname[MIP_IFNAME_MAX];
    uint32_t care_of_address;  /* co-located: the lease; FA mode: the agent's care-of address */
    uint32_t gateway;          /* FA mode: the agent's address on the link; co-located: the lease's router */
    MipEncapsulation encap;
    bool reverse_tunnel;       /* co-located: send via the tunnel; FA mode: the FA does it */
    uint16_t udp_peer_port;    /* MIP_ENCAP_UDP: the home agent's port (434) */
    uint16_t udp_local_port;
    /* Added by client/core: */
    MipEncapsulation udp_inner;/* MIP_ENCAP_UDP: what the tunnel-data header carries (IPIP, GRE, MINIMAL) */
    uint16_t udp_keepalive;    /* MIP_ENCAP_UDP: keepalive interval from the reply (RFC 3519), s; 0 none */
} MipPlan;
