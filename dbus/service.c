/* Exports the core's state as org.mipd.MobileNode1 and carries out method
 * calls after checking the caller's credentials. */
#include "service.h"

#include <arpa/inet.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "mipd-dbus.h"
#include "dbus/variants.h"

#define BUS_NAME "org.mipd.MobileNode1"
#define OBJECT_PATH "/org/mipd/MobileNode1"

struct MipDBusService {
    MipDaemon *daemon;
    MipDBusMobileNode1 *skeleton;
    guint owner_id;
    char last_ifname[MIP_IFNAME_MAX];
};

static const GDBusErrorEntry error_entries[] = {
    {MIP_DBUS_ERROR_FAILED, "org.mipd.MobileNode1.Error.Failed"},
    {MIP_DBUS_ERROR_ACCESS_DENIED, "org.mipd.MobileNode1.Error.AccessDenied"},
    {MIP_DBUS_ERROR_NO_SUCH_LINK, "org.mipd.MobileNode1.Error.NoSuchLink"},
    {MIP_DBUS_ERROR_LINK_UNUSABLE, "org.mipd.MobileNode1.Error.LinkUnusable"},
    {MIP_DBUS_ERROR_INVALID_CONFIG, "org.mipd.MobileNode1.Error.InvalidConfig"},
};

GQuark mip_dbus_error_quark(void)
{
    static gsize quark;
    g_dbus_error_register_error_domain("mip-dbus-error-quark", &quark, error_entries,
                                       G_N_ELEMENTS(error_entries));
    return (GQuark)quark;
}

/* --- properties ----------------------------------------------------------- */

static void set_statistics(MipDBusService *s, MipMn *mn)
{
    guint64 tx, rx;
    mip_daemon_tunnel_counters(s->daemon, &tx, &rx);
    GVariant *v = mip_variant_statistics(mn, tx, rx);
    GVariant *old = mip_dbus_mobile_node1_get_statistics(s->skeleton);
    /* Only a real change may cause PropertiesChanged. */
    if (old && g_variant_equal(old, v)) {
        g_variant_unref(g_variant_ref_sink(v));
        return;
    }
    mip_dbus_mobile_node1_set_statistics(s->skeleton, v);
}

static void refresh(void *user)
{
    MipDBusService *s = user;
    MipMn *mn = mip_daemon_core(s->daemon);
    MipMnStatus st;
    mip_mn_get_status(mn, &st);
    MipDBusMobileNode1 *o = s->skeleton;
    char buf[INET_ADDRSTRLEN];

    mip_dbus_mobile_node1_set_state(o, mip_mn_state_name(st.state));
    mip_dbus_mobile_node1_set_home_address(o, mip_ip4_str(st.home_address, buf));
    mip_dbus_mobile_node1_set_home_agent(o, mip_ip4_str(st.home_agent, buf));
    mip_dbus_mobile_node1_set_care_of_address(o, mip_ip4_str(st.care_of_address, buf));
    mip_dbus_mobile_node1_set_care_of_mode(o, mip_plan_mode_name(st.mode));
    mip_dbus_mobile_node1_set_foreign_agent(o, mip_ip4_str(st.foreign_agent, buf));
    mip_dbus_mobile_node1_set_interface(o, st.ifname);
    mip_dbus_mobile_node1_set_encapsulation(o, mip_encap_name(st.encapsulation));
    mip_dbus_mobile_node1_set_reverse_tunnel(o, st.reverse_tunnel);
    mip_dbus_mobile_node1_set_nat_traversal(o, st.udp_tunnel);
    mip_dbus_mobile_node1_set_lifetime(o, st.granted_lifetime);
    mip_dbus_mobile_node1_set_registered_at(o, st.registered_at_wall);
    mip_dbus_mobile_node1_set_expires_at(o, st.expires_at_wall);
    mip_dbus_mobile_node1_set_last_reply_code(o, st.last_reply_code);
    mip_dbus_mobile_node1_set_last_error(o, st.last_error);
    set_statistics(s, mn);
    /* The interface of the attachment in force (a binding or home), for the
     * next HandoverCompleted's old-interface. Not while between two: the
     * old one is still the one we left. */
    if (st.mode != MIP_PLAN_NONE)
        g_strlcpy(s->last_ifname, st.ifname, sizeof s->last_ifname);
    /* One PropertiesChanged per turn of the main loop, now: the skeleton
     * would otherwise batch changes in its own idle and a short state (say
     * registering -> registered within a few ms) would never be seen by
     * `mipc monitor`. */
    g_dbus_interface_skeleton_flush(G_DBUS_INTERFACE_SKELETON(o));
}

