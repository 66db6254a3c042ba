/* tunnel-tun: the mobile node's end of the tunnel in user space, for kernels
 * without ipip/gre modules: a TUN device mip0 plus a raw IPIP, GRE or minimal
 * encapsulation socket bound to the care-of address, run on the GLib loop. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <linux/if_tun.h>
#include <netinet/ip_icmp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>

#include "plugins/tunnel-encap.h"
#include "plugins/tunnel.h"

enum {
    BATCH = 32,           /* packets per recvmmsg/sendmmsg */
    RETIRE_MS = 3000,     /* how long the old care-of address is still read */
    ROUNDS = 8,           /* batches per wake-up, so one direction cannot starve the other */
    SLOT = 65536,         /* a reassembled outer packet can be this large */
    TX_SLOT = 65536,      /* mip0's MTU follows the link's, jumbo frames included */
    RAW_RCVBUF = 4 << 20, /* a full buffer makes the kernel send unreachables (LAB.md) */
};

struct MipTunnel {
    int tun_fd;
    int ctl_fd; /* AF_INET datagram socket for interface ioctls */
    int ifindex;
    char ifname[IFNAMSIZ];

    /* The data plane, present only in co-located mode. */
    int raw_fd;
    int raw_proto;
    MipPlan plan;
    /* The socket of the care-of address we just left: while the home agent
     * still holds both bindings (make-before-break) its copies keep arriving
     * there, so it is read for RETIRE_MS more (or until the next switch). */
    int old_fd;
    int old_proto;
    GSource *old_source;
    GSource *old_timer;
    gboolean running;

    GMainContext *ctx;
    GSource *tun_source, *raw_source;

    uint8_t *tx_buf; /* BATCH slots of TX_SLOT: packets read from mip0 */
    uint8_t (*tx_hdr)[MIP_ENCAP_HDR_MAX];
    uint8_t *rx_buf;     /* BATCH slots of SLOT: packets from the raw socket */
    guint32 icmp_logged; /* ICMP error kinds already logged (see note_icmp) */

    MipTunnelStats st;
};

static gboolean set_error_errno(GError **error, int err, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static gboolean set_error_errno(GError **error, int err, const char *fmt, ...)
{
    g_autofree char *what = NULL;
    va_list ap;

    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "%s: %s", what, g_strerror(err));
    return FALSE;
}

static gboolean ifreq_ioctl(MipTunnel *t, unsigned long req, struct ifreq *ifr)
{
    g_strlcpy(ifr->ifr_name, t->ifname, sizeof ifr->ifr_name);
    return ioctl(t->ctl_fd, req, ifr) == 0;
}

static gboolean set_up(MipTunnel *t, gboolean up, GError **error)
{
    struct ifreq ifr = {0};

    if (!ifreq_ioctl(t, SIOCGIFFLAGS, &ifr))
        return set_error_errno(error, errno, "reading the flags of %s", t->ifname);
    if (!!(ifr.ifr_flags & IFF_UP) == !!up)
        return TRUE;
    ifr.ifr_flags = up ? (short)(ifr.ifr_flags | IFF_UP) : (short)(ifr.ifr_flags & ~IFF_UP);
    if (!ifreq_ioctl(t, SIOCSIFFLAGS, &ifr))
        return set_error_errno(error, errno, "setting %s up or down", t->ifname);
    return TRUE;
}

static gboolean set_mtu(MipTunnel *t, int mtu, GError **error)
{
    struct ifreq ifr = {0};

    ifr.ifr_mtu = mtu;
    if (!ifreq_ioctl(t, SIOCSIFMTU, &ifr))
        return set_error_errno(error, errno, "setting the MTU of %s", t->ifname);
    return TRUE;
}

static int link_mtu(MipTunnel *t, const char *ifname)
{
    struct ifreq ifr = {0};

    g_strlcpy(ifr.ifr_name, ifname, sizeof ifr.ifr_name);
    if (ioctl(t->ctl_fd, SIOCGIFMTU, &ifr) != 0)
        return 1500;
    return ifr.ifr_mtu;
}

/* Best effort: a read-only /proc/sys (some containers) must not stop the
 * tunnel, it only makes it noisier. */
