/* routes: the addresses, routes and policy rules of each plan mode through
 * libnl-route-3, applied as a diff (new objects first, old ones removed
 * after), plus the ARP sysctls that keep a node away from home quiet about
 * its home address (RFC 5944 §4.6, in plugins/arp-guard.c).
 *
 * What each mode installs (x home address, L physical link, T mip0, h home
 * agent, c care-of address, g gateway; every route and rule has protocol 169,
 * every address we add the label "<L>:mip"):
 *   HOME        x/32 on lo (the link's own configuration, e.g. NM's profile,
 *               puts x/plen on L); with a gateway: table 434
 *               "x/plen dev L scope link src x" and
 *               "default via g dev L src x", rule
 *               10434 "lookup 434" (new connections use x whatever other
 *               links' default routes say).
 *   FOREIGN_AGENT  x/32 on L; table 434 "g dev L scope link src x" and
 *               "default via g dev L onlink src x"; rule 10434 "lookup 434".
 *   COLOCATED   x/32 on T; table 434 "h via g dev L src c" and "default dev T
 *               src x" (reverse tunnel) or "default via g dev L src x"
 *               (without); rules 10430 "to h lookup 434" (registrations and
 *               outer packets leave by L), 10431 "from c lookup main" (DHCP
 *               and anything bound to the lease), 10434 "lookup 434".
 *   NONE        x/32 on lo: always up, so sockets bound to x survive while
 *               no link is usable, and no link answers ARP for it.
 * Routes live in table 434 rather than main: NetworkManager deletes routes
 * it does not know from main, never from other tables (nm-settings-nmcli(5),
 * ipv4.route-table). Every apply re-asserts every object, so one removed
 * behind our back (by NM, or with a link that went down) comes back. */
#include <arpa/inet.h>
#include <linux/fib_rules.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <gio/gio.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/handlers.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>
#include <netlink/socket.h>

#include "plugins/arp-guard.h"
#include "plugins/routes.h"

typedef enum ObjKind { OBJ_ADDR, OBJ_ROUTE, OBJ_RULE } ObjKind;

/* One kernel object mipd wants or owns; fields a kind does not use stay 0. */
typedef struct Obj {
    ObjKind kind;
    int ifindex;      /* address: its device; route: the nexthop device */
    uint32_t addr;    /* address: local; route: destination; rule: "to" */
    uint8_t plen;     /* prefix of addr */
    uint32_t gateway; /* route */
    uint32_t src;     /* route: preferred source; rule: "from" */
    uint8_t src_len;  /* rule */
    uint8_t scope;    /* route */
    gboolean onlink;  /* route */
    uint32_t table;   /* route, rule */
    uint32_t prio;    /* rule */
    char label[IFNAMSIZ];
} Obj;

struct MipRoutes {
    struct nl_sock *sk;
    GArray *owned; /* Obj: what we installed and must remove */
    MipArpGuard *arp;
    /* The kernel's own words for the last refusal: libnl folds many errnos
     * into "Unspecific failure" and drops the extended ack message. */
    int nl_errno;
    char nl_msg[160];
    char why[256];
};

static int on_nl_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
    MipRoutes *r = arg;
    const struct nlmsghdr *h = (const struct nlmsghdr *)((const char *)e - NLMSG_HDRLEN);
    const char *end = (const char *)h + h->nlmsg_len;
    size_t off = sizeof *e;

    r->nl_errno = -e->error;
    r->nl_msg[0] = '\0';
    if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
        return NL_STOP;
    if (!(h->nlmsg_flags & NLM_F_CAPPED) && e->msg.nlmsg_len >= NLMSG_HDRLEN)
        off += e->msg.nlmsg_len - NLMSG_HDRLEN; /* our request, echoed */
    for (const char *p = (const char *)e + NLMSG_ALIGN(off); p + NLA_HDRLEN <= end;) {
        struct nlattr a;
        memcpy(&a, p, sizeof a);
        if (a.nla_len < NLA_HDRLEN || p + a.nla_len > end)
            break;
        if (a.nla_type == NLMSGERR_ATTR_MSG)
            g_strlcpy(r->nl_msg, p + NLA_HDRLEN,
                      MIN(sizeof r->nl_msg, (size_t)(a.nla_len - NLA_HDRLEN) + 1));
        p += NLA_ALIGN(a.nla_len);
    }
    return NL_STOP;
}

/* "Invalid argument (Nexthop has invalid gateway)" rather than libnl's
 * "Unspecific failure"; valid until the next request. */
