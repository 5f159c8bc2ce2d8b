// Writes N bytes of a deterministic pseudo-random stream (xorshift64*) to stdout, fast: the job
// for the output scenario. Not periodic, so a reordered or repeated chunk changes the checksum.
// usage: gen BYTES
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <errno.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s BYTES\n", argv[0]);
        return 2;
    }
    long long left = atoll(argv[1]);
    static uint64_t buf[8192]; // 64 KiB
    uint64_t x = 0x9E3779B97F4A7C15ull;
    while (left > 0) {
        for (int i = 0; i < 8192; i++) {
            x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
            buf[i] = x * 0x2545F4914F6CDD1Dull;
        }
        size_t n = left < (long long) sizeof buf ? (size_t) left : sizeof buf;
        char *p = (char *) buf;
        while (n > 0) {
            ssize_t w = write(1, p, n);
            if (w < 0) {
                if (errno == EINTR) continue;
                return 1;
            }
            p += w; n -= w; left -= w;
        }
    }
    return 0;
}
