/* hpack-story FILE.json... — decodes every case of each hpack-test-case
 * story file with our decoder (one context per file, cases in order,
 * header_table_size applied as a SETTINGS change), checks each against its
 * headers, prints "N passed, M failed" and exits 1 on any mismatch or
 * unreadable file. */
#include "hpack/hpack_story.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE.json...\n", argv[0]);
        return 2;
    }
    size_t passed = 0, failed = 0;
    int bad_file = 0;
    for (int i = 1; i < argc; i++) {
        struct tu_json *j = story_load(argv[i], stderr);
        if (!j) {
            bad_file = 1;
            continue;
        }
        story_decode(argv[i], j, &passed, &failed, stderr);
        tu_json_free(j);
    }
    printf("%zu passed, %zu failed\n", passed, failed);
    return failed || bad_file ? 1 : 0;
}
