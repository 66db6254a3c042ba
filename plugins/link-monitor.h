/* The interface every link plugin implements (link-nm through libnm,
 * link-netlink through rtnetlink): it reports links to the daemon, which feeds
 * them to the core. Plugins run on the thread-default GMainContext. */
#pragma once

#include <glib.h>

#include "client/core/link.h"

typedef struct MipLinkMonitor MipLinkMonitor;

typedef struct MipLinkMonitorCallbacks {
    /* A fresh snapshot on every change that matters: carrier, activation,
     * address/lease (also when only the IPv4 configuration changed), gateway. */
    void (*link_changed)(const MipLinkInfo *info, void *user);
    void (*link_removed)(int ifindex, const char *name, void *user);
    void *user;
} MipLinkMonitorCallbacks;

typedef struct MipLinkMonitorOps {
    const char *name;  /* "nm", "netlink" */
    /* Cheap probe: can this back end run here (NM owns its bus name; netlink:
     * always)? On FALSE, *why says why in one line (to log). */
    gboolean (*available)(char **why);
    /* Starts watching; reports every existing link once, then changes.
     * Names matching one of ignore (fnmatch globs, NULL-terminated; may be
     * NULL) are never reported. */
    MipLinkMonitor *(*start)(const MipLinkMonitorCallbacks *cb,
                             const char *const *ignore, GError **error);
    /* Asks the back end to bring a link's connection up again (NM: re-activate
     * the connection after a carrier bounce left a stale lease). Optional. */
    gboolean (*reactivate)(MipLinkMonitor *mon, const char *ifname, GError **error);
    void (*stop)(MipLinkMonitor *mon);
} MipLinkMonitorOps;

extern const MipLinkMonitorOps mip_link_nm_ops;
extern const MipLinkMonitorOps mip_link_netlink_ops;