static const char *why(MipRoutes *r, int err)
{
    if (!r->nl_errno)
        return nl_geterror(err);
    snprintf(r->why, sizeof r->why, "%s%s%s%s", g_strerror(r->nl_errno), r->nl_msg[0] ? " (" : "",
             r->nl_msg, r->nl_msg[0] ? ")" : "");
    return r->why;
}

static const char *ip4(uint32_t a, char buf[INET_ADDRSTRLEN])
{
    struct in_addr in = {htonl(a)};

    return inet_ntop(AF_INET, &in, buf, INET_ADDRSTRLEN);
}

static char *obj_describe(const Obj *o)
{
    char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], c[INET_ADDRSTRLEN], dev[IF_NAMESIZE] = "?";

    if (o->ifindex > 0)
        if_indextoname((unsigned)o->ifindex, dev);
    switch (o->kind) {
    case OBJ_ADDR:
        return g_strdup_printf("address %s/%u on %s", ip4(o->addr, a), o->plen, dev);
    case OBJ_ROUTE:
        return g_strdup_printf("route %s/%u%s%s dev %s src %s table %u", ip4(o->addr, a), o->plen,
                               o->gateway ? " via " : "", o->gateway ? ip4(o->gateway, b) : "", dev,
                               ip4(o->src, c), o->table);
    case OBJ_RULE:
        return g_strdup_printf("rule %u from %s/%u to %s/%u lookup %u", o->prio, ip4(o->src, a),
                               o->src_len, ip4(o->addr, b), o->plen, o->table);
    }
    return g_strdup("?");
}

/* Same kernel identity: a second add would collide (EEXIST) or, for a
 * route, replace this one. */
static gboolean obj_same_key(const Obj *a, const Obj *b)
{
    if (a->kind != b->kind)
        return FALSE;
    switch (a->kind) {
    case OBJ_ADDR:
        return a->ifindex == b->ifindex && a->addr == b->addr && a->plen == b->plen;
    case OBJ_ROUTE:
        return a->table == b->table && a->addr == b->addr && a->plen == b->plen;
    case OBJ_RULE:
        return a->prio == b->prio && a->src == b->src && a->src_len == b->src_len &&
               a->addr == b->addr && a->plen == b->plen && a->table == b->table;
    }
    return FALSE;
}

static gboolean obj_equal(const Obj *a, const Obj *b)
{
    return obj_same_key(a, b) && a->ifindex == b->ifindex && a->gateway == b->gateway &&
           a->src == b->src && a->scope == b->scope && a->onlink == b->onlink &&
           strcmp(a->label, b->label) == 0;
}

static const Obj *find_key(GArray *objs, const Obj *o)
{
    for (guint i = 0; i < objs->len; i++)
        if (obj_same_key(&g_array_index(objs, Obj, i), o))
            return &g_array_index(objs, Obj, i);
    return NULL;
}

static struct nl_addr *v4(uint32_t a, uint8_t plen)
{
    uint32_t be = htonl(a);
    struct nl_addr *n = nl_addr_build(AF_INET, &be, 4);

    nl_addr_set_prefixlen(n, plen);
    return n;
}

static uint32_t from_v4(struct nl_addr *n)
{
    uint32_t be = 0;

    if (n && nl_addr_get_family(n) == AF_INET && nl_addr_get_len(n) == 4)
        memcpy(&be, nl_addr_get_binary_addr(n), 4);
    return ntohl(be);
}

static struct rtnl_addr *build_addr(const Obj *o)
{
    struct rtnl_addr *a = rtnl_addr_alloc();
    struct nl_addr *local = v4(o->addr, o->plen);

    rtnl_addr_set_family(a, AF_INET);
    rtnl_addr_set_ifindex(a, o->ifindex);
    rtnl_addr_set_local(a, local);
    rtnl_addr_set_prefixlen(a, o->plen);
    rtnl_addr_set_scope(a, RT_SCOPE_UNIVERSE);
    if (o->label[0])
        rtnl_addr_set_label(a, o->label);
    nl_addr_put(local);
    return a;
}

static struct rtnl_route *build_route(const Obj *o)
{
    struct rtnl_route *r = rtnl_route_alloc();
    struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
    struct nl_addr *dst = v4(o->addr, o->plen);

