/* link-nm: reports NetworkManager's devices (state, carrier, IPv4 lease and
 * gateway) through libnm, and re-activates a device's connection on request. */
#include <arpa/inet.h>
#include <fnmatch.h>
#include <net/if.h>
#include <string.h>

#include <NetworkManager.h>

#include "plugins/link-monitor.h"

typedef struct Pending Pending;

struct MipLinkMonitor {
    MipLinkMonitorCallbacks cb;
    char **ignore;
    GCancellable *cancel;
    Pending *init; /* while NMClient initialises */
    NMClient *client;
    GHashTable *devices; /* NMDevice* -> Device* */
};

/* Outlives the monitor if stop() comes before NMClient's async init ends. */
struct Pending {
    MipLinkMonitor *mon;
};

typedef struct Device {
    MipLinkMonitor *mon;
    NMDevice *dev;
    NMIPConfig *ip4; /* the config whose notify signals we hold, or NULL */
    gboolean reported;
    MipLinkInfo last;
} Device;

static GQuark link_nm_error(void)
{
    return g_quark_from_static_string("mip-link-nm");
}

static const char *device_name(NMDevice *dev)
{
    /* ip-interface is the netdev carrying IP (a modem's wwan0, not its
     * cdc-wdm0 control port); interface when there is none yet. */
    const char *n = nm_device_get_ip_iface(dev);

    return (n && *n) ? n : nm_device_get_iface(dev);
}

static MipLinkType device_type(NMDevice *dev)
{
    switch (nm_device_get_device_type(dev)) {
    case NM_DEVICE_TYPE_ETHERNET:
    case NM_DEVICE_TYPE_VETH: /* the lab's links; NMDeviceVeth is an ethernet subclass */
        return MIP_LINK_ETHERNET;
    case NM_DEVICE_TYPE_WIFI:
        return MIP_LINK_WIFI;
    case NM_DEVICE_TYPE_MODEM:
        return MIP_LINK_WWAN;
    default:
        return MIP_LINK_UNKNOWN; /* reported anyway: the core's policy decides */
    }
}

static gboolean device_carrier(NMDevice *dev)
{
    GParamSpec *p = g_object_class_find_property(G_OBJECT_GET_CLASS(dev), "carrier");
    NMDeviceState st = nm_device_get_state(dev);
    gboolean carrier = FALSE;

    if (p && p->value_type == G_TYPE_BOOLEAN) {
        g_object_get(dev, "carrier", &carrier, NULL);
        return carrier;
    }
    /* Wi-Fi and modems have no carrier property: layer 2 is up once NM has
     * associated/connected and moved on to IP configuration. */
    return st >= NM_DEVICE_STATE_IP_CONFIG && st <= NM_DEVICE_STATE_ACTIVATED;
}

static uint32_t parse_ip4(const char *s)
{
    struct in_addr a;

    return (s && inet_pton(AF_INET, s, &a) == 1) ? ntohl(a.s_addr) : 0;
}

/* NM lists its own configured address first. /32s are skipped as in
 * link-netlink (mipd installs the home address as a /32) except on modems,
 * whose point-to-point bearers do hand out /32 leases. */
static void fill_ip4(NMIPConfig *ip4, MipLinkInfo *info)
{
    GPtrArray *addrs = ip4 ? nm_ip_config_get_addresses(ip4) : NULL;

    for (guint i = 0; addrs && i < addrs->len; i++) {
        NMIPAddress *a = addrs->pdata[i];
        guint prefix = nm_ip_address_get_prefix(a);
        uint32_t addr = parse_ip4(nm_ip_address_get_address(a));

        if (!addr || (prefix >= 32 && info->type != MIP_LINK_WWAN))
            continue;
        info->address = addr;
        info->prefix_len = (uint8_t)prefix;
        info->gateway = parse_ip4(nm_ip_config_get_gateway(ip4));
        return;
    }
}

static gboolean ignored(MipLinkMonitor *mon, NMDevice *dev, const char *name)
{
    if (!name || strcmp(name, "lo") == 0 ||
        nm_device_get_device_type(dev) == NM_DEVICE_TYPE_LOOPBACK)
        return TRUE;
    if (g_str_has_prefix(name, "mip")) /* our own tunnel devices */
        return TRUE;
    for (char **g = mon->ignore; g && *g; g++)
        if (fnmatch(*g, name, 0) == 0)
            return TRUE;
    return FALSE;
}

