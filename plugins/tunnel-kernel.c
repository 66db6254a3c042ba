/* The kernel tunnel back end: mip0 is an ipip or gre link of the running
 * kernel, made and changed through libnl-route-3. Without the ipip / ip_gre
 * modules open() says so plainly, so `auto` can fall back to tunnel-tun. */
#ifndef G_LOG_DOMAIN
#define G_LOG_DOMAIN "mipd"
#endif

#include "plugins/tunnel.h"

#include <arpa/inet.h>
#include <gio/gio.h>
#include <net/if.h>
#include <stdbool.h>
#include <string.h>
#include <sys/utsname.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/ipgre.h>
#include <netlink/route/link/ipip.h>

enum {
    TUNNEL_TTL = 64,
    LOOPBACK_IFINDEX = 1, /* lo has this index in every namespace */
};

/* Where a replacement device is made before it takes mip0's place. */
#define NEW_IFNAME MIP_TUNNEL_IFNAME "-new"

struct MipTunnel {
    struct nl_sock *sk;
    int ifindex;
    /* The kind open() could make: ipip, or gre on a kernel with only that. */
    MipEncapsulation idle_encap;
};

/* What mip0 is, or should be. Addresses in network order, as netlink has them. */
typedef struct TunnelSpec {
    bool exists;
    bool ours; /* an ipip or gre link (not, say, a left-over TUN) */
    int ifindex;
    MipEncapsulation encap; /* IPIP or GRE */
    uint32_t local, remote;
    int link;
    uint8_t ttl;
    bool up;
} TunnelSpec;

static const char *encap_kind(MipEncapsulation encap)
{
    return encap == MIP_ENCAP_GRE ? "gre" : "ipip";
}

static const char *encap_module(MipEncapsulation encap)
{
    return encap == MIP_ENCAP_GRE ? "ip_gre" : "ipip";
}

static GIOErrorEnum nl_error_code(int nlerr)
{
    switch (-nlerr) {
    case NLE_OPNOTSUPP:
    case NLE_AF_NOSUPPORT:
        return G_IO_ERROR_NOT_SUPPORTED;
    case NLE_PERM:
        return G_IO_ERROR_PERMISSION_DENIED;
    case NLE_EXIST:
        return G_IO_ERROR_EXISTS;
    case NLE_INVAL:
    case NLE_RANGE:
        return G_IO_ERROR_INVALID_ARGUMENT;
    default:
        return G_IO_ERROR_FAILED;
    }
}

static void set_nl_error(GError **error, int nlerr, const char *doing)
{
    const char *hint = -nlerr == NLE_PERM ? " (needs CAP_NET_ADMIN)" : "";

    g_set_error(error, G_IO_ERROR, nl_error_code(nlerr), "kernel tunnel: %s: %s%s", doing,
                nl_geterror(nlerr), hint);
}

/* Why the kernel lacks a tunnel kind, in words a user can act on: the
 * netlink error alone cannot tell "not built" from "not loadable". */
static char *module_evidence(const char *module)
{
    g_autofree char *sys = g_strdup_printf("/sys/module/%s", module);
    if (g_file_test(sys, G_FILE_TEST_IS_DIR))
        return g_strdup("loaded");

    struct utsname u;
    if (uname(&u) != 0)
        return g_strdup("not loaded");
    g_autofree char *dep = g_strdup_printf("/lib/modules/%s/modules.dep", u.release);
    g_autofree char *deps = NULL;
    if (!g_file_get_contents(dep, &deps, NULL, NULL))
        return g_strdup_printf("not loaded, and there is no %s", dep);

    /* modules.dep lines start "kernel/net/ipv4/ipip.ko:" (or .ko.xz, .ko.zst). */
    g_autofree char *needle = g_strdup_printf("/%s.ko", module);
    for (const char *p = strstr(deps, needle); p; p = strstr(p + 1, needle)) {
        char next = p[strlen(needle)];
        if (next == ':' || next == '.')
            return g_strdup("installed but not loadable (no modprobe, or module "
                            "loading disabled?)");
    }
    return g_strdup_printf("not loaded, and %s does not list it", dep);
}

