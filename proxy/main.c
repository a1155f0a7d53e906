/* h2bridge — entry point: command line → configuration → runtime.
 *
 * Only options whose behaviour exists are accepted (see --help). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: h2bridge [options]\n"
                 "\n"
                 "HTTP/2 edge proxy and TLS terminator in front of HTTP/1.1 backends.\n"
                 "\n"
                 "options:\n"
                 "  -h, --help       show this help and exit\n"
                 "  -V, --version    print the version and exit\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("h2bridge %s\n", H2B_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    fprintf(stderr, "h2bridge: the proxy runtime is not built yet; see --help\n");
    return 2;
}
