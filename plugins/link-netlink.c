/* link-netlink: reports links, carrier, IPv4 address and default gateway from
 * rtnetlink (libnl-route-3 cache manager) on hosts without NetworkManager. */
#include <fnmatch.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>

#include <glib-unix.h>
#include <linux/if.h> /* IFF_LOWER_UP, IF_OPER_*: not in <net/if.h> */
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>

#include "plugins/link-monitor.h"

#ifndef ARPHRD_RAWIP
#define ARPHRD_RAWIP 519 /* qmi_wwan raw-ip; older libc headers lack it */
#endif

struct MipLinkMonitor {
    MipLinkMonitorCallbacks cb;
    char **ignore;
    struct nl_sock *ev_sock;   /* the manager's notification socket (ours to free) */
    struct nl_sock *sync_sock; /* our own, for resyncs */
    struct nl_cache_mngr *mngr;
    struct nl_cache *links, *addrs, *routes;
    GMainContext *ctx;
    GSource *io, *idle;
    GHashTable *reported; /* ifindex -> MipLinkInfo last sent */
    gboolean routes_stale;
};

typedef struct DefaultRoute {
    int ifindex;
    uint32_t gateway; /* host order */
    uint32_t metric;
} DefaultRoute;

static uint32_t addr_to_host(struct nl_addr *a)
{
    uint32_t be;

    if (!a || nl_addr_get_family(a) != AF_INET || nl_addr_get_len(a) != 4)
        return 0;
    memcpy(&be, nl_addr_get_binary_addr(a), 4);
    return g_ntohl(be);
}

static gboolean is_wireless(const char *name)
{
    /* rtnetlink does not say "wifi"; sysfs does (valid in our namespace when
     * /sys was mounted for it, as `ip netns exec` does). */
    char path[64];

    snprintf(path, sizeof path, "/sys/class/net/%s/wireless", name);
    if (g_file_test(path, G_FILE_TEST_EXISTS))
        return TRUE;
    snprintf(path, sizeof path, "/sys/class/net/%s/phy80211", name);
    return g_file_test(path, G_FILE_TEST_EXISTS);
}

static MipLinkType link_type(struct rtnl_link *link)
{
    const char *kind = rtnl_link_get_type(link);

    switch (rtnl_link_get_arptype(link)) {
    case ARPHRD_ETHER:
        return is_wireless(rtnl_link_get_name(link)) ? MIP_LINK_WIFI : MIP_LINK_ETHERNET;
    case ARPHRD_PPP:
        return MIP_LINK_WWAN;
    case ARPHRD_NONE:
    case ARPHRD_RAWIP:
        /* Modems' raw-IP netdevs have no kind (or "wwan"); tun, wireguard and
         * other L3 devices share the ARP type but name their kind. */
        return (!kind || strcmp(kind, "wwan") == 0) ? MIP_LINK_WWAN : MIP_LINK_UNKNOWN;
    default:
        return MIP_LINK_UNKNOWN;
    }
}

static gboolean carrier_of(struct rtnl_link *link)
{
    unsigned flags = rtnl_link_get_flags(link);

    if ((flags & (IFF_UP | IFF_LOWER_UP)) != (IFF_UP | IFF_LOWER_UP))
        return FALSE;
    /* Dormant = associated but not yet authenticated (802.1X/WPA): no usable
     * carrier yet. Drivers that never set operstate report UNKNOWN: trust
     * LOWER_UP for them. */
    switch (rtnl_link_get_operstate(link)) {
    case IF_OPER_DOWN:
    case IF_OPER_LOWERLAYERDOWN:
    case IF_OPER_NOTPRESENT:
    case IF_OPER_DORMANT:
        return FALSE;
    default:
        return TRUE;
    }
}

/* The first global, primary IPv4 address. /32 addresses are skipped on
 * purpose: mipd itself installs the home address as a /32, and a visited
 * network's lease always has a real prefix (point-to-point WWAN /32 leases
 * are the price; NM hosts use link-nm). */
static void fill_address(MipLinkMonitor *mon, MipLinkInfo *info)
{
    for (struct nl_object *o = nl_cache_get_first(mon->addrs); o; o = nl_cache_get_next(o)) {
        struct rtnl_addr *a = (struct rtnl_addr *)o;
        uint32_t addr;

        if (rtnl_addr_get_ifindex(a) != info->ifindex || rtnl_addr_get_family(a) != AF_INET ||
            rtnl_addr_get_scope(a) != RT_SCOPE_UNIVERSE ||
            (rtnl_addr_get_flags(a) & IFA_F_SECONDARY) || rtnl_addr_get_prefixlen(a) >= 32)
            continue;
        addr = addr_to_host(rtnl_addr_get_local(a));
        if (!addr)
            continue;
        info->address = addr;
        info->prefix_len = (uint8_t)rtnl_addr_get_prefixlen(a);
        return;
    }
}

/* Default routes of the main table with their link and metric; several on
 * one link: the lowest metric wins, as in the kernel's choice. */