    rtnl_route_set_family(r, AF_INET);
    rtnl_route_set_table(r, o->table);
    rtnl_route_set_protocol(r, MIP_ROUTES_PROTO);
    rtnl_route_set_scope(r, o->scope);
    rtnl_route_set_type(r, RTN_UNICAST);
    rtnl_route_set_dst(r, dst);
    nl_addr_put(dst);
    if (o->src) {
        struct nl_addr *src = v4(o->src, 32);
        rtnl_route_set_pref_src(r, src);
        nl_addr_put(src);
    }
    rtnl_route_nh_set_ifindex(nh, o->ifindex);
    if (o->gateway) {
        struct nl_addr *gw = v4(o->gateway, 32);
        rtnl_route_nh_set_gateway(nh, gw);
        nl_addr_put(gw);
    }
    if (o->onlink)
        rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
    rtnl_route_add_nexthop(r, nh);
    return r;
}

static struct rtnl_rule *build_rule(const Obj *o)
{
    struct rtnl_rule *u = rtnl_rule_alloc();

    rtnl_rule_set_family(u, AF_INET);
    rtnl_rule_set_prio(u, o->prio);
    rtnl_rule_set_action(u, FR_ACT_TO_TBL);
    rtnl_rule_set_table(u, o->table);
    rtnl_rule_set_protocol(u, MIP_ROUTES_PROTO);
    if (o->src_len) {
        struct nl_addr *a = v4(o->src, o->src_len);
        rtnl_rule_set_src(u, a);
        nl_addr_put(a);
    }
    if (o->plen) {
        struct nl_addr *a = v4(o->addr, o->plen);
        rtnl_rule_set_dst(u, a);
        nl_addr_put(a);
    }
    return u;
}

/* Adds (routes: adds or replaces) o; 0 or a libnl error. */
static int obj_add(MipRoutes *r, const Obj *o)
{
    int err = 0;

    r->nl_errno = 0;
    switch (o->kind) {
    case OBJ_ADDR: {
        struct rtnl_addr *a = build_addr(o);
        err = rtnl_addr_add(r->sk, a, NLM_F_EXCL);
        rtnl_addr_put(a);
        break;
    }
    case OBJ_ROUTE: {
        struct rtnl_route *rt = build_route(o);
        /* Replace: the kernel swaps the route in one step, the heart of
         * make-before-break for the default route. */
        err = rtnl_route_add(r->sk, rt, NLM_F_REPLACE);
        rtnl_route_put(rt);
        break;
    }
    case OBJ_RULE: {
        struct rtnl_rule *u = build_rule(o);
        err = rtnl_rule_add(r->sk, u, NLM_F_EXCL);
        rtnl_rule_put(u);
        if (err == -NLE_EXIST)
            err = 0; /* a leftover identical rule: adopt it */
        break;
    }
    }
    return err;
}

/* Deletes o; an object already gone (its device vanished) is not an error. */
static int obj_del(MipRoutes *r, const Obj *o)
{
    int err = 0;

    r->nl_errno = 0;
    switch (o->kind) {
    case OBJ_ADDR: {
        struct rtnl_addr *a = build_addr(o);
        err = rtnl_addr_delete(r->sk, a, 0);
        rtnl_addr_put(a);
        break;
    }
    case OBJ_ROUTE: {
        struct rtnl_route *rt = build_route(o);
        err = rtnl_route_delete(r->sk, rt, 0);
        rtnl_route_put(rt);
        break;
    }
    case OBJ_RULE: {
        struct rtnl_rule *u = build_rule(o);
        err = rtnl_rule_delete(r->sk, u, 0);
        rtnl_rule_put(u);
        break;
    }
    }
    if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NOADDR || err == -NLE_NODEV)
        err = 0;
    if (err) {
        g_autofree char *what = obj_describe(o);
        g_warning("routes: cannot remove %s: %s", what, why(r, err));
    }
    return err;
}

/* ---- the plan as objects -------------------------------------------- */

static void want_addr(GArray *w, int ifindex, uint32_t addr, uint8_t plen)
{
    Obj o = {.kind = OBJ_ADDR, .ifindex = ifindex, .addr = addr, .plen = plen};
    char dev[IF_NAMESIZE] = "";

    if_indextoname((unsigned)ifindex, dev);
    /* "eth0:mip": found again by clean_stale; 11 + 4 chars fit IFNAMSIZ. */
    snprintf(o.label, sizeof o.label, "%.11s%s", dev, MIP_ROUTES_LABEL_SUFFIX);
    g_array_append_val(w, o);
}

