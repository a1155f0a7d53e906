/* proxy/exchange/request_id.h — request ids and W3C traceparent values
 * (request_id.* in the configuration). Pure functions over caller storage:
 * no allocation, no system call, no lock (the generator is per worker).
 *
 * An id is 32 lowercase hex digits: mix(key, n) for the worker's random
 * 64-bit key and its request number n, in two 64-bit halves. The mix is a
 * bijection of n for a fixed key (splitmix64's finaliser over key ^ n and
 * key + n), so a worker never repeats an id before 2^64 requests, and
 * workers with different keys do not produce related sequences.
 */
#ifndef H2B_PROXY_EXCHANGE_REQUEST_ID_H
#define H2B_PROXY_EXCHANGE_REQUEST_ID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/str.h"

#define PX_RID_LEN 32          /* hex digits of a generated id */
#define PX_RID_CLIENT_MAX 200  /* longest client id kept (request_id.trust) */
#define PX_TRACEPARENT_LEN 55  /* "00-" 32 "-" 16 "-" 2 */

struct px_rid_gen {
    uint64_t key; /* random, drawn at worker start */
    uint64_t n;   /* requests numbered so far */
};

/* Seeds a generator (seed: random bits, e.g. from getrandom at start-up). */
void px_rid_init(struct px_rid_gen *g, uint64_t seed);

/* Writes the next id into out[0..PX_RID_LEN) (not NUL-terminated). */
void px_rid_next(struct px_rid_gen *g, char out[PX_RID_LEN]);

/* A 64-bit value from the generator's stream (for traceparent parent ids). */
uint64_t px_rid_next64(struct px_rid_gen *g);

/* True when a client's id may be kept: 1..PX_RID_CLIENT_MAX bytes of
 * visible ASCII (0x21..0x7e) — nothing that could break a log line or a
 * header. */
bool px_rid_acceptable(struct hb_str v);

/* True when v is a valid W3C Trace Context traceparent (version 00: exactly
 * 55 bytes; a later version: at least 55, and a '-' after the flags when
 * longer; version ff invalid; lowercase hex; trace id and parent id not all
 * zeros). */
bool px_traceparent_valid(struct hb_str v);

/* Writes "00-<trace id>-<parent id>-01" into out[0..PX_TRACEPARENT_LEN).
 * trace_id: 32 lowercase hex digits, not all zeros (a generated request id
 * qualifies). */
void px_traceparent_make(const char trace_id[32], uint64_t parent_id,
                         char out[PX_TRACEPARENT_LEN]);

/* True when v is 32 lowercase hex digits, not all zeros (usable as a trace
 * id). */
bool px_rid_is_trace_id(struct hb_str v);

#endif