static void set_unsupported_error(GError **error, const char *kinds, const char *const *modules,
                                  const char *advice)
{
    g_autoptr(GString) why = g_string_new(NULL);
    g_autofree char *first = module_evidence(modules[0]);
    gboolean all_same = TRUE;

    for (size_t i = 1; modules[i]; i++) {
        g_autofree char *e = module_evidence(modules[i]);
        all_same = all_same && strcmp(e, first) == 0;
    }
    if (all_same) {
        g_autofree char *names = g_strjoinv(" and ", (char **)modules);
        g_string_printf(why, "module%s %s: %s", modules[1] ? "s" : "", names, first);
    } else {
        for (size_t i = 0; modules[i]; i++) {
            g_autofree char *e = module_evidence(modules[i]);
            g_string_append_printf(why, "%smodule %s: %s", i ? "; " : "", modules[i], e);
        }
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                "kernel tunnel: the kernel has no %s support (rtnetlink: %s / "
                "Unknown device type; %s); %s",
                kinds, nl_geterror(-NLE_OPNOTSUPP), why->str, advice);
}

/* Reads what a device is now: the kernel is the truth, whatever we did
 * before (someone may have taken mip0 down or deleted it). */
static int tunnel_read(MipTunnel *t, const char *name, TunnelSpec *s)
{
    struct rtnl_link *l = NULL;

    memset(s, 0, sizeof(*s));
    int err = rtnl_link_get_kernel(t->sk, 0, name, &l);
    if (err == -NLE_NODEV || err == -NLE_OBJ_NOTFOUND)
        return 0;
    if (err < 0)
        return err;

    s->exists = true;
    s->ifindex = rtnl_link_get_ifindex(l);
    s->up = (rtnl_link_get_flags(l) & IFF_UP) != 0;
    if (rtnl_link_is_ipip(l)) {
        s->ours = true;
        s->encap = MIP_ENCAP_IPIP;
        s->local = rtnl_link_ipip_get_local(l);
        s->remote = rtnl_link_ipip_get_remote(l);
        s->link = (int)rtnl_link_ipip_get_link(l);
        s->ttl = rtnl_link_ipip_get_ttl(l);
    } else if (rtnl_link_is_ipgre(l)) {
        s->ours = true;
        s->encap = MIP_ENCAP_GRE;
        s->local = rtnl_link_ipgre_get_local(l);
        s->remote = rtnl_link_ipgre_get_remote(l);
        s->link = (int)rtnl_link_ipgre_get_link(l);
        s->ttl = rtnl_link_ipgre_get_ttl(l);
    }
    rtnl_link_put(l);
    return 0;
}

/* Re-reads mip0 to learn its ifindex (which every recreation changes). */
static int tunnel_refresh(MipTunnel *t, TunnelSpec *have)
{
    int err = tunnel_read(t, MIP_TUNNEL_IFNAME, have);
    if (err == 0)
        t->ifindex = have->exists ? have->ifindex : 0;
    return err;
}

/* A link object carrying every tunnel parameter: the kernel's changelink
 * resets whatever a request leaves out, so we always send them all. */
static struct rtnl_link *tunnel_link_new(const TunnelSpec *s)
{
    struct rtnl_link *l;

    if (s->encap == MIP_ENCAP_GRE) {
        l = rtnl_link_ipgre_alloc();
        if (!l)
            return NULL;
        rtnl_link_ipgre_set_local(l, s->local);
        rtnl_link_ipgre_set_remote(l, s->remote);
        rtnl_link_ipgre_set_link(l, (uint32_t)s->link);
        rtnl_link_ipgre_set_ttl(l, s->ttl);
        rtnl_link_ipgre_set_pmtudisc(l, 1);
    } else {
        l = rtnl_link_ipip_alloc();
        if (!l)
            return NULL;
        rtnl_link_ipip_set_local(l, s->local);
        rtnl_link_ipip_set_remote(l, s->remote);
        rtnl_link_ipip_set_link(l, (uint32_t)s->link);
        rtnl_link_ipip_set_ttl(l, s->ttl);
        rtnl_link_ipip_set_pmtudisc(l, 1);
    }
    if (s->up)
        rtnl_link_set_flags(l, IFF_UP);
    else
        rtnl_link_unset_flags(l, IFF_UP);
    return l;
}