/* FALSE when the device is not to be reported (ignored, or no kernel
 * interface yet: an ifindex-less link cannot carry packets). */
static gboolean device_info(Device *d, MipLinkInfo *info)
{
    const char *name = device_name(d->dev);
    const char *hw = nm_device_get_hw_address(d->dev);

    if (ignored(d->mon, d->dev, name))
        return FALSE;
    memset(info, 0, sizeof *info); /* padding too: snapshots are compared with memcmp */
    /* libnm has no ifindex; NM and mipd share the network namespace. */
    info->ifindex = (int)if_nametoindex(name);
    if (info->ifindex <= 0)
        return FALSE;
    g_strlcpy(info->name, name, sizeof info->name);
    info->type = device_type(d->dev);
    info->carrier = device_carrier(d->dev);
    fill_ip4(d->ip4, info);
    info->active = nm_device_get_state(d->dev) == NM_DEVICE_STATE_ACTIVATED && info->address;
    /* Leaves zeros for addresses that are not 6 bytes (InfiniBand, none). */
    if (hw)
        nm_utils_hwaddr_aton(hw, info->hwaddr, sizeof info->hwaddr);
    return TRUE;
}

static void report_removed(Device *d)
{
    if (!d->reported)
        return;
    d->reported = FALSE;
    d->mon->cb.link_removed(d->last.ifindex, d->last.name, d->mon->cb.user);
}

static void refresh(Device *d);

/* The IPv4 config object is replaced when NM re-activates, and changes in
 * place on a DHCP renewal to a new lease: watch both. */
static void watch_ip4(Device *d)
{
    NMIPConfig *cur = nm_device_get_ip4_config(d->dev);

    if (cur == d->ip4)
        return;
    if (d->ip4) {
        g_signal_handlers_disconnect_by_data(d->ip4, d);
        g_clear_object(&d->ip4);
    }
    if (cur) {
        d->ip4 = g_object_ref(cur);
        g_signal_connect_swapped(cur, "notify::" NM_IP_CONFIG_ADDRESSES, G_CALLBACK(refresh), d);
        g_signal_connect_swapped(cur, "notify::" NM_IP_CONFIG_GATEWAY, G_CALLBACK(refresh), d);
    }
}

static void refresh(Device *d)
{
    MipLinkInfo info;

    watch_ip4(d);
    if (!device_info(d, &info)) {
        report_removed(d);
        return;
    }
    if (d->reported && memcmp(&d->last, &info, sizeof info) == 0)
        return;
    /* A new name or ifindex is a different link for the core. */
    if (d->reported && (d->last.ifindex != info.ifindex || strcmp(d->last.name, info.name) != 0))
        report_removed(d);
    d->last = info;
    d->reported = TRUE;
    d->mon->cb.link_changed(&info, d->mon->cb.user);
}

static void device_free(gpointer data)
{
    Device *d = data;

    g_signal_handlers_disconnect_by_data(d->dev, d);
    if (d->ip4)
        g_signal_handlers_disconnect_by_data(d->ip4, d);
    g_clear_object(&d->ip4);
    g_object_unref(d->dev);
    g_free(d);
}

static void on_unmanaged(GObject *client, GAsyncResult *res, gpointer name)
{
    g_autoptr(GError) error = NULL;
    if (!nm_client_dbus_set_property_finish(NM_CLIENT(client), res, &error))
        g_warning("link-nm: cannot make NetworkManager leave %s alone: %s", (char *)name,
                  error->message);
    g_free(name);
}

/* mipd's tunnel device is mipd's: NetworkManager must not manage it (assume
 * a connection on it, or take its addresses away) whatever its config. */
