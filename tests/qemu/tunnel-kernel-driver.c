/* Drives mip_tunnel_kernel_ops from a test script, one command a line on
 * stdin, one answer a line on stdout ("ok ..." or "error: MESSAGE"), so a
 * shell test can hold the tunnel open while it pings and inspects mip0.
 *
 *   open
 *   apply MODE ENCAP CARE-OF HOME-AGENT IFNAME   MODE: home|fa|colocated|none
 *                                                ENCAP: ipip|gre|minimal|udp
 *   ifindex | counters | close
 *   crash          exit at once without close(), as a killed mipd would
 * End of input closes the tunnel if it is still open. */
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugins/tunnel.h"

static const MipTunnelOps *ops = &mip_tunnel_kernel_ops;

static void reply_error(const char *what, const GError *error)
{
    g_autofree char *msg = g_strdup(error ? error->message : what);
    g_strdelimit(msg, "\n", ' ');
    printf("error: %s\n", msg);
}

static int parse_enum(const char *s, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

static gboolean parse_ipv4(const char *s, uint32_t *out)
{
    struct in_addr a;
    if (inet_pton(AF_INET, s, &a) != 1)
        return FALSE;
    *out = ntohl(a.s_addr); /* MipPlan carries host order, like MipLinkInfo */
    return TRUE;
}

/* "apply MODE ENCAP COA HA IFNAME" into a plan; NULL if malformed. */
static const char *parse_plan(char **argv, int argc, MipPlan *plan)
{
    /* In the order of MipPlanMode and MipEncapsulation. */
    static const char *const modes[] = {"home", "fa", "colocated", "none", NULL};
    static const char *const encaps[] = {"ipip", "gre", "minimal", "udp", NULL};

    if (argc != 6)
        return "usage: apply MODE ENCAP CARE-OF HOME-AGENT IFNAME";
    memset(plan, 0, sizeof(*plan));
    int mode = parse_enum(argv[1], modes);
    int encap = parse_enum(argv[2], encaps);
    if (mode < 0 || encap < 0)
        return "unknown mode or encapsulation";
    plan->mode = (MipPlanMode)mode;
    plan->encap = (MipEncapsulation)encap;
    if (!parse_ipv4(argv[3], &plan->care_of_address) || !parse_ipv4(argv[4], &plan->home_agent))
        return "bad address";
    g_strlcpy(plan->ifname, argv[5], sizeof(plan->ifname));
    plan->ifindex = (int)if_nametoindex(argv[5]);
    if (plan->ifindex == 0)
        return "no such interface";
    plan->home_address = 0xc6120032; /* 198.18.0.50; the tunnel plugin ignores it */
    plan->home_prefix_len = 24;
    plan->reverse_tunnel = true;
    return NULL;
}

static void run_command(MipTunnel **t, char **argv, int argc)
{
    g_autoptr(GError) error = NULL;
    const char *cmd = argv[0];

    if (strcmp(cmd, "crash") == 0) {
        fflush(stdout);
        _exit(0);
    }
    if (strcmp(cmd, "open") == 0) {
        if (*t) {
            reply_error("already open", NULL);
            return;
        }
        *t = ops->open(&error);
        if (*t)
            printf("ok ifindex %d\n", ops->ifindex(*t));
        else
            reply_error(NULL, error);
        return;
    }
    if (!*t) {
        reply_error("not open", NULL);
        return;
    }
    if (strcmp(cmd, "apply") == 0) {
        MipPlan plan;
        const char *bad = parse_plan(argv, argc, &plan);
        if (bad)
            reply_error(bad, NULL);
        else if (ops->apply(*t, &plan, &error))
            printf("ok ifindex %d\n", ops->ifindex(*t));
        else
            reply_error(NULL, error);
    } else if (strcmp(cmd, "ifindex") == 0) {
        printf("ok ifindex %d\n", ops->ifindex(*t));
    } else if (strcmp(cmd, "counters") == 0) {
        guint64 tx, rx;
        ops->counters(*t, &tx, &rx);
        printf("ok tx %" G_GUINT64_FORMAT " rx %" G_GUINT64_FORMAT "\n", tx, rx);
    } else if (strcmp(cmd, "close") == 0) {
        ops->close(*t);
        *t = NULL;
        printf("ok\n");
    } else {
        reply_error("unknown command", NULL);
    }
}

int main(void)
{
    MipTunnel *t = NULL;
    char line[512];

    while (fgets(line, sizeof(line), stdin)) {
        g_auto(GStrv) argv = g_strsplit_set(g_strstrip(line), " \t", -1);
        int argc = (int)g_strv_length(argv);
        if (argc == 0 || argv[0][0] == '\0')
            continue;
        run_command(&t, argv, argc);
        fflush(stdout);
    }
    if (t)
        ops->close(t);
    return 0;
}
