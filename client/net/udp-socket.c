/* UDP port 434 socket for registration requests and replies. */
#include "udp-socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gio/gio.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fd-watch.h"

struct MipUdpSocket {
    int fd;
    guint watch;
    MipUdpReceived cb;
    void *user;
};

static gboolean set_error_errno(GError **error, const char *what)
{
    int e = errno;
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "UDP socket: %s: %s", what,
                g_strerror(e));
    return FALSE;
}

static void on_readable(int fd, void *user)
{
    MipUdpSocket *s = user;
    for (;;) {
        uint8_t buf[2048];
        char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))];
        struct sockaddr_in from;
        struct iovec iov = {buf, sizeof buf};
        struct msghdr mh = {.msg_name = &from,
                            .msg_namelen = sizeof from,
                            .msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = cbuf,
                            .msg_controllen = sizeof cbuf};
        ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
        if (n < 0) {
            /* An ICMP port unreachable for an earlier request shows up here:
             * read it out so the watch does not spin. */
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                int err;
                socklen_t l = sizeof err;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
                continue;
            }
            return;
        }
        int ifindex = 0;
        uint32_t dst = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
            if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
                struct in_pktinfo pi;
                memcpy(&pi, CMSG_DATA(c), sizeof pi);
                ifindex = pi.ipi_ifindex;
                dst = ntohl(pi.ipi_addr.s_addr);
            }
        }
        s->cb(ifindex, ntohl(from.sin_addr.s_addr), ntohs(from.sin_port), dst, buf, (size_t)n,
              s->user);
    }
}

MipUdpSocket *mip_udp_socket_new(uint16_t port, MipUdpReceived cb, void *user, GError **error)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        set_error_errno(error, "socket");
        return NULL;
    }
    int one = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) {
        set_error_errno(error, "setsockopt");
        close(fd);
        return NULL;
    }
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        char what[64];
        g_snprintf(what, sizeof what, "bind to port %u (needs CAP_NET_BIND_SERVICE)", port);
        set_error_errno(error, what);
        close(fd);
        return NULL;
    }
    MipUdpSocket *s = g_new0(MipUdpSocket, 1);
    s->fd = fd;
    s->cb = cb;
    s->user = user;
    s->watch = mip_fd_watch_add(fd, on_readable, s);
    return s;
}

gboolean mip_udp_socket_send(MipUdpSocket *s, int ifindex, uint32_t src, uint32_t dst,
                             uint16_t dport, const uint8_t *bytes, size_t len, GError **error)
{
    struct sockaddr_in to = {.sin_family = AF_INET,
                             .sin_port = htons(dport),
                             .sin_addr.s_addr = htonl(dst)};
    char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))] = {0};
    struct iovec iov = {(void *)bytes, len};
    struct msghdr mh = {.msg_name = &to,
                        .msg_namelen = sizeof to,
                        .msg_iov = &iov,
                        .msg_iovlen = 1};
    if (src || ifindex) {
        mh.msg_control = cbuf;
        mh.msg_controllen = sizeof cbuf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
        struct in_pktinfo pi = {.ipi_ifindex = ifindex};
        pi.ipi_spec_dst.s_addr = htonl(src);
        memcpy(CMSG_DATA(c), &pi, sizeof pi);
    }
    if (sendmsg(s->fd, &mh, 0) < 0)
        return set_error_errno(error, "sendmsg");
    return TRUE;
}

void mip_udp_socket_free(MipUdpSocket *s)
{
    if (!s)
        return;
    g_source_remove(s->watch);
    close(s->fd);
    g_free(s);
}
