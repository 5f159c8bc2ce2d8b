// Time from exec to ready: spawns a command, then tries to connect to every given port every
// 0.5 ms until all accept. Prints {"pid":P,"ready_ms":T} and leaves the process running (the
// caller stops it), or {"pid":P,"error":"..."} on timeout or early exit.
// The command's stdout and stderr go to LOG; its stdin is /dev/null.
// usage: readyprobe TIMEOUT_S HOST PORT[,PORT...] LOG -- COMMAND ARGS...
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int accepting(const char *host, int port) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, host, &a.sin_addr);
    int ok = connect(s, (struct sockaddr *) &a, sizeof a) == 0;
    close(s);
    return ok;
}

int main(int argc, char **argv) {
    if (argc < 7 || strcmp(argv[5], "--") != 0) {
        fprintf(stderr, "usage: %s TIMEOUT_S HOST PORT[,PORT...] LOG -- COMMAND ARGS...\n", argv[0]);
        return 2;
    }
    double timeout = atof(argv[1]);
    const char *host = argv[2];
    int ports[16], n = 0, ready[16] = {0};
    for (char *p = strtok(argv[3], ","); p && n < 16; p = strtok(NULL, ",")) ports[n++] = atoi(p);
    pid_t pid;
    double start = now();
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, argv[4], O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    int rc = posix_spawnp(&pid, argv[6], &fa, NULL, &argv[6], environ);
    if (rc != 0) {
        printf("{\"pid\":0,\"error\":\"spawn failed: %s\"}\n", strerror(rc));
        return 1;
    }
    int left = n;
    while (left > 0) {
        for (int i = 0; i < n; i++) {
            if (!ready[i] && accepting(host, ports[i])) {
                ready[i] = 1;
                left--;
            }
        }
        if (left == 0) break;
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            printf("{\"pid\":%d,\"error\":\"exited before ready\"}\n", pid);
            return 1;
        }
        if (now() - start > timeout) {
            printf("{\"pid\":%d,\"error\":\"not ready in %.0f s\"}\n", pid, timeout);
            return 1;
        }
        usleep(500);
    }
    printf("{\"pid\":%d,\"ready_ms\":%.1f}\n", pid, (now() - start) * 1000);
    fflush(stdout);
    return 0;
}
