/* Loading and validating mipd's configuration (/etc/mipd/mipd.conf plus
 * the .conf files in conf.d, GKeyFile syntax like NetworkManager's) and the key file.
 * Every problem is reported as one GError that names the file, the key and
 * what is wrong; nothing is half-loaded. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#ifndef MIPD_SYSCONFDIR
#define MIPD_SYSCONFDIR "/etc"
#endif
#define MIPD_DEFAULT_CONFIG MIPD_SYSCONFDIR "/mipd/mipd.conf"

typedef enum MipdCareOfMode {
    MIPD_COA_AUTO,
    MIPD_COA_FOREIGN_AGENT,
    MIPD_COA_COLOCATED,
} MipdCareOfMode;

typedef struct MipdConfig {
    /* [mobile-node] */
    uint32_t home_address;       /* host byte order */
    uint8_t home_prefix_len;
    uint32_t home_agent;
    uint32_t spi;
    char *algorithm;             /* "hmac-md5" | "keyed-md5" */
    char *key_file;
    uint8_t *key;                /* secret: never logged, wiped on free */
    size_t key_len;
    uint16_t lifetime;
    bool reverse_tunnel;
    char *encapsulation;         /* "ipip" | "gre" | "minimal" | "udp" */
    MipdCareOfMode care_of_mode;
    char *nai;                   /* optional */
    /* [links] */
    char **prefer;               /* link types or names, most preferred first */
    char **ignore;               /* fnmatch globs */
    char *link_monitor;          /* "auto" | "nm" | "netlink" */
    /* [tunnel] */
    char *tunnel_backend;        /* "auto" | "kernel" | "tun" */
    /* [handover] */
    bool make_before_break;
    /* [dbus] */
    char *control_group;         /* may call methods besides root; NULL = root only */

    char *source;                /* files read, for the log */
} MipdConfig;

/* Reads path and then every *.conf in the conf.d directory beside it (sorted;
 * later files override keys). Validates every value and reads the key file,
 * which must be owned by root with no group/other permission bits. With
 * check_key_owner false the owner check is skipped (tests run unprivileged). */
MipdConfig *mipd_config_load(const char *path, bool check_key_owner, GError **error);
void mipd_config_free(MipdConfig *cfg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MipdConfig, mipd_config_free)

/* One line describing the configuration for the log, without secrets. */
char *mipd_config_describe(const MipdConfig *cfg);

#define MIPD_CONFIG_ERROR (mipd_config_error_quark())
GQuark mipd_config_error_quark(void);
typedef enum {
    MIPD_CONFIG_ERROR_FILE,      /* unreadable or unparsable file */
    MIPD_CONFIG_ERROR_MISSING,   /* a required key is absent */
    MIPD_CONFIG_ERROR_INVALID,   /* a value is out of range or malformed */
    MIPD_CONFIG_ERROR_KEY_FILE,  /* key file unreadable, unsafe or malformed */
} MipdConfigError;
