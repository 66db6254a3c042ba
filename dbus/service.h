/* mipd's D-Bus service: exports org.mipd.MobileNode1 on the system bus,
 * mirrors the core's state into its properties, and carries out method calls
 * for callers that are allowed to make them. */
#pragma once

#include <glib.h>

#include "client/daemon.h"

typedef struct MipDBusService MipDBusService;

/* Owns org.mipd.MobileNode1 on the system bus (DBUS_SYSTEM_BUS_ADDRESS is
 * honoured). Never fails hard: without a bus, mipd runs and says so. */
MipDBusService *mip_dbus_service_new(MipDaemon *d);
void mip_dbus_service_free(MipDBusService *s);

/* Error names: org.mipd.MobileNode1.Error.* */
#define MIP_DBUS_ERROR (mip_dbus_error_quark())
GQuark mip_dbus_error_quark(void);
typedef enum {
    MIP_DBUS_ERROR_FAILED,
    MIP_DBUS_ERROR_ACCESS_DENIED,
    MIP_DBUS_ERROR_NO_SUCH_LINK,
    MIP_DBUS_ERROR_LINK_UNUSABLE,
    MIP_DBUS_ERROR_INVALID_CONFIG,
} MipDBusError;
