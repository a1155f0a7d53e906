/* core/err.h — the one error table.
 *
 * Functions return int (0 or a negative HB_E* code) or ptrdiff_t ("bytes or a
 * negative code"). Protocol errors are state inside the protocol machines, not
 * return values; these codes are for fatal conditions and for parsers that
 * report "bad input: which rule".
 */
#ifndef H2B_CORE_ERR_H
#define H2B_CORE_ERR_H

/* X(NAME, "message"). Append only: the numeric values appear in logs. */
#define HB_ERRORS(X)                                                     \
    X(NOMEM, "out of memory")                                            \
    X(AGAIN, "need more input")                                          \
    X(INVAL, "invalid argument")                                         \
    X(LIMIT, "a configured limit was exceeded")                          \
    X(PROTO, "protocol violation by the peer")                           \
    X(COMPRESSION, "header compression error")                           \
    X(CLOSED, "connection or stream is closed")                          \
    X(IO, "input/output error")                                          \
    X(TIMEOUT, "timed out")                                              \
    X(NOTFOUND, "not found")                                             \
    X(EXISTS, "already exists")                                          \
    X(RANGE, "value out of range")                                       \
    X(SYNTAX, "syntax error")                                            \
    X(UNSUPPORTED, "not supported")

enum hb_err {
    HB_OK = 0,
#define HB_ERR_ENUM(name, msg) HB_E##name,
    HB_ERR_FIRST_ = -1000,
    HB_ERRORS(HB_ERR_ENUM)
#undef HB_ERR_ENUM
    HB_ERR_END_
};

/* The enum constant's name without the prefix ("NOMEM"), "OK" for 0, or
 * "UNKNOWN" for a value outside the table. Never NULL; static storage. */
const char *hb_err_name(int err);

/* A one-line human description of err. Never NULL; static storage. */
const char *hb_err_message(int err);

#endif