static void keep_unmanaged(NMClient *client, NMDevice *dev)
{
    const char *name = nm_device_get_iface(dev);
    if (!name || !g_str_has_prefix(name, "mip") || !nm_device_get_managed(dev))
        return;
    g_message("link-nm: asking NetworkManager not to manage %s", name);
    nm_client_dbus_set_property(client, nm_object_get_path(NM_OBJECT(dev)),
                                NM_DBUS_INTERFACE_DEVICE, "Managed", g_variant_new_boolean(FALSE),
                                5000, NULL, on_unmanaged, g_strdup(name));
}

static void on_managed_changed(NMDevice *dev, GParamSpec *pspec, gpointer client)
{
    keep_unmanaged(client, dev);
}

static void on_device_added(NMClient *client, NMDevice *dev, gpointer data)
{
    /* The active connection carries no field of its own in MipLinkInfo, but
     * NM swaps it (and with it the IPv4 config) on re-activation. */
    static const char *const signals[] = {
        "notify::" NM_DEVICE_STATE,
        "notify::" NM_DEVICE_IP_INTERFACE,
        "notify::" NM_DEVICE_HW_ADDRESS,
        "notify::" NM_DEVICE_IP4_CONFIG,
        "notify::" NM_DEVICE_ACTIVE_CONNECTION,
    };
    MipLinkMonitor *mon = data;
    Device *d;

    if (g_hash_table_contains(mon->devices, dev))
        return;
    keep_unmanaged(client, dev);
    if (g_str_has_prefix(nm_device_get_iface(dev) ? nm_device_get_iface(dev) : "", "mip"))
        g_signal_connect(dev, "notify::" NM_DEVICE_MANAGED, G_CALLBACK(on_managed_changed),
                         client);
    d = g_new0(Device, 1);
    d->mon = mon;
    d->dev = g_object_ref(dev);
    g_hash_table_insert(mon->devices, dev, d);
    for (size_t i = 0; i < G_N_ELEMENTS(signals); i++)
        g_signal_connect_swapped(dev, signals[i], G_CALLBACK(refresh), d);
    /* Ethernet and friends (veth, vlan, bond, bridge...) have their own. */
    if (g_object_class_find_property(G_OBJECT_GET_CLASS(dev), "carrier"))
        g_signal_connect_swapped(dev, "notify::carrier", G_CALLBACK(refresh), d);
    refresh(d);
}

static void on_device_removed(G_GNUC_UNUSED NMClient *client, NMDevice *dev, gpointer data)
{
    MipLinkMonitor *mon = data;
    Device *d = g_hash_table_lookup(mon->devices, dev);

    if (!d)
        return;
    report_removed(d);
    g_hash_table_remove(mon->devices, dev);
}

static void on_client_ready(G_GNUC_UNUSED GObject *src, GAsyncResult *res, gpointer data)
{
    g_autofree Pending *pending = data;
    g_autoptr(GError) error = NULL;
    NMClient *client = nm_client_new_finish(res, &error);
    MipLinkMonitor *mon = pending->mon;
    const GPtrArray *devs;

    if (!mon) { /* stopped meanwhile */
        g_clear_object(&client);
        return;
    }
    mon->init = NULL;
    if (!client) {
        g_warning("link-nm: cannot talk to NetworkManager: %s", error->message);
        return;
    }
    mon->client = client;
    g_signal_connect(client, NM_CLIENT_DEVICE_ADDED, G_CALLBACK(on_device_added), mon);
    g_signal_connect(client, NM_CLIENT_DEVICE_REMOVED, G_CALLBACK(on_device_removed), mon);
    devs = nm_client_get_devices(client);
    for (guint i = 0; i < devs->len; i++)
        on_device_added(client, devs->pdata[i], mon);
}

static gboolean nm_available(char **why)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDBusConnection) bus = NULL;
    g_autoptr(GVariant) reply = NULL;
    gboolean owned = FALSE;

    /* GIO honours DBUS_SYSTEM_BUS_ADDRESS (the lab's private bus). */
    bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error);
    if (bus)
        reply = g_dbus_connection_call_sync(
            bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
            "NameHasOwner", g_variant_new("(s)", NM_DBUS_SERVICE), G_VARIANT_TYPE("(b)"),
            G_DBUS_CALL_FLAGS_NONE, 2000, NULL, &error);
    if (reply)
        g_variant_get(reply, "(b)", &owned);
    if (!owned && why)
        *why = error ? g_strdup_printf("no system bus: %s", error->message)
                     : g_strdup(NM_DBUS_SERVICE " is not running on the system bus");
    return owned;
}