static void write_sysctl(const char *path, const char *value)
{
    FILE *f = fopen(path, "we");
    gboolean ok;

    if (!f) {
        g_debug("tunnel-tun: cannot open %s: %s", path, g_strerror(errno));
        return;
    }
    ok = fputs(value, f) >= 0;
    if (fclose(f) != 0 || !ok)
        g_debug("tunnel-tun: cannot write %s", path);
}

static MipTunnel *tun_open(GError **error)
{
    g_autofree MipTunnel *t = g_new0(MipTunnel, 1);
    struct ifreq ifr = {0};
    char path[96];

    t->raw_fd = -1;
    t->old_fd = -1;
    t->tun_fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (t->tun_fd < 0) {
        set_error_errno(error, errno, "opening %s (the TUN driver)", "/dev/net/tun");
        return NULL;
    }
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    g_strlcpy(ifr.ifr_name, MIP_TUNNEL_IFNAME, sizeof ifr.ifr_name);
    if (ioctl(t->tun_fd, TUNSETIFF, &ifr) != 0) {
        int err = errno;
        close(t->tun_fd);
        /* EBUSY: another process (a second mipd?) holds mip0 in this namespace. */
        set_error_errno(error, err, "creating the TUN device %s", MIP_TUNNEL_IFNAME);
        return NULL;
    }
    g_strlcpy(t->ifname, ifr.ifr_name, sizeof t->ifname);
    t->ctl_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    t->ifindex = (int)if_nametoindex(t->ifname);
    if (t->ctl_fd < 0 || t->ifindex == 0) {
        int err = errno;
        if (t->ctl_fd >= 0)
            close(t->ctl_fd);
        close(t->tun_fd);
        set_error_errno(error, err, "setting up %s", MIP_TUNNEL_IFNAME);
        return NULL;
    }
    /* Only IPv4 is tunnelled; IPv6 on mip0 would just feed it router
     * solicitations to drop. Packets from the agent arrive on mip0 while the
     * reply may leave elsewhere (reverse tunnelling off): no strict rp_filter. */
    snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", t->ifname);
    write_sysctl(path, "1");
    snprintf(path, sizeof path, "/proc/sys/net/ipv4/conf/%s/rp_filter", t->ifname);
    write_sysctl(path, "0");

    if (!set_mtu(t, 1500 - (int)mip_encap_overhead(MIP_ENCAP_IPIP), error)) {
        close(t->ctl_fd);
        close(t->tun_fd);
        return NULL;
    }
    t->ctx = g_main_context_ref_thread_default();
    t->tx_buf = g_malloc((gsize)BATCH * TX_SLOT);
    t->tx_hdr = g_malloc((gsize)BATCH * sizeof *t->tx_hdr);
    t->rx_buf = g_malloc((gsize)BATCH * SLOT);
    return g_steal_pointer(&t);
}

static void count_tx_drop(MipTunnel *t, guint n)
{
    t->st.tx_dropped += n;
}

static const char *encap_name(int proto)
{
    return proto == MIP_IPPROTO_GRE ? "GRE" : proto == MIP_IPPROTO_MINIMAL ? "minimal" : "IPIP";
}

/* Says once per kind (until the data plane restarts) what the path to the
 * home agent reports: "protocol unreachable" means the agent does not take
 * this encapsulation, which an operator wants to know. */
static void note_icmp(MipTunnel *t, const struct sock_extended_err *ee,
                      const struct sockaddr_in *off)
{
    char from[INET_ADDRSTRLEN] = "?";
    guint32 bit =
        ee->ee_type == ICMP_DEST_UNREACH && ee->ee_code < 31 ? 1u << ee->ee_code : 1u << 31;

    t->st.icmp_errors++;
    if (t->icmp_logged & bit)
        return;
    t->icmp_logged |= bit;
    if (off->sin_family == AF_INET)
        inet_ntop(AF_INET, &off->sin_addr, from, sizeof from);
    if (ee->ee_type == ICMP_DEST_UNREACH && ee->ee_code == ICMP_PROT_UNREACH)
        /* Also sent by a Linux agent whose tunnel socket's buffer overflowed. */
        g_message("tunnel-tun: %s reports protocol unreachable: the home agent does not "
                  "accept %s-encapsulated packets (or is overloaded)",
                  from, encap_name(t->raw_proto));
    else
        g_message("tunnel-tun: ICMP type %u code %u from %s on the path to the home agent "
                  "(%s)",
                  ee->ee_type, ee->ee_code, from, g_strerror((int)ee->ee_errno));
}

