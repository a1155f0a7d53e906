/* core/link_hdr.h — the Link header field (RFC 8288 §3), sans-IO.
 *
 *   Link       = #link-value
 *   link-value = "<" URI-Reference ">" *( OWS ";" OWS link-param )
 *   link-param = token BWS [ "=" BWS ( token / quoted-string ) ]
 *
 * A field value holds several link-values separated by commas; a comma
 * inside <...> or inside a quoted-string does not separate. The parser
 * walks one field value and returns one link-value per call, as views into
 * the caller's bytes (nothing is copied or allocated). Used by the proxy's
 * learned early hints (proxy/exchange/early_hints.h).
 */
#ifndef H2B_CORE_LINK_HDR_H
#define H2B_CORE_LINK_HDR_H

#include <stdbool.h>
#include <stddef.h>

#include "core/str.h"

/* Relation types the proxy acts on (bits of hb_link.rel). rel="a b" may
 * carry several; the comparison ignores ASCII case (RFC 8288 §2.1.1). */
enum {
    HB_LINK_REL_PRELOAD = 1u << 0,    /* W3C Preload */
    HB_LINK_REL_PRECONNECT = 1u << 1, /* W3C Resource Hints */
    HB_LINK_REL_OTHER = 1u << 2,      /* any other relation type */
};

/* Request destinations a preload's "as" parameter names (the Fetch
 * standard's list; bits of hb_link.as). Compared without ASCII case, as
 * HTML compares the attribute. Early hints use them to keep only some
 * kinds of preload (routes[].early_hints.learn_as). */
enum {
    HB_LINK_AS_AUDIO = 1u << 0,
    HB_LINK_AS_DOCUMENT = 1u << 1,
    HB_LINK_AS_EMBED = 1u << 2,
    HB_LINK_AS_FETCH = 1u << 3,
    HB_LINK_AS_FONT = 1u << 4,
    HB_LINK_AS_IMAGE = 1u << 5,
    HB_LINK_AS_OBJECT = 1u << 6,
    HB_LINK_AS_SCRIPT = 1u << 7,
    HB_LINK_AS_STYLE = 1u << 8,
    HB_LINK_AS_TRACK = 1u << 9,
    HB_LINK_AS_VIDEO = 1u << 10,
    HB_LINK_AS_WORKER = 1u << 11,
    HB_LINK_AS_OTHER = 1u << 12, /* an "as" value not in this list */
};

struct hb_link {
    struct hb_str raw; /* the whole link-value, OWS trimmed: what a 103 repeats */
    struct hb_str uri; /* the URI-Reference between < and > */
    unsigned rel;      /* HB_LINK_REL_* of the first rel parameter (§3.3: later ones ignored) */
    unsigned as;       /* HB_LINK_AS_* of the first "as" parameter; 0 when there is none */
    bool nopush;       /* a "nopush" parameter (W3C Preload: do not push this) */
};

/* The HB_LINK_AS_* bit of destination name s (case ignored), or 0 when s
 * names none of them (HB_LINK_AS_OTHER is never returned). */
unsigned hb_link_as_bit(struct hb_str s);

/* The lower-case name of one HB_LINK_AS_* bit ("other" for
 * HB_LINK_AS_OTHER), or NULL for anything else. */
const char *hb_link_as_name(unsigned bit);

/* Parses the next link-value of v[0..len) from *pos on. Returns 1 and
 * fills *out (advancing *pos past it and its comma), 0 when only empty list
 * elements or OWS are left, or HB_ESYNTAX when the element at *pos is not a
 * link-value: *pos then moves past that element (to the next top-level
 * comma, or len), so the caller may skip it and go on. Never reads past
 * len; v need not be NUL-terminated. */
int hb_link_next(const char *v, size_t len, size_t *pos, struct hb_link *out);

#endif