static MipLinkMonitor *nm_start(const MipLinkMonitorCallbacks *cb, const char *const *ignore,
                                G_GNUC_UNUSED GError **error)
{
    MipLinkMonitor *mon = g_new0(MipLinkMonitor, 1);

    mon->cb = *cb;
    mon->ignore = g_strdupv((char **)ignore);
    mon->cancel = g_cancellable_new();
    mon->devices = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, device_free);
    mon->init = g_new0(Pending, 1);
    mon->init->mon = mon;
    /* Async: the daemon's loop must not block on NM. NMClient binds to the
     * thread-default context current here, and reports from it. */
    nm_client_new_async(mon->cancel, on_client_ready, mon->init);
    return mon;
}

static NMConnection *connection_for(NMDevice *dev)
{
    NMActiveConnection *ac = nm_device_get_active_connection(dev);
    const GPtrArray *avail = nm_device_get_available_connections(dev);
    NMConnection *best = NULL;
    guint64 best_ts = 0;

    if (ac && nm_active_connection_get_connection(ac))
        return NM_CONNECTION(nm_active_connection_get_connection(ac));
    /* Not active (any more): the profile NM used most recently, as
     * autoconnect would pick. */
    for (guint i = 0; avail && i < avail->len; i++) {
        NMConnection *c = NM_CONNECTION(avail->pdata[i]);
        NMSettingConnection *s = nm_connection_get_setting_connection(c);
        guint64 ts = s ? nm_setting_connection_get_timestamp(s) : 0;

        if (!best || ts > best_ts)
            best = c, best_ts = ts;
    }
    return best;
}

static void on_activated(GObject *src, GAsyncResult *res, gpointer data)
{
    g_autofree char *ifname = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(NMActiveConnection) ac =
        nm_client_activate_connection_finish(NM_CLIENT(src), res, &error);

    if (!ac && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_warning("link-nm: re-activating %s failed: %s", ifname, error->message);
}

static gboolean nm_reactivate(MipLinkMonitor *mon, const char *ifname, GError **error)
{
    GHashTableIter it;
    gpointer key;
    NMDevice *dev = NULL;
    NMConnection *conn;

    if (!mon->client) {
        g_set_error(error, link_nm_error(), 0, "link-nm: NetworkManager client not ready");
        return FALSE;
    }
    g_hash_table_iter_init(&it, mon->devices);
    while (!dev && g_hash_table_iter_next(&it, &key, NULL))
        if (g_strcmp0(device_name(key), ifname) == 0 ||
            g_strcmp0(nm_device_get_iface(key), ifname) == 0)
            dev = key;
    if (!dev) {
        g_set_error(error, link_nm_error(), 0, "link-nm: NetworkManager has no device %s", ifname);
        return FALSE;
    }
    conn = connection_for(dev);
    if (!conn) {
        g_set_error(error, link_nm_error(), 0, "link-nm: no connection profile for %s", ifname);
        return FALSE;
    }
    /* Activating the active profile again makes NM restart DHCP from
     * scratch: the way out of a lease kept across a carrier bounce. */
    nm_client_activate_connection_async(mon->client, conn, dev, NULL, mon->cancel, on_activated,
                                        g_strdup(ifname));
    return TRUE;
}

static void nm_stop(MipLinkMonitor *mon)
{
    if (!mon)
        return;
    g_cancellable_cancel(mon->cancel);
    if (mon->init)
        mon->init->mon = NULL;
    if (mon->client)
        g_signal_handlers_disconnect_by_data(mon->client, mon);
    g_clear_pointer(&mon->devices, g_hash_table_unref);
    g_clear_object(&mon->client);
    g_clear_object(&mon->cancel);
    g_strfreev(mon->ignore);
    g_free(mon);
}

const MipLinkMonitorOps mip_link_nm_ops = {
    .name = "nm",
    .available = nm_available,
    .start = nm_start,
    .reactivate = nm_reactivate,
    .stop = nm_stop,
};
