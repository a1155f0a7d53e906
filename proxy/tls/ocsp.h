/* proxy/tls/ocsp.h — OCSP stapling from a file, per certificate.
 *
 * The operator's cron job writes the DER OCSP response (openssl ocsp
 * -respout) to certificates[].ocsp_file; the proxy staples it to the
 * handshakes of clients that ask (status_request). The file is read at
 * start (it must hold a usable response then: ocsp_der.h) and checked again
 * at most every tls.ocsp_check_interval, on the first handshake that asks
 * after the interval: a changed mtime, inode or size re-reads it. A new
 * file that is not a usable response is logged and the previous response
 * kept. A client's request never reads the file: only a handshake, at most
 * once an interval, calls stat().
 *
 * Shared by all workers: a mutex guards the response; it is taken once per
 * handshake whose client asked for a staple, never per request.
 */
#ifndef H2B_PROXY_TLS_OCSP_H
#define H2B_PROXY_TLS_OCSP_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

struct px_ocsp;

/* Reads file and checks it is a usable response for ctx's certificate (the
 * issuer, when it is in ctx's chain, must match too). check_sec: the
 * interval between checks of the file (>= 1). NULL with a reason starting
 * with the file's name in err on failure. */
struct px_ocsp *px_ocsp_new(const char *file, SSL_CTX *ctx, uint32_t check_sec, char *err,
                            size_t errlen);
void px_ocsp_del(struct px_ocsp *o);

/* Staples the current response on ssl (from the certificate selection
 * callback), checking the file first when the interval has passed. */
void px_ocsp_staple(struct px_ocsp *o, SSL *ssl);

/* Forces the next px_ocsp_staple to check the file (tests). */
void px_ocsp_expire(struct px_ocsp *o);

#endif