static void on_event(const MipMnEvent *ev, void *user)
{
    MipDBusService *s = user;
    MipMn *mn = mip_daemon_core(s->daemon);
    mip_dbus_mobile_node1_emit_event(s->skeleton, mip_variant_event(mn, ev));
    if (ev->type == MIP_MN_EV_DENIED || ev->type == MIP_MN_EV_GAVE_UP)
        mip_dbus_mobile_node1_emit_registration_failed(s->skeleton, ev->code, ev->message);
    /* The core reports the new binding's "accepted" before the "handover"
     * that switches to it, within one input: last_ifname (kept by refresh(),
     * which runs once per main-loop turn) still names the link we left. */
    if (ev->type == MIP_MN_EV_HANDOVER) {
        MipMnStatus st;
        mip_mn_get_status(mn, &st);
        mip_dbus_mobile_node1_emit_handover_completed(
            s->skeleton,
            mip_variant_handover(s->last_ifname, &st, ev, mip_daemon_plan_applied_at(s->daemon)));
        g_strlcpy(s->last_ifname, st.ifname, sizeof s->last_ifname);
    }
}

/* --- access --------------------------------------------------------------- */

static gboolean uid_in_group(uid_t uid, const char *group)
{
    struct group *gr = getgrnam(group);
    struct passwd *pw = getpwuid(uid);
    if (!gr || !pw)
        return FALSE;
    int n = 64;
    g_autofree gid_t *groups = g_new(gid_t, n);
    if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0) {
        g_free(groups);
        groups = g_new(gid_t, n);
        if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
            return FALSE;
    }
    for (int i = 0; i < n; i++)
        if (groups[i] == gr->gr_gid)
            return TRUE;
    return FALSE;
}

/* The bus policy already refuses these calls to strangers; this second check
 * holds even under a permissive or broken policy. */
static gboolean caller_allowed(MipDBusService *s, GDBusMethodInvocation *inv)
{
    GDBusConnection *c = g_dbus_method_invocation_get_connection(inv);
    const char *sender = g_dbus_method_invocation_get_sender(inv);
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) r = g_dbus_connection_call_sync(
        c, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
        "GetConnectionUnixUser", g_variant_new("(s)", sender), G_VARIANT_TYPE("(u)"),
        G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
    if (!r) {
        g_dbus_method_invocation_return_error(inv, MIP_DBUS_ERROR, MIP_DBUS_ERROR_ACCESS_DENIED,
                                              "cannot identify the caller: %s",
                                              error->message);
        return FALSE;
    }
    guint32 uid;
    g_variant_get(r, "(u)", &uid);
    const char *group = mip_daemon_control_group(s->daemon);
    if (uid == 0 || (group && uid_in_group(uid, group)))
        return TRUE;
    const char *method = g_dbus_method_invocation_get_method_name(inv);
    g_message("refused %s from uid %u (%s)", method, uid, sender);
    g_dbus_method_invocation_return_error(
        inv, MIP_DBUS_ERROR, MIP_DBUS_ERROR_ACCESS_DENIED,
        "%s needs root%s%s%s", method, group ? " or membership of group '" : "",
        group ? group : "", group ? "'" : "");
    return FALSE;
}

/* --- methods -------------------------------------------------------------- */

static gboolean return_core_error(GDBusMethodInvocation *inv, MipMnError err)
{
    int code = err == MIP_MN_ERR_NO_SUCH_LINK   ? MIP_DBUS_ERROR_NO_SUCH_LINK
               : err == MIP_MN_ERR_LINK_IGNORED ? MIP_DBUS_ERROR_LINK_UNUSABLE
               : err == MIP_MN_ERR_LINK_UNUSABLE ? MIP_DBUS_ERROR_LINK_UNUSABLE
               : err == MIP_MN_ERR_INVALID_CONFIG ? MIP_DBUS_ERROR_INVALID_CONFIG
                                                  : MIP_DBUS_ERROR_FAILED;
    g_dbus_method_invocation_return_error(inv, MIP_DBUS_ERROR, code, "%s",
                                          mip_mn_strerror(err));
    return TRUE;
}

static gboolean on_register(MipDBusMobileNode1 *o, GDBusMethodInvocation *inv, gpointer user)
{
    MipDBusService *s = user;
    if (!caller_allowed(s, inv))
        return TRUE;
    MipMnError err = mip_mn_register(mip_daemon_core(s->daemon), g_get_monotonic_time());
    mip_daemon_poke(s->daemon);
    if (err != MIP_MN_OK)
        return return_core_error(inv, err);
    mip_dbus_mobile_node1_complete_register(o, inv);
    return TRUE;
}

static gboolean on_deregister(MipDBusMobileNode1 *o, GDBusMethodInvocation *inv, gpointer user)
{
    MipDBusService *s = user;
    if (!caller_allowed(s, inv))
        return TRUE;
    MipMnError err = mip_mn_deregister(mip_daemon_core(s->daemon), g_get_monotonic_time());
    mip_daemon_poke(s->daemon);
    if (err != MIP_MN_OK)
        return return_core_error(inv, err);
    mip_dbus_mobile_node1_complete_deregister(o, inv);
    return TRUE;
}

