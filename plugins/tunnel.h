/* The interface every tunnel plugin implements (tunnel-kernel: an ipip/gre
 * link through libnl-route-3; tunnel-tun: a TUN device plus raw IPIP/GRE or
 * UDP sockets in user space). A plugin owns the tunnel device `mip0` and its
 * data plane; addresses, routes and policy rules for every mode are made by
 * plugins/routes.h, shared by both. */
#pragma once

#include <glib.h>

#include "client/core/plan.h"

#define MIP_TUNNEL_IFNAME "mip0"

typedef struct MipTunnel MipTunnel;

/* Fuller statistics than counters(), including why packets were dropped (for
 * Statistics on D-Bus and for tests that prove a forged packet was refused). */
typedef struct MipTunnelStats {
    guint64 tx_packets, tx_bytes; /* encapsulated and sent to the home agent */
    guint64 rx_packets, rx_bytes; /* decapsulated and delivered */
    guint64 tx_dropped;           /* not from the home address, too big, send failed */
    guint64 rx_dropped;           /* the rx_* reasons below, plus writes mip0 refused */
    guint64 rx_not_from_agent;    /* outer source is not the home agent */
    guint64 rx_malformed;         /* bad outer/encapsulation/inner header */
    guint64 rx_not_for_home;      /* inner destination is not the home address */
    guint64 icmp_errors;          /* ICMP errors reported on the tunnel socket */
} MipTunnelStats;

typedef struct MipTunnelOps {
    const char *name; /* "kernel", "tun" */
    /* Creates the device (down, no endpoints yet). Fails with a clear message
     * when the back end cannot work here (e.g. no ipip module), so `auto`
     * can fall back and log why. */
    MipTunnel *(*open)(GError **error);
    /* Points the tunnel at the plan's endpoints (co-located mode: local =
     * care-of address, remote = home agent, encapsulation, link) and sets it
     * up; in other modes takes it down. Idempotent. */
    gboolean (*apply)(MipTunnel *t, const MipPlan *plan, GError **error);
    int (*ifindex)(MipTunnel *t);
    /* Removes the device and everything the plugin made. */
    void (*close)(MipTunnel *t);
    /* Packets and bytes carried, for Statistics (may be NULL). */
    void (*counters)(MipTunnel *t, guint64 *tx_packets, guint64 *rx_packets);
    /* Optional (may be NULL): everything in MipTunnelStats; fields a back end
     * cannot know stay 0. */
    void (*stats)(MipTunnel *t, MipTunnelStats *out);
} MipTunnelOps;

extern const MipTunnelOps mip_tunnel_kernel_ops;
extern const MipTunnelOps mip_tunnel_tun_ops;

/* "kernel", "tun" or "auto" (kernel first, then TUN, logging why; NULL means
 * "auto"). Lives in plugins/tunnel-select.c.
 * Ordering with plugins/routes.h: entering co-located mode, apply the tunnel
 * first (routes through mip0 need it up); leaving it, apply the routes first
 * (the home address must move off mip0 before the tunnel goes down). */
MipTunnel *mip_tunnel_open_by_name(const char *name, const MipTunnelOps **chosen, GError **error);