static GArray *default_routes(MipLinkMonitor *mon)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(DefaultRoute));

    for (struct nl_object *o = nl_cache_get_first(mon->routes); o; o = nl_cache_get_next(o)) {
        struct rtnl_route *r = (struct rtnl_route *)o;
        struct nl_addr *dst = rtnl_route_get_dst(r);
        struct rtnl_nexthop *nh;

        if (rtnl_route_get_family(r) != AF_INET || rtnl_route_get_table(r) != RT_TABLE_MAIN ||
            rtnl_route_get_type(r) != RTN_UNICAST || (dst && nl_addr_get_prefixlen(dst) != 0) ||
            rtnl_route_get_nnexthops(r) < 1)
            continue;
        nh = rtnl_route_nexthop_n(r, 0);
        DefaultRoute d = {
            .ifindex = rtnl_route_nh_get_ifindex(nh),
            .gateway = addr_to_host(rtnl_route_nh_get_gateway(nh)),
            .metric = rtnl_route_get_priority(r),
        };
        g_array_append_val(out, d);
    }
    return out;
}

static void fill_gateway(const GArray *routes, MipLinkInfo *info)
{
    uint32_t best = G_MAXUINT32;

    for (guint i = 0; i < routes->len; i++) {
        const DefaultRoute *d = &g_array_index(routes, DefaultRoute, i);

        if (d->ifindex == info->ifindex && d->gateway && d->metric <= best) {
            best = d->metric;
            info->gateway = d->gateway;
        }
    }
}

static gboolean ignored(MipLinkMonitor *mon, const char *name)
{
    if (g_str_has_prefix(name, "mip")) /* our own tunnel devices */
        return TRUE;
    for (char **g = mon->ignore; g && *g; g++)
        if (fnmatch(*g, name, 0) == 0)
            return TRUE;
    return FALSE;
}

static gboolean link_info(MipLinkMonitor *mon, struct rtnl_link *link, const GArray *routes,
                          MipLinkInfo *info)
{
    const char *name = rtnl_link_get_name(link);
    struct nl_addr *hw = rtnl_link_get_addr(link);

    if (!name || (rtnl_link_get_flags(link) & IFF_LOOPBACK) || ignored(mon, name))
        return FALSE;
    memset(info, 0, sizeof *info); /* padding too: snapshots are compared with memcmp */
    info->ifindex = rtnl_link_get_ifindex(link);
    g_strlcpy(info->name, name, sizeof info->name);
    info->type = link_type(link);
    info->carrier = carrier_of(link);
    fill_address(mon, info);
    fill_gateway(routes, info);
    info->active = info->carrier && info->address != 0;
    if (hw && nl_addr_get_len(hw) == sizeof info->hwaddr)
        memcpy(info->hwaddr, nl_addr_get_binary_addr(hw), sizeof info->hwaddr);
    return TRUE;
}

static void report_all(MipLinkMonitor *mon)
{
    g_autoptr(GArray) routes = default_routes(mon);
    g_autoptr(GHashTable) seen = g_hash_table_new(g_direct_hash, g_direct_equal);
    GHashTableIter it;
    gpointer key, value;

    for (struct nl_object *o = nl_cache_get_first(mon->links); o; o = nl_cache_get_next(o)) {
        MipLinkInfo info;
        MipLinkInfo *last;

        if (!link_info(mon, (struct rtnl_link *)o, routes, &info))
            continue;
        g_hash_table_add(seen, GINT_TO_POINTER(info.ifindex));
        last = g_hash_table_lookup(mon->reported, GINT_TO_POINTER(info.ifindex));
        if (last && memcmp(last, &info, sizeof info) == 0)
            continue;
        /* A rename is a removal under the old name for consumers keyed by name. */
        if (last && strcmp(last->name, info.name) != 0)
            mon->cb.link_removed(last->ifindex, last->name, mon->cb.user);
        g_hash_table_insert(mon->reported, GINT_TO_POINTER(info.ifindex),
                            g_memdup2(&info, sizeof info));
        mon->cb.link_changed(&info, mon->cb.user);
    }

    g_hash_table_iter_init(&it, mon->reported);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        MipLinkInfo gone;

        if (g_hash_table_contains(seen, key))
            continue;
        gone = *(MipLinkInfo *)value;
        g_hash_table_iter_remove(&it);
        mon->cb.link_removed(gone.ifindex, gone.name, mon->cb.user);
    }
}

static void on_cache_change(struct nl_cache *cache, G_GNUC_UNUSED struct nl_object *obj,
                            G_GNUC_UNUSED int action, void *data)
{
    MipLinkMonitor *mon = data;

    /* The kernel drops IPv4 routes without telling anyone when a link goes
     * down or the address of their prefix goes away: re-read the routes. */
    if (cache != mon->routes)
        mon->routes_stale = TRUE;
}

static void resync(MipLinkMonitor *mon, struct nl_cache *cache, const char *what)
{
    int err = nl_cache_resync(mon->sync_sock, cache, NULL, NULL);

    if (err < 0)
        g_warning("link-netlink: cannot re-read %s: %s", what, nl_geterror(err));
}