static int tunnel_delete(MipTunnel *t, const char *name)
{
    TunnelSpec have;
    int err = tunnel_read(t, name, &have);
    if (err < 0 || !have.exists)
        return err;

    struct rtnl_link *l = rtnl_link_alloc();
    if (!l)
        return -NLE_NOMEM;
    rtnl_link_set_ifindex(l, have.ifindex);
    err = rtnl_link_delete(t->sk, l);
    rtnl_link_put(l);
    if (err == -NLE_NODEV || err == -NLE_OBJ_NOTFOUND)
        err = 0;
    return err;
}

static int tunnel_create(MipTunnel *t, const char *name, const TunnelSpec *s)
{
    struct rtnl_link *l = tunnel_link_new(s);
    if (!l)
        return -NLE_NOMEM;
    rtnl_link_set_name(l, name);
    int err = rtnl_link_add(t->sk, l, NLM_F_CREATE | NLM_F_EXCL);
    rtnl_link_put(l);
    return err;
}

/* Changes endpoints and admin state in place, keeping the ifindex (and so
 * the addresses and routes made on mip0). */
static int tunnel_change(MipTunnel *t, const TunnelSpec *s)
{
    struct rtnl_link *orig = rtnl_link_alloc();
    struct rtnl_link *change = tunnel_link_new(s);
    int err = -NLE_NOMEM;

    if (orig && change) {
        rtnl_link_set_ifindex(orig, t->ifindex);
        err = rtnl_link_change(t->sk, orig, change, 0);
    }
    if (orig)
        rtnl_link_put(orig);
    if (change)
        rtnl_link_put(change);
    return err;
}

/* Sets a device's admin state and, when new_name is given, renames it (the
 * kernel renames only a device that is down: it applies the name first). */
static int tunnel_set(MipTunnel *t, int ifindex, const char *new_name, bool up)
{
    struct rtnl_link *orig = rtnl_link_alloc();
    struct rtnl_link *change = rtnl_link_alloc();
    int err = -NLE_NOMEM;

    if (orig && change) {
        rtnl_link_set_ifindex(orig, ifindex);
        if (new_name)
            rtnl_link_set_name(change, new_name);
        if (up)
            rtnl_link_set_flags(change, IFF_UP);
        else
            rtnl_link_unset_flags(change, IFF_UP);
        err = rtnl_link_change(t->sk, orig, change, 0);
    }
    if (orig)
        rtnl_link_put(orig);
    if (change)
        rtnl_link_put(change);
    return err;
}

/* The device open() makes before any plan: down, no endpoints. The kernel's
 * fallback device (tunl0 / gre0) already holds the all-zero parameters, so
 * ours must differ somewhere or the kernel answers EEXIST: it is bound to lo
 * until apply() gives it real endpoints. */
static TunnelSpec idle_spec(MipEncapsulation encap)
{
    return (TunnelSpec){.encap = encap, .link = LOOPBACK_IFINDEX, .ttl = TUNNEL_TTL};
}

static void tunnel_free(MipTunnel *t)
{
    if (t->sk)
        nl_socket_free(t->sk);
    g_free(t);
}

