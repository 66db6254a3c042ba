/* Picks the tunnel back end by name from the configuration: "kernel",
 * "tun", or "auto" (the kernel's ipip/gre links when the kernel has them,
 * otherwise the user-space TUN tunnel, saying why in the log). */
#include <gio/gio.h>

#include "plugins/tunnel.h"

static MipTunnel *open_one(const MipTunnelOps *ops, const MipTunnelOps **chosen, GError **error)
{
    MipTunnel *t = ops->open(error);

    if (t && chosen)
        *chosen = ops;
    return t;
}

MipTunnel *mip_tunnel_open_by_name(const char *name, const MipTunnelOps **chosen, GError **error)
{
    g_autoptr(GError) kernel_error = NULL;
    g_autoptr(GError) tun_error = NULL;
    MipTunnel *t;

    if (chosen)
        *chosen = NULL;
    if (g_strcmp0(name, "kernel") == 0) {
        /* Its messages already start with "kernel tunnel:". */
        return open_one(&mip_tunnel_kernel_ops, chosen, error);
    }
    if (g_strcmp0(name, "tun") == 0) {
        t = open_one(&mip_tunnel_tun_ops, chosen, error);
        if (!t)
            g_prefix_error(error, "TUN tunnel back end: ");
        return t;
    }
    if (name && g_strcmp0(name, "auto") != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "unknown tunnel back end '%s' (expected kernel, tun or auto)", name);
        return NULL;
    }

    /* The kernel's tunnel is faster (no copies through user space): try it
     * first, and fall back loudly so an operator knows which one runs. */
    t = open_one(&mip_tunnel_kernel_ops, chosen, &kernel_error);
    if (t)
        return t;
    g_message("tunnel: kernel back end unavailable (%s); using the user-space TUN back end",
              kernel_error->message);
    t = open_one(&mip_tunnel_tun_ops, chosen, &tun_error);
    if (t)
        return t;
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                "no tunnel back end works here: kernel: %s; TUN: %s", kernel_error->message,
                tun_error->message);
    return NULL;
}
