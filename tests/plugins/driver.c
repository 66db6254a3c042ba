/* A test driver for the tunnel and route plugins: reads one command a line
 * on stdin, answers one line on stdout ("ok ..." or "error ..."), and runs the
 * GLib main loop in between so the tunnel's data plane works. Python tests
 * run it inside a network namespace. Commands:
 *   open NAME            mip_tunnel_open_by_name (kernel|tun|auto|...)
 *   routes               mip_routes_new
 *   clean-stale          mip_routes_clean_stale
 *   plan MODE k=v ...    MODE home|fa|colocated|none; keys link home plen ha
 *                        coa gw encap(ipip|gre|minimal|udp) reverse(0|1)
 *   stats                one JSON object of MipTunnelStats
 *   close                closes the tunnel
 *   quit                 frees everything (routes too) and exits 0 */
#include <arpa/inet.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>
#include <glib-unix.h>

#include "plugins/routes.h"
#include "plugins/tunnel.h"

typedef struct Driver {
    GMainLoop *loop;
    MipTunnel *tunnel;
    const MipTunnelOps *ops;
    MipRoutes *routes;
    guint stdin_watch, sigterm_watch;
} Driver;

static void reply(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static void reply(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static void reply_error(GError *e)
{
    g_autofree char *msg = g_strdelimit(g_strdup(e->message), "\n", ' ');

    reply("error %s", msg);
}

static gboolean parse_ip(const char *s, uint32_t *out)
{
    struct in_addr in;

    if (inet_pton(AF_INET, s, &in) != 1)
        return FALSE;
    *out = ntohl(in.s_addr);
    return TRUE;
}

static gboolean parse_plan(char **argv, MipPlan *p, GError **error)
{
    const char *mode = argv[0];

    memset(p, 0, sizeof *p);
    p->home_prefix_len = 32;
    p->reverse_tunnel = true;
    if (!mode) {
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "plan needs a mode");
        return FALSE;
    }
    if (g_str_equal(mode, "home"))
        p->mode = MIP_PLAN_HOME;
    else if (g_str_equal(mode, "fa"))
        p->mode = MIP_PLAN_FOREIGN_AGENT;
    else if (g_str_equal(mode, "colocated"))
        p->mode = MIP_PLAN_COLOCATED;
    else if (g_str_equal(mode, "none"))
        p->mode = MIP_PLAN_NONE;
    else {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "unknown mode %s", mode);
        return FALSE;
    }
    for (char **a = argv + 1; *a; a++) {
        const char *eq = strchr(*a, '=');
        g_autofree char *key = eq ? g_strndup(*a, (gsize)(eq - *a)) : g_strdup(*a);
        const char *v = eq ? eq + 1 : "";
        gboolean ok = TRUE;

        if (g_str_equal(key, "link")) {
            g_strlcpy(p->ifname, v, sizeof p->ifname);
            p->ifindex = (int)if_nametoindex(v);
            ok = p->ifindex > 0;
        } else if (g_str_equal(key, "home"))
            ok = parse_ip(v, &p->home_address);
        else if (g_str_equal(key, "plen"))
            p->home_prefix_len = (uint8_t)atoi(v);
        else if (g_str_equal(key, "ha"))
            ok = parse_ip(v, &p->home_agent);
        else if (g_str_equal(key, "coa"))
            ok = parse_ip(v, &p->care_of_address);
        else if (g_str_equal(key, "gw"))
            ok = parse_ip(v, &p->gateway);
        else if (g_str_equal(key, "reverse"))
            p->reverse_tunnel = atoi(v) != 0;
        else if (g_str_equal(key, "encap")) {
            if (g_str_equal(v, "ipip"))
                p->encap = MIP_ENCAP_IPIP;
            else if (g_str_equal(v, "gre"))
                p->encap = MIP_ENCAP_GRE;
            else if (g_str_equal(v, "minimal"))
                p->encap = MIP_ENCAP_MINIMAL;
            else if (g_str_equal(v, "udp"))
                p->encap = MIP_ENCAP_UDP;
            else
                ok = FALSE;
        } else
            ok = FALSE;
        if (!ok) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "bad argument %s", *a);
            return FALSE;
        }
    }
    return TRUE;
}

/* The daemon's order (see tunnel.h): into co-located mode the tunnel goes
 * first, out of it the routes do. */
static gboolean apply_plan(Driver *d, const MipPlan *p, GError **error)
{
    int tif = d->tunnel ? d->ops->ifindex(d->tunnel) : 0;

    if (p->mode == MIP_PLAN_COLOCATED) {
        if (d->tunnel && !d->ops->apply(d->tunnel, p, error))
            return FALSE;
        return !d->routes || mip_routes_apply(d->routes, p, tif, error);
    }
    if (d->routes && !mip_routes_apply(d->routes, p, tif, error))
        return FALSE;
    return !d->tunnel || d->ops->apply(d->tunnel, p, error);
}