static gboolean on_handover(MipDBusMobileNode1 *o, GDBusMethodInvocation *inv,
                            const char *ifname, gpointer user)
{
    MipDBusService *s = user;
    if (!caller_allowed(s, inv))
        return TRUE;
    MipMnError err =
        mip_mn_handover(mip_daemon_core(s->daemon), ifname, g_get_monotonic_time());
    mip_daemon_poke(s->daemon);
    if (err != MIP_MN_OK)
        return return_core_error(inv, err);
    mip_dbus_mobile_node1_complete_handover(o, inv);
    return TRUE;
}

static gboolean on_reload(MipDBusMobileNode1 *o, GDBusMethodInvocation *inv, gpointer user)
{
    MipDBusService *s = user;
    if (!caller_allowed(s, inv))
        return TRUE;
    g_autoptr(GError) error = NULL;
    if (!mip_daemon_reload(s->daemon, &error)) {
        g_dbus_method_invocation_return_error(inv, MIP_DBUS_ERROR,
                                              MIP_DBUS_ERROR_INVALID_CONFIG,
                                              "reload failed, old configuration kept: %s",
                                              error->message);
        return TRUE;
    }
    mip_dbus_mobile_node1_complete_reload(o, inv);
    return TRUE;
}

static gboolean on_get_agents(MipDBusMobileNode1 *o, GDBusMethodInvocation *inv, gpointer user)
{
    MipDBusService *s = user;
    mip_dbus_mobile_node1_complete_get_agents(o, inv,
                                              mip_variant_agents(mip_daemon_core(s->daemon)));
    return TRUE;
}

static gboolean on_get_links(MipDBusMobileNode1 *o, GDBusMethodInvocation *inv, gpointer user)
{
    MipDBusService *s = user;
    mip_dbus_mobile_node1_complete_get_links(o, inv,
                                             mip_variant_links(mip_daemon_core(s->daemon)));
    return TRUE;
}

/* --- bus ------------------------------------------------------------------ */

static void on_bus_acquired(GDBusConnection *c, const char *name, gpointer user)
{
    MipDBusService *s = user;
    g_autoptr(GError) error = NULL;
    if (!g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(s->skeleton), c,
                                          OBJECT_PATH, &error))
        g_warning("D-Bus: cannot export %s: %s", OBJECT_PATH, error->message);
}

static void on_name_acquired(GDBusConnection *c, const char *name, gpointer user)
{
    g_message("D-Bus: serving %s", name);
}

static void on_name_lost(GDBusConnection *c, const char *name, gpointer user)
{
    if (!c)
        g_warning("D-Bus: no system bus; mipc will not reach this mipd");
    else
        g_warning("D-Bus: could not own %s (another mipd running, or the bus policy "
                  "refuses it); mipc will not reach this mipd",
                  name);
}

MipDBusService *mip_dbus_service_new(MipDaemon *d)
{
    (void)MIP_DBUS_ERROR;
    MipDBusService *s = g_new0(MipDBusService, 1);
    s->daemon = d;
    s->skeleton = mip_dbus_mobile_node1_skeleton_new();
    g_signal_connect(s->skeleton, "handle-register", G_CALLBACK(on_register), s);
    g_signal_connect(s->skeleton, "handle-deregister", G_CALLBACK(on_deregister), s);
    g_signal_connect(s->skeleton, "handle-handover", G_CALLBACK(on_handover), s);
    g_signal_connect(s->skeleton, "handle-reload", G_CALLBACK(on_reload), s);
    g_signal_connect(s->skeleton, "handle-get-agents", G_CALLBACK(on_get_agents), s);
    g_signal_connect(s->skeleton, "handle-get-links", G_CALLBACK(on_get_links), s);
    refresh(s);
    MipDaemonObserver obs = {.changed = refresh, .event = on_event, .user = s};
    mip_daemon_set_observer(d, &obs);
    s->owner_id = g_bus_own_name(G_BUS_TYPE_SYSTEM, BUS_NAME, G_BUS_NAME_OWNER_FLAGS_NONE,
                                 on_bus_acquired, on_name_acquired, on_name_lost, s, NULL);
    return s;
}

void mip_dbus_service_free(MipDBusService *s)
{
    if (!s)
        return;
    MipDaemonObserver none = {0};
    mip_daemon_set_observer(s->daemon, &none);
    g_bus_unown_name(s->owner_id);
    if (g_dbus_interface_skeleton_get_connection(G_DBUS_INTERFACE_SKELETON(s->skeleton)))
        g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(s->skeleton));
    g_object_unref(s->skeleton);
    g_free(s);
}
