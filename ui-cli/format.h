/* mipc's output: human text with aligned fields (colour only when asked) and
 * JSON with stable snake_case keys, from the GVariants org.mipd.MobileNode1
 * returns. Pure functions of their inputs (time included), so golden files
 * can pin them down. */
#pragma once

#include <glib.h>

typedef struct MipcFormat {
    gboolean json;
    gboolean color;
    gint64 now_wall_us;   /* "expires in" is computed against this */
} MipcFormat;

/* props: a{sv} of every property (as GetAll returns). */
char *mipc_format_status(const MipcFormat *f, GVariant *props);
/* agents / links: aa{sv} as GetAgents / GetLinks return. */
char *mipc_format_agents(const MipcFormat *f, GVariant *agents);
char *mipc_format_links(const MipcFormat *f, GVariant *links);
/* One monitor line (with trailing newline) for an Event(a{sv}) signal. */
char *mipc_format_event(const MipcFormat *f, GVariant *event);
/* One monitor line for PropertiesChanged: the changed properties, a{sv}. */
char *mipc_format_changes(const MipcFormat *f, GVariant *changed);
/* One monitor line for HandoverCompleted(a{sv}) or RegistrationFailed. */
char *mipc_format_handover(const MipcFormat *f, GVariant *handover);
char *mipc_format_failed(const MipcFormat *f, gint32 code, const char *message);

/* JSON text of any GVariant of the types above; dict keys become snake_case
 * ("CareOfAddress" and "care-of-address" both become "care_of_address"). */
void mipc_json_append(GString *out, GVariant *v);
