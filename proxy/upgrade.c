/* proxy/upgrade.c — binary upgrade by socket hand-over (see upgrade.h). */
#include "proxy/upgrade.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "proxy/worker.h"

#define MAX_FDS 1024

static char **saved_argv;

struct inherited {
    int fd, worker;
    bool taken;
};
static struct inherited fds[MAX_FDS];
static size_t nfds;
static int ready_fd = -1;

void px_upgrade_set_argv(char **argv)
{
    saved_argv = argv;
}

static void keep_open(int fd)
{
    int fl = fcntl(fd, F_GETFD);
    if (fl >= 0)
        fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
}

int px_upgrade_spawn(const struct px_worker *w, unsigned n, int admin_fd)
{
    if (!saved_argv) {
        hb_error("upgrade: no arguments to start the new binary with");
        return -1;
    }
    size_t cap = 64, len = 0;
    char *list = malloc(cap);
    int pipefd[2];
    if (!list || pipe2(pipefd, O_CLOEXEC) != 0) {
        free(list);
        hb_error("upgrade: %s", strerror(errno));
        return -1;
    }
    list[0] = 0;
    for (unsigned i = 0; i <= n; i++) {
        size_t k = i < n ? w[i].nlisteners : 1;
        for (size_t j = 0; j < k; j++) {
            int fd = i < n ? w[i].listeners[j].fd : admin_fd;
            if (fd < 0)
                continue;
            char item[32];
            int m = snprintf(item, sizeof item, "%s%d:%d", len ? "," : "", fd, i < n ? (int)i : -1);
            if (len + (size_t)m + 1 > cap) {
                char *p = realloc(list, cap * 2 + (size_t)m);
                if (!p)
                    continue;
                list = p;
                cap = cap * 2 + (size_t)m;
            }
            memcpy(list + len, item, (size_t)m + 1);
            len += (size_t)m;
        }
    }
    /* The environment is made here: between fork and exec a child of a
     * threaded process may only make async-signal-safe calls. */
    extern char **environ;
    size_t nenv = 0;
    while (environ[nenv])
        nenv++;
    char **envp = calloc(nenv + 3, sizeof *envp);
    char *fds_var = malloc(len + 32), ready_var[48];
    if (!envp || !fds_var) {
        free(envp);
        free(fds_var);
        free(list);
        close(pipefd[0]);
        close(pipefd[1]);
        hb_error("upgrade: out of memory");
        return -1;
    }
    size_t e = 0;
    for (size_t i = 0; i < nenv; i++)
        if (strncmp(environ[i], "H2B_UPGRADE_", 12) != 0)
            envp[e++] = environ[i];
    snprintf(fds_var, len + 32, "H2B_UPGRADE_FDS=%s", list);
    snprintf(ready_var, sizeof ready_var, "H2B_UPGRADE_READY=%d", pipefd[1]);
    envp[e++] = fds_var;
    envp[e++] = ready_var;
    pid_t pid = fork();
    if (pid == 0) {
        /* The sockets and the pipe's write end stay open across exec. */
        for (unsigned i = 0; i < n; i++)
            for (size_t j = 0; j < w[i].nlisteners; j++)
                if (w[i].listeners[j].fd >= 0)
                    keep_open(w[i].listeners[j].fd);
        if (admin_fd >= 0)
            keep_open(admin_fd);
        keep_open(pipefd[1]);
        execve("/proc/self/exe", saved_argv, envp);
        _exit(127);
    }
    free(envp);
    free(fds_var);
    free(list);
    close(pipefd[1]);
    if (pid < 0) {
        close(pipefd[0]);
        hb_error("upgrade: fork: %s", strerror(errno));
        return -1;
    }
    hb_info("upgrade: started the new binary (pid %d); waiting until it serves", (int)pid);
    struct pollfd p = {.fd = pipefd[0], .events = POLLIN};
    int r;
    do
        r = poll(&p, 1, PX_UPGRADE_WAIT_MS);
    while (r < 0 && errno == EINTR);
    char b = 0;
    bool ok = r == 1 && read(pipefd[0], &b, 1) == 1 && b == '1';
    close(pipefd[0]);
    if (!ok) {
        hb_error("upgrade: the new binary (pid %d) did not become ready%s; this process keeps "
                 "serving", (int)pid, r == 0 ? " in time" : "");
        if (r == 0)
            kill(pid, SIGTERM); /* it may still be starting: it must not serve half */
        waitpid(pid, NULL, WNOHANG);
        return -1;
    }
    hb_info("upgrade: the new binary (pid %d) serves; this process drains and exits", (int)pid);
    return 0;
}

bool px_upgrade_inherit(void)
{
    const char *list = getenv("H2B_UPGRADE_FDS");
    const char *ready = getenv("H2B_UPGRADE_READY");
    if (!list || !ready)
        return false;
    ready_fd = atoi(ready);
    for (const char *p = list; *p && nfds < MAX_FDS;) {
        char *end;
        long fd = strtol(p, &end, 10);
        if (*end != ':')
            break;
        long wk = strtol(end + 1, &end, 10);
        fds[nfds++] = (struct inherited){(int)fd, (int)wk, false};
        fcntl((int)fd, F_SETFD, FD_CLOEXEC);
        p = *end == ',' ? end + 1 : end;
    }
    if (ready_fd >= 0)
        fcntl(ready_fd, F_SETFD, FD_CLOEXEC);
    unsetenv("H2B_UPGRADE_FDS");
    unsetenv("H2B_UPGRADE_READY");
    hb_info("upgrade: %zu listening sockets handed over by the previous process", nfds);
    return true;
}

static bool same_addr(const struct sockaddr *a, const struct sockaddr_storage *b)
{
    if (a->sa_family != b->ss_family)
        return false;
    if (a->sa_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    if (a->sa_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
        return x->sin6_port == y->sin6_port &&
               memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
    }
    return false;
}

int px_upgrade_take(const struct sockaddr *sa, int worker)
{
    int any = -1;
    for (size_t i = 0; i < nfds; i++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        if (fds[i].taken || getsockname(fds[i].fd, (struct sockaddr *)&ss, &len) != 0 ||
            !same_addr(sa, &ss))
            continue;
        if (fds[i].worker == worker) {
            fds[i].taken = true;
            return fds[i].fd;
        }
        if (any < 0 && (worker >= 0) == (fds[i].worker >= 0))
            any = (int)i;
    }
    if (any < 0)
        return -1;
    fds[any].taken = true;
    return fds[any].fd;
}

void px_upgrade_ready(void)
{
    for (size_t i = 0; i < nfds; i++)
        if (!fds[i].taken)
            close(fds[i].fd); /* the old process had more workers: their sockets go */
    nfds = 0;
    if (ready_fd >= 0) {
        ssize_t n = write(ready_fd, "1", 1);
        (void)n;
        close(ready_fd);
        ready_fd = -1;
    }
}
