/* Test driver for the link plugins: runs one back end on a GLib main loop and
 * prints every callback as a JSON line (with CLOCK_MONOTONIC time) on stdout.
 * stdin takes "reactivate IFNAME" lines; EOF, SIGINT or SIGTERM stop it. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <glib-unix.h>

#include "plugins/link-monitor.h"

typedef struct Driver {
    const MipLinkMonitorOps *ops;
    MipLinkMonitor *mon;
    GMainLoop *loop;
    GString *input;
    guint in_id;
} Driver;

/* Seconds on CLOCK_MONOTONIC, comparable with Python's time.monotonic(). */
static double now(void)
{
    return (double)g_get_monotonic_time() / G_USEC_PER_SEC;
}

static void put_json_string(const char *s)
{
    putchar('"');
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static const char *type_name(MipLinkType t)
{
    switch (t) {
    case MIP_LINK_ETHERNET:
        return "ethernet";
    case MIP_LINK_WIFI:
        return "wifi";
    case MIP_LINK_WWAN:
        return "wwan";
    default:
        return "unknown";
    }
}

static const char *ip_str(uint32_t host, char buf[INET_ADDRSTRLEN])
{
    uint32_t be = htonl(host);

    return inet_ntop(AF_INET, &be, buf, INET_ADDRSTRLEN);
}

static void on_changed(const MipLinkInfo *info, G_GNUC_UNUSED void *user)
{
    char a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];
    const uint8_t *h = info->hwaddr;

    printf("{\"t\":%.6f,\"event\":\"changed\",\"ifindex\":%d,\"name\":", now(), info->ifindex);
    put_json_string(info->name);
    printf(",\"type\":\"%s\",\"carrier\":%s,\"active\":%s,\"address\":\"%s\",\"prefix\":%u,"
           "\"gateway\":\"%s\",\"hwaddr\":\"%02x:%02x:%02x:%02x:%02x:%02x\"}\n",
           type_name(info->type), info->carrier ? "true" : "false", info->active ? "true" : "false",
           ip_str(info->address, a), info->prefix_len, ip_str(info->gateway, g), h[0], h[1], h[2],
           h[3], h[4], h[5]);
}

static void on_removed(int ifindex, const char *name, G_GNUC_UNUSED void *user)
{
    printf("{\"t\":%.6f,\"event\":\"removed\",\"ifindex\":%d,\"name\":", now(), ifindex);
    put_json_string(name);
    printf("}\n");
}

static void run_command(Driver *d, const char *line)
{
    g_autoptr(GError) error = NULL;
    const char *ifname;
    gboolean ok;

    if (!g_str_has_prefix(line, "reactivate ")) {
        printf("{\"t\":%.6f,\"event\":\"error\",\"error\":", now());
        put_json_string("unknown command");
        printf("}\n");
        return;
    }
    ifname = line + strlen("reactivate ");
    if (d->ops->reactivate)
        ok = d->ops->reactivate(d->mon, ifname, &error);
    else
        ok = FALSE, g_set_error_literal(&error, g_quark_from_static_string("link-driver"), 0,
                                        "back end cannot reactivate");
    printf("{\"t\":%.6f,\"event\":\"reactivate\",\"ifname\":", now());
    put_json_string(ifname);
    printf(",\"ok\":%s,\"error\":", ok ? "true" : "false");
    if (ok)
        printf("null");
    else
        put_json_string(error->message);
    printf("}\n");
}

static gboolean on_stdin(gint fd, G_GNUC_UNUSED GIOCondition cond, gpointer user)
{
    Driver *d = user;
    char buf[256];
    ssize_t n = read(fd, buf, sizeof buf);
    char *nl;

    if (n <= 0) {
        d->in_id = 0;
        g_main_loop_quit(d->loop);
        return G_SOURCE_REMOVE;
    }
    g_string_append_len(d->input, buf, n);
    while ((nl = strchr(d->input->str, '\n'))) {
        *nl = '\0';
        g_strstrip(d->input->str);
        if (d->input->str[0])
            run_command(d, d->input->str);
        g_string_erase(d->input, 0, nl - d->input->str + 1);
    }
    return G_SOURCE_CONTINUE;
}

static gboolean on_signal(gpointer user)
{
    g_main_loop_quit(((Driver *)user)->loop);
    return G_SOURCE_CONTINUE;
}

static const MipLinkMonitorOps *find_ops(const char *name)
{
    if (strcmp(name, "netlink") == 0)
        return &mip_link_netlink_ops;
#ifdef MIP_DRIVER_WITH_NM
    if (strcmp(name, "nm") == 0)
        return &mip_link_nm_ops;
#endif
    return NULL;
}

int main(int argc, char **argv)
{
    g_autoptr(GPtrArray) ignore = g_ptr_array_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *why = NULL;
    MipLinkMonitorCallbacks cb = {on_changed, on_removed, NULL};
    Driver d = {0};
    guint term_id, int_id;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2 || !(d.ops = find_ops(argv[1]))) {
        fprintf(stderr, "usage: %s nm|netlink [--ignore GLOB]...\n", argv[0]);
        return 2;
    }
    for (int i = 2; i + 1 < argc; i += 2)
        if (strcmp(argv[i], "--ignore") == 0)
            g_ptr_array_add(ignore, argv[i + 1]);
    g_ptr_array_add(ignore, NULL);

    gboolean avail = d.ops->available(&why);
    printf("{\"t\":%.6f,\"event\":\"available\",\"ok\":%s,\"why\":", now(),
           avail ? "true" : "false");
    if (why)
        put_json_string(why);
    else
        printf("null");
    printf("}\n");
    if (!avail)
        return 3;

    cb.user = &d;
    d.mon = d.ops->start(&cb, (const char *const *)ignore->pdata, &error);
    if (!d.mon) {
        fprintf(stderr, "start: %s\n", error->message);
        return 1;
    }
    printf("{\"t\":%.6f,\"event\":\"started\"}\n", now());

    d.loop = g_main_loop_new(NULL, FALSE);
    d.input = g_string_new(NULL);
    d.in_id = g_unix_fd_add(0, G_IO_IN | G_IO_HUP, on_stdin, &d);
    term_id = g_unix_signal_add(SIGTERM, on_signal, &d);
    int_id = g_unix_signal_add(SIGINT, on_signal, &d);
    g_main_loop_run(d.loop);

    d.ops->stop(d.mon);
    g_source_remove(term_id);
    g_source_remove(int_id);
    g_clear_handle_id(&d.in_id, g_source_remove);
    g_string_free(d.input, TRUE);
    g_main_loop_unref(d.loop);
    printf("{\"t\":%.6f,\"event\":\"stopped\"}\n", now());
    return 0;
}
