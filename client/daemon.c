/* The daemon object: feeds the core from sockets, link plugins and one timer,
 * and carries the core's outputs to sockets, the tunnel and the routes. */
#include "daemon.h"

#include <arpa/inet.h>
#include <gio/gio.h>
#include <string.h>

#include "client/net/arp.h"
#include "client/net/icmp-socket.h"
#include "client/net/udp-socket.h"
#include "client/proto/registration.h"
#include "plugins/link-monitor.h"
#include "plugins/routes.h"
#include "plugins/tunnel.h"

struct MipDaemon {
    MipdConfig *cfg;
    char *config_path;
    MipMn *mn;
    MipIcmpSocket *icmp;
    MipUdpSocket *udp;
    const MipLinkMonitorOps *link_ops;
    MipLinkMonitor *links;
    const MipTunnelOps *tunnel_ops;
    MipTunnel *tunnel;
    MipRoutes *routes;
    GHashTable *link_info; /* ifindex -> MipLinkInfo, for hardware addresses */
    guint timer;
    MipTime timer_at;
    MipDaemonObserver observer;
    guint notify_idle;
    MipTime plan_applied_at; /* when the last apply_plan call returned */
};

static MipTime now_us(void)
{
    return (MipTime)g_get_monotonic_time();
}

static const char *ip4(uint32_t host, char buf[INET_ADDRSTRLEN])
{
    struct in_addr a = {.s_addr = htonl(host)};
    return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static void rearm(MipDaemon *d);

static gboolean on_timer(gpointer data)
{
    MipDaemon *d = data;
    d->timer = 0;
    d->timer_at = MIP_TIME_NEVER;
    mip_mn_timeout(d->mn, now_us());
    rearm(d);
    return G_SOURCE_REMOVE;
}

static gboolean notify_observer(gpointer data)
{
    MipDaemon *d = data;
    d->notify_idle = 0;
    if (d->observer.changed)
        d->observer.changed(d->observer.user);
    return G_SOURCE_REMOVE;
}

/* One timer, always at the core's next deadline. Called after every input, it
 * also tells the observer (once per main-loop turn) that state may have
 * changed. */
static void rearm(MipDaemon *d)
{
    if (d->observer.changed && !d->notify_idle)
        d->notify_idle = g_idle_add(notify_observer, d);

    MipTime next = mip_mn_next_deadline(d->mn);
    if (next == d->timer_at && d->timer)
        return;
    if (d->timer) {
        g_source_remove(d->timer);
        d->timer = 0;
    }
    d->timer_at = next;
    if (next == MIP_TIME_NEVER)
        return;
    MipTime now = now_us();
    guint ms = next <= now ? 0 : (guint)MIN((next - now + 999) / 1000, G_MAXUINT);
    d->timer = g_timeout_add(ms, on_timer, d);
}

/* --- inputs --------------------------------------------------------------- */

static void on_icmp(int ifindex, uint32_t src, uint32_t dst, uint8_t ttl, const uint8_t *bytes,
                    size_t len, void *user)
{
    MipDaemon *d = user;
    mip_mn_icmp_received(d->mn, ifindex, src, dst, ttl, bytes, len, now_us());
    rearm(d);
}

static void on_udp(int ifindex, uint32_t src, uint16_t sport, uint32_t dst, const uint8_t *bytes,
                   size_t len, void *user)
{
    MipDaemon *d = user;
    mip_mn_udp_received(d->mn, ifindex, src, sport, dst, MIP_REG_PORT, bytes, len, now_us());
    rearm(d);
}

static void on_link_changed(const MipLinkInfo *info, void *user)
{
    MipDaemon *d = user;
    char a[INET_ADDRSTRLEN];
    g_debug("link %s (%d): carrier %s, %s, address %s/%u", info->name, info->ifindex,
            info->carrier ? "on" : "off", info->active ? "active" : "inactive",
            ip4(info->address, a), info->prefix_len);
    const MipLinkInfo *prev = g_hash_table_lookup(d->link_info, GINT_TO_POINTER(info->ifindex));
    /* Carrier came back but the link kept its lease and never went down: it
     * may have moved to another network (Wi-Fi roaming, a re-plugged cable)
     * and NetworkManager would keep the stale lease until rebinding, minutes
     * later. Ask for a fresh one; the same network hands the same lease. */
    if (prev && !prev->carrier && info->carrier && info->active && prev->active &&
        info->address && info->address == prev->address && d->link_ops->reactivate) {
        g_autoptr(GError) error = NULL;
        g_message("link %s: carrier is back with the lease it had (%s); asking %s for a "
                  "fresh one",
                  info->name, ip4(info->address, a), d->link_ops->name);
        if (!d->link_ops->reactivate(d->links, info->name, &error))
            g_warning("link %s: %s", info->name, error->message);
    }
    g_hash_table_insert(d->link_info, GINT_TO_POINTER(info->ifindex),
                        g_memdup2(info, sizeof *info));
    mip_mn_link_changed(d->mn, info, now_us());
    rearm(d);
}

static void on_link_removed(int ifindex, const char *name, void *user)
{
    MipDaemon *d = user;
    g_debug("link %s (%d) removed", name, ifindex);
    g_hash_table_remove(d->link_info, GINT_TO_POINTER(ifindex));
    mip_mn_link_removed(d->mn, ifindex, now_us());
    rearm(d);
}

/* --- outputs -------------------------------------------------------------- */

static uint64_t dep_wall_clock(void *user)
{
    return (uint64_t)g_get_real_time();
}

static uint32_t dep_random(void *user)
{
    return g_random_int();
}

static void dep_send_icmp(void *user, int ifindex, uint32_t dst, uint8_t ttl, const uint8_t *buf,
                          size_t len)
{
    MipDaemon *d = user;
    g_autoptr(GError) error = NULL;
    if (!mip_icmp_socket_send(d->icmp, ifindex, 0, dst, buf, len, &error))
        g_debug("solicitation on ifindex %d: %s", ifindex, error->message);
}

static void dep_send_udp(void *user, int ifindex, uint32_t src, uint32_t dst, uint16_t sport,
                         uint16_t dport, const uint8_t *buf, size_t len)
{
    MipDaemon *d = user;
    g_autoptr(GError) error = NULL;
    if (!mip_udp_socket_send(d->udp, ifindex, src, dst, dport, buf, len, &error))
        g_warning("registration request not sent: %s", error->message);
}

static void dep_apply_plan(void *user, const MipPlan *plan)
{
    MipDaemon *d = user;
    g_autoptr(GError) error = NULL;
    /* The tunnel first, so routes that point into it find it up. */
    if (d->tunnel && !d->tunnel_ops->apply(d->tunnel, plan, &error)) {
        g_warning("tunnel: %s", error->message);
        g_clear_error(&error);
    }
    int tifindex = d->tunnel ? d->tunnel_ops->ifindex(d->tunnel) : 0;
    if (!mip_routes_apply(d->routes, plan, tifindex, &error))
        g_warning("routes: %s", error->message);
    d->plan_applied_at = now_us();
}

static void dep_state_changed(void *user, MipMnState old_state, MipMnState new_state)
{
    g_info("state %s -> %s", mip_mn_state_name(old_state), mip_mn_state_name(new_state));
}

static double ms_between(MipTime from, MipTime to)
{
    return to > from ? (double)(to - from) / 1000.0 : 0.0;
}

/* A handover's one log line: what the HandoverCompleted signal carries. The
 * core delivers the event right after the plan it reports, so the plan's
 * apply time is when the tunnel and routes were switched. */
static void log_handover(MipDaemon *d, const MipMnEvent *ev)
{
    g_autofree char *accepted = ev->accepted_at
                                    ? g_strdup_printf("registration accepted %.1f ms, ",
                                                      ms_between(ev->trigger_at, ev->accepted_at))
                                    : g_strdup("");
    g_autofree char *outage = ev->break_before_make && ev->broken_at
                                  ? g_strdup_printf(", %.1f ms without a tunnel",
                                                    ms_between(ev->broken_at, d->plan_applied_at))
                                  : g_strdup("");
    g_message("%s (%s): %stunnel switched %.1f ms after the trigger%s", ev->message,
              ev->break_before_make ? "break-before-make" : "make-before-break", accepted,
              ms_between(ev->trigger_at, d->plan_applied_at), outage);
}

static void dep_event(void *user, const MipMnEvent *ev)
{
    MipDaemon *d = user;
    /* One line per registration event (the core's message holds no secret). */
    if (ev->type == MIP_MN_EV_HANDOVER)
        log_handover(d, ev);
    else
        g_message("%s", ev->message);
    if (d->observer.event)
        d->observer.event(ev, d->observer.user);
}

static void dep_gratuitous_arp(void *user, int ifindex, uint32_t address)
{
    MipDaemon *d = user;
    const MipLinkInfo *info = g_hash_table_lookup(d->link_info, GINT_TO_POINTER(ifindex));
    g_autoptr(GError) error = NULL;
    char a[INET_ADDRSTRLEN];
    if (!info) {
        g_warning("gratuitous ARP for %s: unknown link %d", ip4(address, a), ifindex);
        return;
    }
    if (!mip_arp_announce(ifindex, info->hwaddr, address, 2, &error))
        g_warning("%s", error->message);
    else
        g_info("gratuitous ARP: %s is at %02x:%02x:%02x:%02x:%02x:%02x on %s", ip4(address, a),
               info->hwaddr[0], info->hwaddr[1], info->hwaddr[2], info->hwaddr[3],
               info->hwaddr[4], info->hwaddr[5], info->name);
}

/* --- configuration -------------------------------------------------------- */

static gboolean copy_patterns(char *const *src, char dst[][MIP_MN_PATTERN_MAX], size_t *n,
                              const char *what, GError **error)
{
    *n = 0;
    for (; src && *src; src++) {
        if (*n == MIP_MN_MAX_PATTERNS || strlen(*src) >= MIP_MN_PATTERN_MAX) {
            g_set_error(error, MIPD_CONFIG_ERROR, MIPD_CONFIG_ERROR_INVALID,
                        "[links] %s: at most %d entries of at most %d characters", what,
                        MIP_MN_MAX_PATTERNS, MIP_MN_PATTERN_MAX - 1);
            return FALSE;
        }
        g_strlcpy(dst[(*n)++], *src, MIP_MN_PATTERN_MAX);
    }
    return TRUE;
}

gboolean mip_daemon_core_config(const MipdConfig *cfg, MipMnConfig *out, GError **error)
{
    mip_mn_config_init(out);
    out->home_address = cfg->home_address;
    out->home_prefix_len = cfg->home_prefix_len;
    out->home_agent = cfg->home_agent;
    out->spi = cfg->spi;
    out->algorithm = !strcmp(cfg->algorithm, "keyed-md5") ? MIP_AUTH_KEYED_MD5 : MIP_AUTH_HMAC_MD5;
    if (cfg->key_len > sizeof out->key) {
        g_set_error(error, MIPD_CONFIG_ERROR, MIPD_CONFIG_ERROR_KEY_FILE, "key too long");
        return FALSE;
    }
    memcpy(out->key, cfg->key, cfg->key_len);
    out->key_len = cfg->key_len;
    out->lifetime = cfg->lifetime;
    out->reverse_tunnel = cfg->reverse_tunnel;
    out->udp_tunnel = MIP_UDP_TUNNEL_OFF;
    if (!strcmp(cfg->encapsulation, "gre"))
        out->encapsulation = MIP_ENCAP_GRE;
    else if (!strcmp(cfg->encapsulation, "minimal"))
        out->encapsulation = MIP_ENCAP_MINIMAL;
    else if (!strcmp(cfg->encapsulation, "udp")) {
        out->encapsulation = MIP_ENCAP_IPIP;
        out->udp_tunnel = MIP_UDP_TUNNEL_ON;
    } else
        out->encapsulation = MIP_ENCAP_IPIP;
    out->care_of_mode = cfg->care_of_mode == MIPD_COA_FOREIGN_AGENT ? MIP_CARE_OF_FOREIGN_AGENT
                        : cfg->care_of_mode == MIPD_COA_COLOCATED   ? MIP_CARE_OF_COLOCATED
                                                                    : MIP_CARE_OF_AUTO;
    out->make_before_break = cfg->make_before_break;
    if (cfg->nai) {
        out->nai_len = MIN(strlen(cfg->nai), sizeof out->nai);
        memcpy(out->nai, cfg->nai, out->nai_len);
    }
    if (!copy_patterns(cfg->prefer, out->prefer, &out->n_prefer, "prefer", error) ||
        !copy_patterns(cfg->ignore, out->ignore, &out->n_ignore, "ignore", error))
        return FALSE;
    const char *why = NULL;
    if (mip_mn_config_validate(out, &why) != MIP_MN_OK) {
        g_set_error(error, MIPD_CONFIG_ERROR, MIPD_CONFIG_ERROR_INVALID, "%s", why);
        return FALSE;
    }
    return TRUE;
}

/* --- life cycle ----------------------------------------------------------- */

static gboolean pick_link_monitor(MipDaemon *d, GError **error)
{
    const char *want = d->cfg->link_monitor;
    g_autofree char *why = NULL;
#if MIPD_WITH_LIBNM
    if (!strcmp(want, "nm") || !strcmp(want, "auto")) {
        if (mip_link_nm_ops.available(&why)) {
            d->link_ops = &mip_link_nm_ops;
        } else if (!strcmp(want, "nm")) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                        "links: monitor=nm but NetworkManager is not available: %s", why);
            return FALSE;
        } else {
            g_message("links: NetworkManager not available (%s); watching rtnetlink", why);
        }
    }