static MipTunnel *kernel_open(GError **error)
{
    MipTunnel *t = g_new0(MipTunnel, 1);
    TunnelSpec have;
    int err;

    t->sk = nl_socket_alloc();
    if (!t->sk) {
        set_nl_error(error, -NLE_NOMEM, "cannot allocate a netlink socket");
        goto fail;
    }
    err = nl_connect(t->sk, NETLINK_ROUTE);
    if (err < 0) {
        set_nl_error(error, err, "cannot open rtnetlink");
        goto fail;
    }

    /* mip0 is our name: one left by a crashed mipd (or by the TUN back end)
     * goes, so that we start from a known device. */
    err = tunnel_delete(t, MIP_TUNNEL_IFNAME);
    if (err == 0)
        err = tunnel_delete(t, NEW_IFNAME);
    if (err < 0) {
        set_nl_error(error, err, "cannot remove a stale " MIP_TUNNEL_IFNAME);
        goto fail;
    }

    TunnelSpec ipip = idle_spec(MIP_ENCAP_IPIP);
    TunnelSpec gre = idle_spec(MIP_ENCAP_GRE);
    err = tunnel_create(t, MIP_TUNNEL_IFNAME, &ipip);
    t->idle_encap = MIP_ENCAP_IPIP;
    if (err == -NLE_OPNOTSUPP) {
        /* A kernel with gre but no ipip can still serve encapsulation=gre. */
        err = tunnel_create(t, MIP_TUNNEL_IFNAME, &gre);
        t->idle_encap = MIP_ENCAP_GRE;
        if (err == 0)
            g_debug("kernel tunnel: this kernel has no ipip; " MIP_TUNNEL_IFNAME
                    " can only be gre");
    }
    if (err == -NLE_OPNOTSUPP) {
        static const char *const modules[] = {"ipip", "ip_gre", NULL};
        set_unsupported_error(error, "ipip or gre", modules, "use tunnel=tun");
        goto fail;
    }
    if (err == 0)
        err = tunnel_refresh(t, &have);
    if (err < 0) {
        set_nl_error(error, err, "cannot create " MIP_TUNNEL_IFNAME);
        goto fail;
    }
    return t;

fail:
    tunnel_free(t);
    return NULL;
}

/* The device a plan asks for; FALSE for a plan this back end cannot carry or
 * that lacks what a tunnel needs. */
static gboolean plan_spec(const MipPlan *plan, TunnelSpec *want, GError **error)
{
    switch (plan->encap) {
    case MIP_ENCAP_IPIP:
    case MIP_ENCAP_GRE:
        break;
    case MIP_ENCAP_MINIMAL:
        /* Linux has no minimal encapsulation (RFC 2004) device at all. */
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                            "kernel tunnel: the kernel has no minimal encapsulation; "
                            "minimal encapsulation needs tunnel=tun");
        return FALSE;
    case MIP_ENCAP_UDP:
        /* fou cannot add RFC 3519's tunnel-data header. */
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                            "kernel tunnel: the kernel cannot do UDP tunnelling "
                            "(RFC 3519); encapsulation=udp needs tunnel=tun");
        return FALSE;
    default:
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "kernel tunnel: unknown encapsulation %d", (int)plan->encap);
        return FALSE;
    }
    if (plan->care_of_address == 0 || plan->home_agent == 0 || plan->ifindex <= 0) {
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            "kernel tunnel: a co-located plan needs a care-of address, "
                            "a home agent and a link");
        return FALSE;
    }
    *want = (TunnelSpec){
        .exists = true,
        .ours = true,
        .encap = plan->encap,
        .local = htonl(plan->care_of_address),
        .remote = htonl(plan->home_agent),
        .link = plan->ifindex,
        .ttl = TUNNEL_TTL,
        .up = true,
    };
    return TRUE;
}

static gboolean same_tunnel(const TunnelSpec *a, const TunnelSpec *b)
{
    return a->exists && b->exists && a->ours && b->ours && a->encap == b->encap &&
           a->local == b->local && a->remote == b->remote && a->link == b->link && a->ttl == b->ttl;
}

/* Makes a new mip0 beside the old one and only then swaps it in, so a kind
 * the kernel lacks (or any other refusal) leaves the old device untouched. */
static gboolean tunnel_replace(MipTunnel *t, const TunnelSpec *want, GError **error)
{
    TunnelSpec fresh = *want, made;
    fresh.up = false;

    int err = tunnel_delete(t, NEW_IFNAME);
    if (err == 0)
        err = tunnel_create(t, NEW_IFNAME, &fresh);
    if (err == -NLE_OPNOTSUPP) {
        const char *const modules[] = {encap_module(want->encap), NULL};
        g_autofree char *advice =
            g_strdup_printf("use tunnel=tun or encapsulation=%s", encap_kind(t->idle_encap));
        set_unsupported_error(error, encap_kind(want->encap), modules, advice);
        return FALSE;
    }
    if (err == 0)
        err = tunnel_read(t, NEW_IFNAME, &made);
    if (err < 0) {
        g_autofree char *doing =
            g_strdup_printf("cannot create a %s tunnel", encap_kind(want->encap));
        set_nl_error(error, err, doing);
        tunnel_delete(t, NEW_IFNAME);
        return FALSE;
    }
    err = tunnel_delete(t, MIP_TUNNEL_IFNAME);
    if (err == 0)
        err = tunnel_set(t, made.ifindex, MIP_TUNNEL_IFNAME, want->up);
    if (err == 0)
        err = tunnel_refresh(t, &made);
    if (err < 0) {
        set_nl_error(error, err, "cannot put the new tunnel in place of " MIP_TUNNEL_IFNAME);
        return FALSE;
    }
    return TRUE;
}