static gboolean on_readable(G_GNUC_UNUSED gint fd, G_GNUC_UNUSED GIOCondition cond, gpointer data)
{
    MipLinkMonitor *mon = data;
    int err = nl_cache_mngr_data_ready(mon->mngr);

    if (err == -NLE_NOMEM) {
        /* ENOBUFS: the socket overflowed and events were lost. */
        resync(mon, mon->links, "links");
        resync(mon, mon->addrs, "addresses");
        mon->routes_stale = TRUE;
    } else if (err < 0) {
        g_warning("link-netlink: reading rtnetlink events: %s", nl_geterror(err));
    }
    if (mon->routes_stale) {
        mon->routes_stale = FALSE;
        resync(mon, mon->routes, "routes");
    }
    report_all(mon);
    return G_SOURCE_CONTINUE;
}

static gboolean on_first_report(gpointer data)
{
    MipLinkMonitor *mon = data;

    g_clear_pointer(&mon->idle, g_source_unref); /* the context holds it while dispatching */
    report_all(mon);
    return G_SOURCE_REMOVE;
}

static gboolean netlink_available(G_GNUC_UNUSED char **why)
{
    return TRUE;
}

static void netlink_stop(MipLinkMonitor *mon);

static gboolean set_error(GError **error, const char *what, int err)
{
    g_set_error(error, g_quark_from_static_string("mip-link-netlink"), 0, "link-netlink: %s: %s",
                what, nl_geterror(err));
    return FALSE;
}

static gboolean open_caches(MipLinkMonitor *mon, GError **error)
{
    int err;

    mon->ev_sock = nl_socket_alloc();
    mon->sync_sock = nl_socket_alloc();
    if (!mon->ev_sock || !mon->sync_sock)
        return set_error(error, "socket", -NLE_NOMEM);
    if ((err = nl_connect(mon->sync_sock, NETLINK_ROUTE)) < 0)
        return set_error(error, "connect", err);
    if ((err = nl_cache_mngr_alloc(mon->ev_sock, NETLINK_ROUTE, 0, &mon->mngr)) < 0)
        return set_error(error, "cache manager", err);
    /* A burst (a dock with many links, a routing daemon) must not overflow
     * the default 200 KiB; an overflow still recovers by resync. */
    nl_socket_set_buffer_size(mon->ev_sock, 1 << 20, 0);
    if ((err = nl_cache_mngr_add(mon->mngr, "route/link", on_cache_change, mon, &mon->links)) < 0)
        return set_error(error, "links", err);
    if ((err = nl_cache_mngr_add(mon->mngr, "route/addr", on_cache_change, mon, &mon->addrs)) < 0)
        return set_error(error, "addresses", err);
    if ((err = nl_cache_mngr_add(mon->mngr, "route/route", on_cache_change, mon, &mon->routes)) < 0)
        return set_error(error, "routes", err);
    return TRUE;
}

static MipLinkMonitor *netlink_start(const MipLinkMonitorCallbacks *cb, const char *const *ignore,
                                     GError **error)
{
    MipLinkMonitor *mon = g_new0(MipLinkMonitor, 1);

    mon->cb = *cb;
    mon->ignore = g_strdupv((char **)ignore);
    mon->ctx = g_main_context_ref_thread_default();
    mon->reported = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    if (!open_caches(mon, error)) {
        netlink_stop(mon);
        return NULL;
    }
    /* g_unix_fd_add() would attach to the global default context; the
     * contract says thread-default. */
    mon->io = g_unix_fd_source_new(nl_cache_mngr_get_fd(mon->mngr), G_IO_IN);
    g_source_set_callback(mon->io, G_SOURCE_FUNC(on_readable), mon, NULL);
    g_source_attach(mon->io, mon->ctx);
    /* The first report comes from the loop, never from inside start(): the
     * caller has no monitor pointer yet. */
    mon->idle = g_idle_source_new();
    g_source_set_callback(mon->idle, on_first_report, mon, NULL);
    g_source_attach(mon->idle, mon->ctx);
    return mon;
}

static void netlink_stop(MipLinkMonitor *mon)
{
    if (!mon)
        return;
    if (mon->idle)
        g_source_destroy(mon->idle);
    g_clear_pointer(&mon->idle, g_source_unref);
    if (mon->io)
        g_source_destroy(mon->io);
    g_clear_pointer(&mon->io, g_source_unref);
    /* The manager frees its caches and closes, but does not free, our socket. */
    g_clear_pointer(&mon->mngr, nl_cache_mngr_free);
    g_clear_pointer(&mon->ev_sock, nl_socket_free);
    g_clear_pointer(&mon->sync_sock, nl_socket_free);
    g_clear_pointer(&mon->reported, g_hash_table_unref);
    g_clear_pointer(&mon->ctx, g_main_context_unref);
    g_strfreev(mon->ignore);
    g_free(mon);
}

const MipLinkMonitorOps mip_link_netlink_ops = {
    .name = "netlink",
    .available = netlink_available,
    .start = netlink_start,
    .reactivate = NULL, /* nothing to re-activate without a connection manager */
    .stop = netlink_stop,
};
