// The floor for POST /start: posix_spawn + waitpid of /bin/true in a loop, on N threads, for a
// fixed time. The child gets the same file actions as the worker's spawner (stdin /dev/null,
// stdout appended to a file, stderr = stdout, a new session), so only the gateway is missing.
// usage: spawn_floor THREADS SECONDS OUTDIR [CGROUP]   -> prints {"threads":N,"spawns":K,"seconds":S,"rate":R}
// With CGROUP (a cgroup v2 folder the caller made), each child gets what a worker's job gets for
// the whole-tree stop (issue 13): a cgroup of its own made under CGROUP, joined before the command
// by the same pre-exec step (/bin/sh writing its pid to cgroup.procs, then exec), removed after.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <time.h>

extern char **environ;
static double seconds;
static const char *outdir;
static const char *cgroup;   /* NULL: plain spawns */
/* The worker's join step (worker/cgroup/JobCgroup.JOIN_SCRIPT, for one hierarchy). */
static const char *JOIN = "echo $$ > \"$1\" || exit 125; shift; exec \"$@\"";

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *loop(void *arg) {
    long id = (long) arg, *count = malloc(sizeof(long));
    char out[4096];
    snprintf(out, sizeof out, "%s/floor-%ld.out", outdir, id);
    char dir[4200], procs[4300];
    char *plain[] = {"/bin/true", NULL};
    char *joined[] = {"/bin/sh", "-c", (char *) JOIN, "jobscheduler-join", procs, "/bin/true", NULL};
    char **argv = cgroup ? joined : plain;
    sigset_t empty, full;
    sigemptyset(&empty);
    sigfillset(&full);
    *count = 0;
    double end = now() + seconds;
    while (now() < end) {
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t at;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_APPEND, 0644);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
        posix_spawn_file_actions_addclosefrom_np(&fa, 3);
        posix_spawnattr_init(&at);
        posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        posix_spawnattr_setsigmask(&at, &empty);
        posix_spawnattr_setsigdefault(&at, &full);
        if (cgroup) {
            snprintf(dir, sizeof dir, "%s/t%ld-%ld", cgroup, id, *count);
            snprintf(procs, sizeof procs, "%s/cgroup.procs", dir);
            if (mkdir(dir, 0755) != 0) {
                fprintf(stderr, "mkdir %s: %s\n", dir, strerror(errno));
                exit(1);
            }
        }
        pid_t pid;
        int rc = posix_spawn(&pid, argv[0], &fa, &at, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&at);
        if (rc != 0) {
            fprintf(stderr, "posix_spawn: %s\n", strerror(rc));
            exit(1);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        if (cgroup && rmdir(dir) != 0) {
            fprintf(stderr, "rmdir %s: %s\n", dir, strerror(errno));
            exit(1);
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "the child failed (status %d)\n", status);
            exit(1);
        }
        (*count)++;
    }
    return count;
}

int main(int argc, char **argv) {
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: %s THREADS SECONDS OUTDIR [CGROUP]\n", argv[0]);
        return 2;
    }
    cgroup = argc == 5 ? argv[4] : NULL;
    int threads = atoi(argv[1]);
    seconds = atof(argv[2]);
    outdir = argv[3];
    pthread_t t[64];
    double start = now();
    for (long i = 0; i < threads; i++) pthread_create(&t[i], NULL, loop, (void *) i);
    long total = 0;
    for (int i = 0; i < threads; i++) {
        void *r;
        pthread_join(t[i], &r);
        total += *(long *) r;
    }
    double elapsed = now() - start;
    printf("{\"threads\":%d,\"spawns\":%ld,\"seconds\":%.3f,\"rate\":%.1f}\n", threads, total, elapsed, total / elapsed);
    return 0;
}