static gboolean apply_colocated(MipTunnel *t, const TunnelSpec *want, const TunnelSpec *have,
                                GError **error)
{
    if (same_tunnel(want, have) && have->up)
        return TRUE;

    /* In place when we can. The kernel will not give an endpoint-less (NBMA)
     * tunnel a remote address (EINVAL), and no link changes kind: then make
     * it anew. */
    if (have->exists && have->ours && have->encap == want->encap && have->remote != 0) {
        int err = tunnel_change(t, want);
        if (err == 0)
            return TRUE;
        g_debug("kernel tunnel: changing " MIP_TUNNEL_IFNAME " in place failed (%s); recreating it",
                nl_geterror(err));
    }
    g_debug("kernel tunnel: making " MIP_TUNNEL_IFNAME " a new %s tunnel", encap_kind(want->encap));
    return tunnel_replace(t, want, error);
}

static gboolean kernel_apply(MipTunnel *t, const MipPlan *plan, GError **error)
{
    TunnelSpec want, have;

    if (plan->mode == MIP_PLAN_COLOCATED && !plan_spec(plan, &want, error))
        return FALSE;

    int err = tunnel_refresh(t, &have);
    if (err < 0) {
        set_nl_error(error, err, "cannot read " MIP_TUNNEL_IFNAME);
        return FALSE;
    }
    if (plan->mode == MIP_PLAN_COLOCATED)
        return apply_colocated(t, &want, &have, error);

    /* At home or behind a foreign agent nobody tunnels for us: keep the
     * device (and its endpoints, for a quick return) but down. */
    if (!have.exists) {
        TunnelSpec idle = idle_spec(t->idle_encap);
        err = tunnel_create(t, MIP_TUNNEL_IFNAME, &idle);
        if (err == 0)
            err = tunnel_refresh(t, &have);
    } else if (have.up) {
        err = tunnel_set(t, have.ifindex, NULL, false);
    }
    if (err < 0) {
        set_nl_error(error, err, "cannot take " MIP_TUNNEL_IFNAME " down");
        return FALSE;
    }
    return TRUE;
}

static int kernel_ifindex(MipTunnel *t)
{
    return t->ifindex;
}

static void kernel_close(MipTunnel *t)
{
    if (!t)
        return;
    int err = tunnel_delete(t, MIP_TUNNEL_IFNAME);
    if (err == 0)
        err = tunnel_delete(t, NEW_IFNAME);
    if (err < 0)
        g_warning("kernel tunnel: cannot remove " MIP_TUNNEL_IFNAME ": %s", nl_geterror(err));
    tunnel_free(t);
}

static void kernel_counters(MipTunnel *t, guint64 *tx_packets, guint64 *rx_packets)
{
    struct rtnl_link *l = NULL;

    *tx_packets = 0;
    *rx_packets = 0;
    if (t->ifindex <= 0 || rtnl_link_get_kernel(t->sk, t->ifindex, NULL, &l) < 0)
        return;
    *tx_packets = rtnl_link_get_stat(l, RTNL_LINK_TX_PACKETS);
    *rx_packets = rtnl_link_get_stat(l, RTNL_LINK_RX_PACKETS);
    rtnl_link_put(l);
}

const MipTunnelOps mip_tunnel_kernel_ops = {
    .name = "kernel",
    .open = kernel_open,
    .apply = kernel_apply,
    .ifindex = kernel_ifindex,
    .close = kernel_close,
    .counters = kernel_counters,
};
