/* core/h2_errors.h — the RFC 9113 §7 error codes and their names.
 *
 * A leaf: the frame codec, the engine and the proxy all use these, so this
 * header includes nothing of ours.
 */
#ifndef H2B_CORE_H2_ERRORS_H
#define H2B_CORE_H2_ERRORS_H

#include <stdint.h>

/* RFC 9113 §7 error codes: X(NAME, value). */
#define H2_ERRORS(X)                                                                               \
    X(NO_ERROR, 0x0)                                                                               \
    X(PROTOCOL_ERROR, 0x1)                                                                         \
    X(INTERNAL_ERROR, 0x2)                                                                         \
    X(FLOW_CONTROL_ERROR, 0x3)                                                                     \
    X(SETTINGS_TIMEOUT, 0x4)                                                                       \
    X(STREAM_CLOSED, 0x5)                                                                          \
    X(FRAME_SIZE_ERROR, 0x6)                                                                       \
    X(REFUSED_STREAM, 0x7)                                                                         \
    X(CANCEL, 0x8)                                                                                 \
    X(COMPRESSION_ERROR, 0x9)                                                                      \
    X(CONNECT_ERROR, 0xa)                                                                          \
    X(ENHANCE_YOUR_CALM, 0xb)                                                                      \
    X(INADEQUATE_SECURITY, 0xc)                                                                    \
    X(HTTP_1_1_REQUIRED, 0xd)

enum h2_error {
#define H2_ERR_ENUM(name, val) H2_##name = val,
    H2_ERRORS(H2_ERR_ENUM)
#undef H2_ERR_ENUM
};

/* "PROTOCOL_ERROR" etc.; "UNKNOWN" for a code outside the table (peers may
 * send any 32-bit value, §7). Never NULL. */
const char *h2_error_name(uint32_t code);

#endif
