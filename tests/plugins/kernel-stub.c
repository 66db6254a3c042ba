/* Stands in for plugins/tunnel-kernel.c in the test build only, while that
 * back end is not in the tree: opening it fails the way a kernel without
 * ipip/gre would, so `auto` must fall back. */
#include <gio/gio.h>

#include "plugins/tunnel.h"

static MipTunnel *stub_open(GError **error)
{
    g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                        "the kernel tunnel back end is not built (test stub)");
    return NULL;
}

const MipTunnelOps mip_tunnel_kernel_ops = {
    .name = "kernel",
    .open = stub_open,
};
