/* proxy/front/sniff.h — cleartext listeners: HTTP/2 with prior knowledge (RFC 9113
 * §3.3, the client starts with the connection preface) or HTTP/1.1, told
 * apart by the first bytes, which are peeked, not consumed. */
#ifndef H2B_PROXY_FRONT_SNIFF_H
#define H2B_PROXY_FRONT_SNIFF_H

struct px_fconn;

/* Peeks at fc's socket. Returns 0 while undecided (fewer bytes than the
 * preface, all matching it), 1 once fc runs h2 (state H2) or HTTP/1.1
 * (state H1), -1 when the connection must close (EOF before a byte, read
 * error, out of memory, or a protocol the listener does not accept). */
int px_sniff(struct px_fconn *fc);

#endif