static void want_route(GArray *w, uint32_t dst, uint8_t plen, int ifindex, uint32_t gw,
                       uint32_t src, gboolean onlink)
{
    Obj o = {.kind = OBJ_ROUTE,
             .table = MIP_ROUTES_TABLE,
             .addr = dst,
             .plen = plen,
             .ifindex = ifindex,
             .gateway = gw,
             .src = src,
             .onlink = onlink,
             .scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK};

    g_array_append_val(w, o);
}

static void want_rule(GArray *w, uint32_t prio, uint32_t from, uint8_t from_len, uint32_t to,
                      uint8_t to_len, uint32_t table)
{
    Obj o = {.kind = OBJ_RULE,
             .prio = prio,
             .src = from,
             .src_len = from_len,
             .addr = to,
             .plen = to_len,
             .table = table};

    g_array_append_val(w, o);
}

static gboolean check_plan(const MipPlan *p, int tunnel_ifindex, GError **error)
{
    const char *why = NULL;

    if (!p->home_address)
        why = "no home address";
    else if (p->mode == MIP_PLAN_NONE)
        return TRUE;
    else if (p->ifindex <= 0)
        why = "no link";
    else if (p->mode == MIP_PLAN_HOME && (p->home_prefix_len < 1 || p->home_prefix_len > 32))
        why = "home prefix length out of range";
    else if (p->mode == MIP_PLAN_FOREIGN_AGENT && !p->gateway)
        why = "foreign-agent mode without the agent's address";
    else if (p->mode == MIP_PLAN_COLOCATED && (!p->care_of_address || !p->home_agent))
        why = "co-located mode without care-of address or home agent";
    else if (p->mode == MIP_PLAN_COLOCATED && tunnel_ifindex <= 0)
        why = "co-located mode without a tunnel device (the node decapsulates on mip0)";
    if (why) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "routes: bad plan: %s", why);
        return FALSE;
    }
    return TRUE;
}

/* The objects of a plan, in the order they must be added: addresses before
 * routes using them as source, specific rules before the catch-all. */
static GArray *plan_objects(const MipPlan *p, int tunnel_ifindex)
{
    GArray *w = g_array_new(FALSE, TRUE, sizeof(Obj));
    uint32_t x = p->home_address, g = p->gateway;

    switch (p->mode) {
    case MIP_PLAN_HOME:
        /* On lo, not on the home link: whoever configures the home link
         * (NetworkManager's profile) must find it bare, or NM "assumes" the
         * address as an external configuration and never applies the
         * profile's gateway. At home the link answers ARP for it anyway. */
        want_addr(w, (int)if_nametoindex("lo"), x, 32);
        if (g) {
            /* The home network stays on-link, or rule 10434 would send
             * traffic for the home agent and neighbours to the gateway. */
            uint32_t mask = p->home_prefix_len ? 0xffffffffu << (32 - p->home_prefix_len) : 0;
            want_route(w, x & mask, p->home_prefix_len, p->ifindex, 0, x, FALSE);
            want_route(w, 0, 0, p->ifindex, g, x, FALSE);
            want_rule(w, MIP_ROUTES_PRIO_ALL, 0, 0, 0, 0, MIP_ROUTES_TABLE);
        }
        break;
    case MIP_PLAN_FOREIGN_AGENT:
        want_addr(w, p->ifindex, x, 32);
        want_route(w, g, 32, p->ifindex, 0, x, FALSE);
        want_route(w, 0, 0, p->ifindex, g, x, TRUE);
        want_rule(w, MIP_ROUTES_PRIO_ALL, 0, 0, 0, 0, MIP_ROUTES_TABLE);
        break;
    case MIP_PLAN_COLOCATED:
        want_addr(w, tunnel_ifindex, x, 32);
        want_route(w, p->home_agent, 32, p->ifindex, g, p->care_of_address, FALSE);
        if (p->reverse_tunnel)
            want_route(w, 0, 0, tunnel_ifindex, 0, x, FALSE);
        else
            want_route(w, 0, 0, p->ifindex, g, x, FALSE);
        want_rule(w, MIP_ROUTES_PRIO_AGENT, 0, 0, p->home_agent, 32, MIP_ROUTES_TABLE);
        want_rule(w, MIP_ROUTES_PRIO_COA, p->care_of_address, 32, 0, 0, RT_TABLE_MAIN);
        want_rule(w, MIP_ROUTES_PRIO_ALL, 0, 0, 0, 0, MIP_ROUTES_TABLE);
        break;
    case MIP_PLAN_NONE:
        want_addr(w, (int)if_nametoindex("lo"), x, 32);
        break;
    }
    return w;
}