/* Reads the ICMP errors queued on the tunnel socket (IP_RECVERR) and clears
 * the pending socket error; without this poll() keeps reporting POLLERR
 * and the loop spins (LAB.md). */
static void drain_errors(MipTunnel *t, int fd)
{
    int err = 0;
    socklen_t l = sizeof err;

    for (int i = 0; i < 64; i++) {
        uint8_t data[128];
        union {
            char buf[CMSG_SPACE(sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in))];
            struct cmsghdr align;
        } ctl;
        struct iovec iov = {data, sizeof data};
        struct msghdr m = {.msg_iov = &iov,
                           .msg_iovlen = 1,
                           .msg_control = ctl.buf,
                           .msg_controllen = sizeof ctl.buf};

        if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
            break;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
            struct sock_extended_err ee;
            struct sockaddr_in off = {0};
            if (c->cmsg_level != SOL_IP || c->cmsg_type != IP_RECVERR ||
                c->cmsg_len < CMSG_LEN(sizeof ee + sizeof off))
                continue;
            /* Copied out: control data need not be aligned for these. */
            memcpy(&ee, CMSG_DATA(c), sizeof ee);
            memcpy(&off, CMSG_DATA(c) + sizeof ee, sizeof off);
            if (ee.ee_origin == SO_EE_ORIGIN_ICMP)
                note_icmp(t, &ee, &off);
        }
    }
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
}

/* Sends msgs[0..n) (inner[k]: the length of the packet msgs[k] carries,
 * what tx_bytes counts): a pending ICMP error makes the next send fail once
 * (the kernel reports it there), so clear and retry; other failures drop. */
