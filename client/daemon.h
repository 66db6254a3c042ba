/* The daemon object: wires the sans-I/O core to the sockets (client/net), the
 * link and tunnel plugins and the routes, on the thread-default main loop. */
#pragma once

#include <glib.h>

#include "client/config.h"
#include "client/core/mn.h"

typedef struct MipDaemon MipDaemon;

/* Opens sockets, picks the link monitor and tunnel back end (probing when
 * configured "auto", logging why), cleans what a crashed run left, and starts
 * watching links. Takes ownership of cfg. */
MipDaemon *mip_daemon_new(MipdConfig *cfg, const char *config_path, GError **error);

/* Re-reads the configuration file; on error nothing changes. */
gboolean mip_daemon_reload(MipDaemon *d, GError **error);

/* Deregisters if registered away (waiting briefly for the reply), then
 * removes every address, route, rule and tunnel the daemon installed. */
void mip_daemon_shutdown(MipDaemon *d);
void mip_daemon_free(MipDaemon *d);

MipMn *mip_daemon_core(MipDaemon *d);

/* Who wants to hear about changes (the D-Bus service). Called after the core
 * finished an input, so queries see a consistent state. */
typedef struct MipDaemonObserver {
    void (*changed)(void *user);                      /* state, plan or binding */
    void (*event)(const MipMnEvent *ev, void *user);  /* one registration event */
    void *user;
} MipDaemonObserver;

void mip_daemon_set_observer(MipDaemon *d, const MipDaemonObserver *obs);

/* When the last tunnel/route plan was applied (apply_plan returned), on the
 * core's clock. A MIP_MN_EV_HANDOVER event follows the plan it reports, so
 * while it is delivered this is when the tunnel was switched. */
MipTime mip_daemon_plan_applied_at(MipDaemon *d);

/* After a command changed the core (D-Bus method): re-arm the timer. */
void mip_daemon_poke(MipDaemon *d);

/* Tunnel packet counters (0 without a tunnel). */
void mip_daemon_tunnel_counters(MipDaemon *d, guint64 *tx, guint64 *rx);

/* The configured D-Bus control group, or NULL (root only). */
const char *mip_daemon_control_group(MipDaemon *d);

/* Converts the file configuration into the core's. */
gboolean mip_daemon_core_config(const MipdConfig *cfg, MipMnConfig *out, GError **error);
