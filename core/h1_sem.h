/* core/h1_sem.h — INTERNAL to the h1 codec: what a parsed head means —
 * request-target form, Host, Connection, Expect, and the message body length
 * of RFC 9112 §6.3. Used by h1_parse.c only.
 */
#ifndef H2B_CORE_H1_SEM_H
#define H2B_CORE_H1_SEM_H

#include <stddef.h>

#include "core/msg.h"

/* m has method, version and fields; target is the raw request-target (in
 * the parser's buffer, which may be modified: see h1_parse.h). Sets path,
 * scheme, authority and the framing flags. Returns 0 or a negative H1_E*. */
int h1_request_semantics(struct hb_msg *m, char *target, size_t target_len);

/* m has version, status and fields; req is H1_REQ_* flags. Sets the framing
 * flags, and removes Content-Length fields that Transfer-Encoding overrides.
 * Returns 0 or a negative H1_E*. */
int h1_response_semantics(struct hb_msg *m, unsigned req);

#endif