static void send_batch(MipTunnel *t, struct mmsghdr *msgs, const size_t *inner, guint n)
{
    guint i = 0;
    gboolean retried = FALSE;

    while (i < n) {
        int r = sendmmsg(t->raw_fd, msgs + i, n - i, MSG_DONTWAIT);
        if (r > 0) {
            for (guint k = i; k < i + (guint)r; k++) {
                t->st.tx_packets++;
                t->st.tx_bytes += inner[k];
            }
            i += (guint)r;
            retried = FALSE;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (!retried && errno != EAGAIN && errno != ENOBUFS && errno != EMSGSIZE) {
            drain_errors(t, t->raw_fd);
            retried = TRUE;
            continue;
        }
        if (errno == EAGAIN || errno == ENOBUFS) {
            count_tx_drop(t, n - i); /* like a full queue on a router: drop, don't block */
            return;
        }
        g_debug("tunnel-tun: send to the home agent failed: %s", g_strerror(errno));
        count_tx_drop(t, 1);
        i++;
        retried = FALSE;
    }
}

static gboolean on_tun_readable(int fd, GIOCondition cond, gpointer user)
{
    MipTunnel *t = user;
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH][2];
    size_t inner[BATCH];
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl[BATCH];
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(t->plan.home_agent)};

    if (cond & (G_IO_ERR | G_IO_HUP)) {
        /* mip0 was deleted under us: the descriptor now reports an error
         * forever, so stop watching it rather than spin. */
        g_warning("tunnel-tun: %s was removed by someone else; the tunnel is down", t->ifname);
        g_source_unref(t->tun_source);
        t->tun_source = NULL;
        return G_SOURCE_REMOVE;
    }
    for (int round = 0; round < ROUNDS; round++) {
        guint n = 0;
        gboolean drained = FALSE;

        while (n < BATCH) {
            uint8_t *pkt = t->tx_buf + (gsize)n * TX_SLOT;
            ssize_t len = read(fd, pkt, TX_SLOT);
            MipEncapVerdict v;

            if (len < 0) {
                if (errno == EINTR)
                    continue;
                drained = TRUE; /* EAGAIN, or the device went away: poll will tell */
                break;
            }
            v = mip_encap_check(pkt, (size_t)len, t->plan.home_address, t->plan.encap);
            if (v == MIP_ENCAP_DROP) {
                count_tx_drop(t, 1);
                continue;
            }
            memset(&msgs[n], 0, sizeof msgs[n]);
            msgs[n].msg_hdr.msg_name = &to;
            msgs[n].msg_hdr.msg_namelen = sizeof to;
            msgs[n].msg_hdr.msg_iov = iov[n];
            if (t->plan.encap != MIP_ENCAP_MINIMAL) {
                /* RFC 2003 §3.1 / RFC 6040: the outer TOS and ECN copy the
                 * inner ones; the kernel writes this outer header. */
                struct cmsghdr *c = &ctl[n].align;
                int tos = pkt[1];
                msgs[n].msg_hdr.msg_control = ctl[n].buf;
                msgs[n].msg_hdr.msg_controllen = sizeof ctl[n].buf;
                c->cmsg_level = IPPROTO_IP;
                c->cmsg_type = IP_TOS;
                c->cmsg_len = CMSG_LEN(sizeof tos);
                memcpy(CMSG_DATA(c), &tos, sizeof tos);
            }
            if (t->plan.encap == MIP_ENCAP_GRE) {
                /* Never written through; iovec merely lacks const. */
                iov[n][0] = (struct iovec){(void *)mip_gre_header, MIP_GRE_HDR_LEN};
                iov[n][1] = (struct iovec){pkt, (size_t)len};
                msgs[n].msg_hdr.msg_iovlen = 2;
            } else if (t->plan.encap == MIP_ENCAP_MINIMAL) {
                size_t ihl = (size_t)(pkt[0] & 15) * 4, hl;
                /* This socket writes whole headers (IP_HDRINCL): the
                 * original header, modified, is the outer one. */
                if (v == MIP_ENCAP_SEND_IPIP) {
                    mip_encap_ipip_header(pkt, (size_t)len, t->plan.care_of_address,
                                          t->plan.home_agent, t->tx_hdr[n]);
                    hl = 20;
                    ihl = 0;
                } else {
                    hl = mip_encap_minimal_header(pkt, (size_t)len, t->plan.care_of_address,
                                                  t->plan.home_agent, t->tx_hdr[n]);
                }
                if (!hl) {
                    count_tx_drop(t, 1);
                    continue;
                }
                iov[n][0] = (struct iovec){t->tx_hdr[n], hl};
                iov[n][1] = (struct iovec){pkt + ihl, (size_t)len - ihl};
                msgs[n].msg_hdr.msg_iovlen = 2;
            } else {
                iov[n][0] = (struct iovec){pkt, (size_t)len};
                msgs[n].msg_hdr.msg_iovlen = 1;
            }
            inner[n++] = (size_t)len;
        }
        if (n)
            send_batch(t, msgs, inner, n);
        if (drained)
            break;
    }
    return G_SOURCE_CONTINUE;
}

static void deliver(MipTunnel *t, int proto, uint8_t *pkt, size_t len)
{
    MipDecapVerdict v;
    size_t off = 0, inner_len = 0;

    v = mip_decap(proto, pkt, len, t->plan.home_agent, t->plan.home_address, &off, &inner_len);
    switch (v) {
    case MIP_DECAP_OK:
        break;
    case MIP_DECAP_NOT_FROM_AGENT:
        t->st.rx_not_from_agent++;
        t->st.rx_dropped++;
        return;
    case MIP_DECAP_NOT_FOR_HOME:
        t->st.rx_not_for_home++;
        t->st.rx_dropped++;
        return;
    case MIP_DECAP_MALFORMED:
        t->st.rx_malformed++;
        t->st.rx_dropped++;
        return;
    }
    /* TUN takes one packet per write; there is no batched write for it
     * without IFF_VNET_HDR offloads. */
    if (write(t->tun_fd, pkt + off, inner_len) != (ssize_t)inner_len) {
        t->st.rx_dropped++;
        return;
    }
    t->st.rx_packets++;
    t->st.rx_bytes += inner_len;
}