#else
    if (!strcmp(want, "nm")) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    "links: monitor=nm but mipd was built without libnm");
        return FALSE;
    }
#endif
    if (!d->link_ops)
        d->link_ops = &mip_link_netlink_ops;
    static const MipLinkMonitorCallbacks cb = {on_link_changed, on_link_removed, NULL};
    MipLinkMonitorCallbacks mine = cb;
    mine.user = d;
    d->links = d->link_ops->start(&mine, (const char *const *)d->cfg->ignore, error);
    if (!d->links)
        return FALSE;
    g_message("links: watching through %s", d->link_ops->name);
    return TRUE;
}

MipDaemon *mip_daemon_new(MipdConfig *cfg, const char *config_path, GError **error)
{
    g_autoptr(MipdConfig) owned = cfg;
    MipMnConfig core_cfg;
    if (!mip_daemon_core_config(cfg, &core_cfg, error))
        return NULL;

    MipDaemon *d = g_new0(MipDaemon, 1);
    d->cfg = g_steal_pointer(&owned);
    d->config_path = g_strdup(config_path);
    d->timer_at = MIP_TIME_NEVER;
    d->link_info = g_hash_table_new_full(NULL, NULL, NULL, g_free);

    MipMnDeps deps = {
        .user = d,
        .wall_clock_usec = dep_wall_clock,
        .random_u32 = dep_random,
        .send_icmp = dep_send_icmp,
        .send_udp = dep_send_udp,
        .apply_plan = dep_apply_plan,
        .state_changed = dep_state_changed,
        .event = dep_event,
        .gratuitous_arp = dep_gratuitous_arp,
    };
    d->mn = mip_mn_new(&core_cfg, &deps);
    memset(core_cfg.key, 0, sizeof core_cfg.key);
    if (!d->mn) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot create the mobile node");
        goto fail;
    }

    d->routes = mip_routes_new(error);
    if (!d->routes || !mip_routes_clean_stale(d->routes, error))
        goto fail;
    d->tunnel = mip_tunnel_open_by_name(d->cfg->tunnel_backend, &d->tunnel_ops, error);
    if (!d->tunnel)
        goto fail;
    g_message("tunnel: %s back end", d->tunnel_ops->name);

    /* The home address exists from the start (on lo until a plan says
     * otherwise): applications keep their sockets, and requests through a
     * foreign agent leave from it before any binding exists. */
    MipPlan initial;
    if (!mip_mn_get_plan(d->mn, &initial)) {
        initial = (MipPlan){.mode = MIP_PLAN_NONE,
                            .home_address = core_cfg.home_address,
                            .home_prefix_len = core_cfg.home_prefix_len,
                            .home_agent = core_cfg.home_agent};
        dep_apply_plan(d, &initial);
    }

    d->icmp = mip_icmp_socket_new(on_icmp, d, error);
    if (!d->icmp)
        goto fail;
    d->udp = mip_udp_socket_new(MIP_REG_PORT, on_udp, d, error);
    if (!d->udp)
        goto fail;
    if (!pick_link_monitor(d, error))
        goto fail;
    rearm(d);
    return d;

