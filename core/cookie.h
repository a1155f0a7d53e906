/* core/cookie.h — finding one cookie in a Cookie field value (RFC 6265
 * §4.2.1: "name=value" pairs separated by "; "), sans-IO. For the sticky
 * session cookie and the consistent_hash cookie key: the proxy reads one
 * name and leaves the field as it came. */
#ifndef H2B_CORE_COOKIE_H
#define H2B_CORE_COOKIE_H

#include <stdbool.h>

#include "core/str.h"

/* Looks for the first cookie called name (case-sensitive, as RFC 6265
 * §5.4 compares names) in one Cookie field value. Lenient as browsers
 * are: pairs are split at ';', spaces and tabs around a pair, its name and
 * its value are ignored, a pair without '=' is skipped, one pair of double
 * quotes around a value is removed. Returns true and *value (a view into
 * field, possibly empty) when found; false otherwise (*value untouched). */
bool hb_cookie_find(struct hb_str field, struct hb_str name, struct hb_str *value);

#endif