static gboolean on_raw_readable(int fd, GIOCondition cond, gpointer user)
{
    MipTunnel *t = user;
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    int proto = fd == t->old_fd ? t->old_proto : t->raw_proto;

    if (cond & G_IO_ERR)
        drain_errors(t, fd);
    if (!(cond & G_IO_IN))
        return G_SOURCE_CONTINUE;

    for (int round = 0; round < ROUNDS; round++) {
        int r;

        memset(msgs, 0, sizeof msgs);
        for (guint i = 0; i < BATCH; i++) {
            iov[i] = (struct iovec){t->rx_buf + (gsize)i * SLOT, SLOT};
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        r = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            /* A pending ICMP error is also reported here: clear it. */
            if (errno != EAGAIN)
                drain_errors(t, fd);
            break;
        }
        for (int i = 0; i < r; i++) {
            if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
                t->st.rx_malformed++;
                t->st.rx_dropped++;
                continue;
            }
            deliver(t, proto, iov[i].iov_base, msgs[i].msg_len);
        }
        if (r < BATCH)
            break;
    }
    return G_SOURCE_CONTINUE;
}

static void detach_source(GSource **s)
{
    if (*s) {
        g_source_destroy(*s);
        g_source_unref(*s);
        *s = NULL;
    }
}

static GSource *attach_fd(MipTunnel *t, int fd, GUnixFDSourceFunc fn)
{
    GSource *s = g_unix_fd_source_new(fd, G_IO_IN | G_IO_ERR | G_IO_HUP);

    g_source_set_callback(s, G_SOURCE_FUNC(fn), t, NULL);
    g_source_set_name(s, "mipd tunnel-tun");
    g_source_attach(s, t->ctx);
    return s;
}

static void close_retired(MipTunnel *t)
{
    detach_source(&t->old_source);
    detach_source(&t->old_timer);
    if (t->old_fd >= 0)
        close(t->old_fd);
    t->old_fd = -1;
}

static gboolean on_retire_timeout(gpointer user)
{
    close_retired(user);
    return G_SOURCE_REMOVE;
}

/* Keeps reading the current socket for a while instead of closing it, and
 * reads what already queued there now. A later switch closes it at once,
 * so no more than one old care-of address is ever read (more would only
 * add duplicates). */
static void retire_current(MipTunnel *t)
{
    close_retired(t);
    detach_source(&t->raw_source);
    t->old_fd = t->raw_fd;
    t->old_proto = t->raw_proto;
    t->raw_fd = -1;
    t->old_source = attach_fd(t, t->old_fd, on_raw_readable);
    t->old_timer = g_timeout_source_new(RETIRE_MS);
    g_source_set_callback(t->old_timer, on_retire_timeout, t, NULL);
    g_source_attach(t->old_timer, t->ctx);
    on_raw_readable(t->old_fd, G_IO_IN, t);
}

static void stop_data_plane(MipTunnel *t)
{
    close_retired(t);
    detach_source(&t->tun_source);
    detach_source(&t->raw_source);
    if (t->raw_fd >= 0)
        close(t->raw_fd);
    t->raw_fd = -1;
    t->raw_proto = 0;
    t->running = FALSE;
    t->icmp_logged = 0;
}

static int open_raw_socket(const MipPlan *plan, const char *ifname, int proto, GError **error)
{
    struct sockaddr_in local = {.sin_family = AF_INET,
                                .sin_addr.s_addr = htonl(plan->care_of_address)};
    int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    int one = 1, buf = RAW_RCVBUF, pmtu = IP_PMTUDISC_DONT;

    if (fd < 0) {
        set_error_errno(error, errno, "opening a raw socket for IP protocol %s",
                        proto == MIP_IPPROTO_GRE    ? "47 (GRE)"
                        : proto == MIP_IPPROTO_IPIP ? "4 (IPIP)"
                                                    : "55 (minimal)");
        return -1;
    }
    /* Outer packets leave by the physical link whatever the routing tables
     * say, and only packets that arrived on it are accepted. */
    if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname)) != 0) {
        set_error_errno(error, errno, "binding the tunnel socket to %s", ifname);
        close(fd);
        return -1;
    }
    /* Bound, not connected: a connected raw socket would hide strangers'
     * packets from us (we count them) and the kernel would answer them. */
    if (bind(fd, (struct sockaddr *)&local, sizeof local) != 0) {
        char a[INET_ADDRSTRLEN];
        struct in_addr in = {htonl(plan->care_of_address)};
        inet_ntop(AF_INET, &in, a, sizeof a);
        set_error_errno(error, errno, "binding the tunnel socket to the care-of address %s", a);
        close(fd);
        return -1;
    }
    /* ICMP errors about our outer packets (an unconnected raw socket gets
     * none otherwise): they tell whether the agent takes this encapsulation. */
    setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof one);
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) != 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    if (proto == MIP_IPPROTO_MINIMAL) {
        /* We write the modified original header ourselves (RFC 2004). */
        if (setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof one) != 0) {
            set_error_errno(error, errno, "setting IP_HDRINCL on the %s socket", "minimal");
            close(fd);
            return -1;
        }
    } else {
        /* mip0's MTU already leaves room for our header on the first link;
         * fragmenting beyond it beats silently black-holing big packets. */
        setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof pmtu);
    }
    return fd;
}