fail:
    mip_daemon_free(d);
    return NULL;
}

gboolean mip_daemon_reload(MipDaemon *d, GError **error)
{
    g_autoptr(MipdConfig) cfg = mipd_config_load(d->config_path, TRUE, error);
    if (!cfg)
        return FALSE;
    MipMnConfig core_cfg;
    if (!mip_daemon_core_config(cfg, &core_cfg, error))
        return FALSE;
    MipMnError err = mip_mn_reload(d->mn, &core_cfg, now_us());
    memset(core_cfg.key, 0, sizeof core_cfg.key);
    if (err != MIP_MN_OK) {
        g_set_error(error, MIPD_CONFIG_ERROR, MIPD_CONFIG_ERROR_INVALID, "%s",
                    mip_mn_strerror(err));
        return FALSE;
    }
    mipd_config_free(d->cfg);
    d->cfg = g_steal_pointer(&cfg);
    g_autofree char *desc = mipd_config_describe(d->cfg);
    g_message("configuration reloaded: %s", desc);
    rearm(d);
    return TRUE;
}

static gboolean deregistration_done(MipDaemon *d)
{
    MipMnStatus st;
    mip_mn_get_status(d->mn, &st);
    return st.state != MIP_MN_STATE_DEREGISTERING;
}

void mip_daemon_shutdown(MipDaemon *d)
{
    MipMnStatus st;
    mip_mn_get_status(d->mn, &st);
    if (st.state == MIP_MN_STATE_REGISTERED) {
        /* Tell the home agent we are going, so it stops tunnelling into a
         * void; wait at most a second for its answer. */
        mip_mn_deregister(d->mn, now_us());
        rearm(d);
        gint64 until = g_get_monotonic_time() + G_USEC_PER_SEC;
        while (!deregistration_done(d) && g_get_monotonic_time() < until)
            if (!g_main_context_iteration(NULL, FALSE))
                g_usleep(5000);
    }
    if (d->links) {
        d->link_ops->stop(d->links);
        d->links = NULL;
    }
    if (d->routes) {
        mip_routes_free(d->routes);
        d->routes = NULL;
    }
    if (d->tunnel) {
        d->tunnel_ops->close(d->tunnel);
        d->tunnel = NULL;
    }
}