/* ---- apply ---------------------------------------------------------- */

typedef enum AddrState { ADDR_ABSENT, ADDR_OURS, ADDR_FOREIGN } AddrState;

static AddrState addr_state(struct nl_cache *cache, const Obj *o)
{
    for (struct nl_object *it = nl_cache_get_first(cache); it; it = nl_cache_get_next(it)) {
        struct rtnl_addr *a = (struct rtnl_addr *)it;
        const char *label;

        if (rtnl_addr_get_family(a) != AF_INET || rtnl_addr_get_ifindex(a) != o->ifindex ||
            rtnl_addr_get_prefixlen(a) != o->plen || from_v4(rtnl_addr_get_local(a)) != o->addr)
            continue;
        label = rtnl_addr_get_label(a);
        return label && strcmp(label, o->label) == 0 ? ADDR_OURS : ADDR_FOREIGN;
    }
    return ADDR_ABSENT;
}

MipRoutes *mip_routes_new(GError **error)
{
    MipRoutes *r = g_new0(MipRoutes, 1);
    int err = 0, one = 1;

    r->sk = nl_socket_alloc();
    if (!r->sk || (err = nl_connect(r->sk, NETLINK_ROUTE)) < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "routes: cannot open rtnetlink: %s",
                    r->sk ? nl_geterror(err) : "out of memory");
        if (r->sk)
            nl_socket_free(r->sk);
        g_free(r);
        return NULL;
    }
    /* Ask for the kernel's extended ack so errors can say what was wrong. */
    setsockopt(nl_socket_get_fd(r->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
    nl_socket_modify_err_cb(r->sk, NL_CB_CUSTOM, on_nl_error, r);
    r->owned = g_array_new(FALSE, TRUE, sizeof(Obj));
    r->arp = mip_arp_guard_new();
    return r;
}

/* Deletes what we own and keep lacks (an object with the same key in keep
 * was replaced, or is someone else's now): rules, then routes, then
 * addresses, the reverse of the order they were made in. */
static void remove_owned(MipRoutes *r, GArray *keep)
{
    static const ObjKind order[] = {OBJ_RULE, OBJ_ROUTE, OBJ_ADDR};

    for (guint k = 0; k < G_N_ELEMENTS(order); k++) {
        for (guint i = r->owned->len; i-- > 0;) {
            const Obj *o = &g_array_index(r->owned, Obj, i);
            if (o->kind == order[k] && !(keep && find_key(keep, o)))
                obj_del(r, o);
        }
    }
}

/* Undoes what a failed apply added, so the previous plan stands as it was. */
static void roll_back(MipRoutes *r, GArray *added, GArray *replaced)
{
    for (guint i = added->len; i-- > 0;)
        obj_del(r, &g_array_index(added, Obj, i));
    for (guint i = 0; i < replaced->len; i++)
        obj_add(r, &g_array_index(replaced, Obj, i));
}

gboolean mip_routes_apply(MipRoutes *r, const MipPlan *plan, int tunnel_ifindex, GError **error)
{
    g_autoptr(GArray) want = NULL;
    g_autoptr(GArray) now_owned = g_array_new(FALSE, TRUE, sizeof(Obj));
    g_autoptr(GArray) added = g_array_new(FALSE, TRUE, sizeof(Obj));
    g_autoptr(GArray) replaced = g_array_new(FALSE, TRUE, sizeof(Obj));
    struct nl_cache *addrs = NULL;
    int err;

    if (!check_plan(plan, tunnel_ifindex, error))
        return FALSE;
    want = plan_objects(plan, tunnel_ifindex);
    if ((err = rtnl_addr_alloc_cache(r->sk, &addrs)) < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "routes: cannot list addresses: %s",
                    nl_geterror(err));
        return FALSE;
    }
    /* Protect before the home address appears on a visited link. */
    mip_arp_guard_protect(r->arp, plan);

    for (guint i = 0; i < want->len; i++) {
        const Obj *o = &g_array_index(want, Obj, i);
        const Obj *old = find_key(r->owned, o);

        if (o->kind == OBJ_ADDR) {
            AddrState st = addr_state(addrs, o);
            if (st == ADDR_FOREIGN)
                continue; /* NM (or the admin) put it there: theirs to keep */
            if (st == ADDR_OURS) {
                g_array_append_val(now_owned, *o);
                continue;
            }
        }
        /* Routes and rules are re-added every time (replace / adopt an
         * identical one), so a route the kernel dropped with a link that
         * went down comes back on the next apply. */
        err = obj_add(r, o);
        if (err < 0) {
            g_autofree char *what = obj_describe(o);
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "routes: cannot add %s: %s", what,
                        why(r, err));
            nl_cache_free(addrs);
            roll_back(r, added, replaced);
            mip_arp_guard_abort(r->arp);
            return FALSE;
        }
        if (!old)
            g_array_append_val(added, *o);
        else if (!obj_equal(old, o))
            g_array_append_val(replaced, *old);
        g_array_append_val(now_owned, *o);
    }
    nl_cache_free(addrs);

    /* Break after make: what the old plan had and the new one lacks. */
    remove_owned(r, want);
    g_array_set_size(r->owned, 0);
    g_array_append_vals(r->owned, now_owned->data, now_owned->len);

    /* Only now that nothing of the old plan is left (at home: nothing of
     * "away") do the node's own values come back. */
    mip_arp_guard_settle(r->arp);
    return TRUE;
}