static gboolean tun_apply(MipTunnel *t, const MipPlan *plan, GError **error)
{
    char ifname[IF_NAMESIZE] = "";
    int proto, fd, mtu;

    if (plan->mode != MIP_PLAN_COLOCATED) {
        stop_data_plane(t);
        t->plan = *plan;
        return set_up(t, FALSE, error);
    }
    if (plan->encap == MIP_ENCAP_UDP) {
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                            "UDP encapsulation (RFC 3519) is not supported by the TUN tunnel "
                            "back end yet; use ipip, gre or minimal");
        return FALSE;
    }
    proto = mip_encap_ip_protocol(plan->encap);
    if (!plan->care_of_address || !plan->home_agent || !plan->home_address || !proto) {
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            "co-located plan lacks a care-of address, home agent, home "
                            "address or a known encapsulation");
        return FALSE;
    }
    if (plan->ifindex <= 0 || !if_indextoname((unsigned)plan->ifindex, ifname)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "co-located plan names link %d (%s), which does not exist", plan->ifindex,
                    plan->ifname);
        return FALSE;
    }

    /* A new socket only when its endpoint changes, opened before the old one
     * closes so a failure leaves the working tunnel alone. */
    if (!t->running || t->raw_proto != proto || t->plan.care_of_address != plan->care_of_address ||
        t->plan.ifindex != plan->ifindex) {
        fd = open_raw_socket(plan, ifname, proto, error);
        if (fd < 0)
            return FALSE;
        if (t->running && t->plan.mode == MIP_PLAN_COLOCATED) {
            retire_current(t);
            t->raw_fd = fd;
            t->raw_proto = proto;
            t->raw_source = attach_fd(t, fd, on_raw_readable);
        } else {
            stop_data_plane(t);
            t->raw_fd = fd;
            t->raw_proto = proto;
        }
    }
    mtu = link_mtu(t, ifname) - (int)mip_encap_overhead(plan->encap);
    if (mtu < 576)
        mtu = 576;
    if (mtu > TX_SLOT - MIP_ENCAP_HDR_MAX)
        mtu = TX_SLOT - MIP_ENCAP_HDR_MAX;
    if (!set_mtu(t, mtu, error) || !set_up(t, TRUE, error))
        return FALSE;
    t->plan = *plan;
    if (!t->running) {
        t->tun_source = attach_fd(t, t->tun_fd, on_tun_readable);
        t->raw_source = attach_fd(t, t->raw_fd, on_raw_readable);
        t->running = TRUE;
    }
    return TRUE;
}

static int tun_ifindex(MipTunnel *t)
{
    return t->ifindex;
}

static void tun_close(MipTunnel *t)
{
    if (!t)
        return;
    stop_data_plane(t);
    /* Closing the only descriptor of a non-persistent TUN device removes
     * mip0 with its addresses and routes. */
    close(t->tun_fd);
    close(t->ctl_fd);
    g_main_context_unref(t->ctx);
    g_free(t->tx_buf);
    g_free(t->tx_hdr);
    g_free(t->rx_buf);
    g_free(t);
}

static void tun_counters(MipTunnel *t, guint64 *tx_packets, guint64 *rx_packets)
{
    if (tx_packets)
        *tx_packets = t->st.tx_packets;
    if (rx_packets)
        *rx_packets = t->st.rx_packets;
}

static void tun_stats(MipTunnel *t, MipTunnelStats *out)
{
    *out = t->st;
}

const MipTunnelOps mip_tunnel_tun_ops = {
    .name = "tun",
    .open = tun_open,
    .apply = tun_apply,
    .ifindex = tun_ifindex,
    .close = tun_close,
    .counters = tun_counters,
    .stats = tun_stats,
};