void mip_daemon_free(MipDaemon *d)
{
    if (!d)
        return;
    if (d->timer)
        g_source_remove(d->timer);
    if (d->notify_idle)
        g_source_remove(d->notify_idle);
    if (d->links)
        d->link_ops->stop(d->links);
    mip_icmp_socket_free(d->icmp);
    mip_udp_socket_free(d->udp);
    if (d->tunnel)
        d->tunnel_ops->close(d->tunnel);
    if (d->routes)
        mip_routes_free(d->routes);
    mip_mn_free(d->mn);
    g_hash_table_unref(d->link_info);
    mipd_config_free(d->cfg);
    g_free(d->config_path);
    g_free(d);
}

MipMn *mip_daemon_core(MipDaemon *d)
{
    return d->mn;
}

MipTime mip_daemon_plan_applied_at(MipDaemon *d)
{
    return d->plan_applied_at;
}

void mip_daemon_poke(MipDaemon *d)
{
    rearm(d);
}

void mip_daemon_set_observer(MipDaemon *d, const MipDaemonObserver *obs)
{
    d->observer = *obs;
}

void mip_daemon_tunnel_counters(MipDaemon *d, guint64 *tx, guint64 *rx)
{
    *tx = *rx = 0;
    if (d->tunnel && d->tunnel_ops->counters)
        d->tunnel_ops->counters(d->tunnel, tx, rx);
}

const char *mip_daemon_control_group(MipDaemon *d)
{
    return d->cfg->control_group;
}
