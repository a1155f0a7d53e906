/* proxy/privdrop.c — privilege drop and the root configuration check (see
 * privdrop.h). */
#include "proxy/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool number(const char *s, unsigned long *v)
{
    char *end;
    if (!*s)
        return false;
    errno = 0;
    *v = strtoul(s, &end, 10);
    return !*end && errno == 0;
}

int px_priv_lookup(const char *user, const char *group, uid_t *uid, gid_t *gid, char *why,
                   size_t size)
{
    char buf[4096];
    struct passwd pw, *pwp = NULL;
    unsigned long n;
    if (getpwnam_r(user, &pw, buf, sizeof buf, &pwp) == 0 && pwp) {
        *uid = pw.pw_uid;
        *gid = pw.pw_gid;
    } else if (number(user, &n)) {
        *uid = (uid_t)n;
        *gid = (gid_t)n; /* a bare number without a passwd entry: same gid unless given */
    } else {
        snprintf(why, size, "no user '%s'", user);
        return -1;
    }
    if (group) {
        struct group gr, *grp = NULL;
        if (getgrnam_r(group, &gr, buf, sizeof buf, &grp) == 0 && grp) {
            *gid = gr.gr_gid;
        } else if (number(group, &n)) {
            *gid = (gid_t)n;
        } else {
            snprintf(why, size, "no group '%s'", group);
            return -1;
        }
    }
    if (*uid == 0) {
        snprintf(why, size, "user '%s' is root: nothing to drop", user);
        return -1;
    }
    return 0;
}

int px_priv_drop(const char *user, uid_t uid, gid_t gid, char *why, size_t size)
{
    /* Supplementary groups first (they need root), then gid, then uid. */
    struct passwd pw, *pwp = NULL;
    char buf[4096];
    int rc = getpwnam_r(user, &pw, buf, sizeof buf, &pwp) == 0 && pwp
                 ? initgroups(user, gid)
                 : setgroups(0, NULL);
    if (rc != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
        snprintf(why, size, "cannot become uid %u gid %u: %s", (unsigned)uid, (unsigned)gid,
                 strerror(errno));
        return -1;
    }
    if (setuid(0) == 0 || geteuid() != uid || getegid() != gid) {
        snprintf(why, size, "root could be regained after dropping to uid %u", (unsigned)uid);
        return -1;
    }
    return 0;
}

int px_priv_check_config(const char *config_path, uid_t euid, char *why, size_t size)
{
    if (euid != 0 || !config_path)
        return 0;
    struct stat st;
    if (stat(config_path, &st) != 0)
        return 0; /* the loader reports a missing file */
    if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
        snprintf(why, size,
                 "refusing to run as root: %s can be changed by others (owner uid %u, mode %04o); "
                 "make it root's and not group/other-writable (chown root; chmod go-w), or set "
                 "user: to drop privileges",
                 config_path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
        return -1;
    }
    return 0;
}