/* ---- clean-up ------------------------------------------------------- */

static gboolean label_is_ours(const char *label)
{
    size_t n = label ? strlen(label) : 0, s = strlen(MIP_ROUTES_LABEL_SUFFIX);

    return n > s && strcmp(label + n - s, MIP_ROUTES_LABEL_SUFFIX) == 0;
}

static void remove_marked(MipRoutes *r, struct nl_cache *cache, guint *removed, int *last_err)
{
    for (struct nl_object *it = nl_cache_get_first(cache); it; it = nl_cache_get_next(it)) {
        int err = 0;

        if (nl_object_get_msgtype(it) == RTM_NEWRULE) {
            struct rtnl_rule *u = (struct rtnl_rule *)it;
            uint32_t prio = rtnl_rule_get_prio(u);
            if (rtnl_rule_get_family(u) != AF_INET || prio < MIP_ROUTES_PRIO_FIRST ||
                prio > MIP_ROUTES_PRIO_LAST)
                continue;
            err = rtnl_rule_delete(r->sk, u, 0);
        } else if (nl_object_get_msgtype(it) == RTM_NEWROUTE) {
            struct rtnl_route *rt = (struct rtnl_route *)it;
            if (rtnl_route_get_protocol(rt) != MIP_ROUTES_PROTO)
                continue;
            err = rtnl_route_delete(r->sk, rt, 0);
        } else {
            struct rtnl_addr *a = (struct rtnl_addr *)it;
            if (rtnl_addr_get_family(a) != AF_INET || !label_is_ours(rtnl_addr_get_label(a)))
                continue;
            err = rtnl_addr_delete(r->sk, a, 0);
        }
        if (err < 0 && err != -NLE_OBJ_NOTFOUND && err != -NLE_NOADDR)
            *last_err = err;
        else
            (*removed)++;
    }
}

gboolean mip_routes_clean_stale(MipRoutes *r, GError **error)
{
    struct nl_cache *rules = NULL, *routes = NULL, *addrs = NULL;
    guint removed = 0;
    int err = 0, last_err = 0;

    /* Rules first, addresses last: the reverse of how they were made. */
    if ((err = rtnl_rule_alloc_cache(r->sk, AF_INET, &rules)) < 0 ||
        (err = rtnl_route_alloc_cache(r->sk, AF_INET, 0, &routes)) < 0 ||
        (err = rtnl_addr_alloc_cache(r->sk, &addrs)) < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "routes: cannot list state: %s",
                    nl_geterror(err));
    } else {
        remove_marked(r, rules, &removed, &last_err);
        remove_marked(r, routes, &removed, &last_err);
        remove_marked(r, addrs, &removed, &last_err);
        if (removed)
            g_message("routes: removed %u objects a previous mipd left behind", removed);
        if (last_err)
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                        "routes: cannot remove a leftover object: %s", nl_geterror(last_err));
    }
    if (rules)
        nl_cache_free(rules);
    if (routes)
        nl_cache_free(routes);
    if (addrs)
        nl_cache_free(addrs);
    return err >= 0 && !last_err;
}

void mip_routes_free(MipRoutes *r)
{
    if (!r)
        return;
    remove_owned(r, NULL);
    mip_arp_guard_free(r->arp);
    g_array_free(r->owned, TRUE);
    nl_socket_free(r->sk);
    g_free(r);
}
