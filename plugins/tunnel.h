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

typedef struct MipTunnelOps {
    const char *name;  /* "kernel", "tun" */
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
} MipTunnelOps;

extern const MipTunnelOps mip_tunnel_kernel_ops;
extern const MipTunnelOps mip_tunnel_tun_ops;

/* "kernel", "tun" or "auto" (kernel first, then TUN, logging why). */
MipTunnel *mip_tunnel_open_by_name(const char *name, const MipTunnelOps **chosen,
                                   GError **error);