static void print_stats(Driver *d)
{
    MipTunnelStats s = {0};

    if (d->tunnel && d->ops->stats)
        d->ops->stats(d->tunnel, &s);
    else if (d->tunnel)
        d->ops->counters(d->tunnel, &s.tx_packets, &s.rx_packets);
    reply("ok {\"tx_packets\": %" G_GUINT64_FORMAT ", \"tx_bytes\": %" G_GUINT64_FORMAT
          ", \"rx_packets\": %" G_GUINT64_FORMAT ", \"rx_bytes\": %" G_GUINT64_FORMAT
          ", \"tx_dropped\": %" G_GUINT64_FORMAT ", \"rx_dropped\": %" G_GUINT64_FORMAT
          ", \"rx_not_from_agent\": %" G_GUINT64_FORMAT ", \"rx_malformed\": %" G_GUINT64_FORMAT
          ", \"rx_not_for_home\": %" G_GUINT64_FORMAT ", \"icmp_errors\": %" G_GUINT64_FORMAT "}",
          s.tx_packets, s.tx_bytes, s.rx_packets, s.rx_bytes, s.tx_dropped, s.rx_dropped,
          s.rx_not_from_agent, s.rx_malformed, s.rx_not_for_home, s.icmp_errors);
}

static void shutdown_all(Driver *d)
{
    /* Routes first: the home address leaves mip0 before mip0 goes. */
    g_clear_pointer(&d->routes, mip_routes_free);
    if (d->tunnel)
        d->ops->close(d->tunnel);
    d->tunnel = NULL;
}

static void run_command(Driver *d, char **argv)
{
    g_autoptr(GError) e = NULL;
    const char *cmd = argv[0];

    if (!cmd) {
        reply("error empty command");
    } else if (g_str_equal(cmd, "open")) {
        if (d->tunnel) {
            reply("error already open");
            return;
        }
        d->tunnel = mip_tunnel_open_by_name(argv[1], &d->ops, &e);
        if (d->tunnel)
            reply("ok %s %d", d->ops->name, d->ops->ifindex(d->tunnel));
        else
            reply_error(e);
    } else if (g_str_equal(cmd, "routes")) {
        if (!d->routes)
            d->routes = mip_routes_new(&e);
        if (d->routes)
            reply("ok");
        else
            reply_error(e);
    } else if (g_str_equal(cmd, "clean-stale")) {
        if (d->routes && mip_routes_clean_stale(d->routes, &e))
            reply("ok");
        else if (e)
            reply_error(e);
        else
            reply("error no routes object");
    } else if (g_str_equal(cmd, "plan")) {
        MipPlan p;
        if (parse_plan(argv + 1, &p, &e) && apply_plan(d, &p, &e))
            reply("ok");
        else
            reply_error(e);
    } else if (g_str_equal(cmd, "stats")) {
        print_stats(d);
    } else if (g_str_equal(cmd, "close")) {
        if (d->tunnel)
            d->ops->close(d->tunnel);
        d->tunnel = NULL;
        reply("ok");
    } else if (g_str_equal(cmd, "quit")) {
        shutdown_all(d);
        reply("ok");
        g_main_loop_quit(d->loop);
    } else {
        reply("error unknown command %s", cmd);
    }
}

static gboolean on_stdin(GIOChannel *ch, GIOCondition cond, gpointer user)
{
    Driver *d = user;
    g_autofree char *line = NULL;
    gsize term = 0;
    GIOStatus st = g_io_channel_read_line(ch, &line, NULL, &term, NULL);

    if (st == G_IO_STATUS_AGAIN)
        return G_SOURCE_CONTINUE;
    if (st != G_IO_STATUS_NORMAL) {
        /* The test went away: clean up as on quit. */
        shutdown_all(d);
        g_main_loop_quit(d->loop);
        d->stdin_watch = 0;
        return G_SOURCE_REMOVE;
    }
    line[term] = '\0';
    g_auto(GStrv) argv = g_strsplit_set(g_strstrip(line), " \t", -1);
    run_command(d, argv);
    return G_SOURCE_CONTINUE;
}

static gboolean on_signal(gpointer user)
{
    Driver *d = user;

    shutdown_all(d);
    g_main_loop_quit(d->loop);
    d->sigterm_watch = 0;
    return G_SOURCE_REMOVE;
}

int main(void)
{
    Driver d = {0};
    GIOChannel *ch = g_io_channel_unix_new(0);

    d.loop = g_main_loop_new(NULL, FALSE);
    d.stdin_watch = g_io_add_watch(ch, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin, &d);
    d.sigterm_watch = g_unix_signal_add(SIGTERM, on_signal, &d);
    reply("ready");
    g_main_loop_run(d.loop);
    if (d.stdin_watch)
        g_source_remove(d.stdin_watch);
    if (d.sigterm_watch)
        g_source_remove(d.sigterm_watch);
    g_io_channel_unref(ch);
    g_main_loop_unref(d.loop);
    return 0;
}
