# Sourced by bin/jobscheduler and bin/make-dist (after java-env.sh): the JVM flags every start
# uses, the build of target/jobscheduler.jar with progress a person can follow, and the
# recording of the JVM's ahead-of-time cache.

# The JVM flags of every start: bin/jobscheduler, the dist's launcher (bin/make-dist writes this
# list into it) and the AOT training run (the cache is recorded with the flags it is used with).
# Each flag says what it bought (issue 19; BENCHMARKS.md, "Round two": medians of 3 starts,
# RssAnon of the idle process; after the output scenarios: 1 GiB to 1 reader, 100 MiB to 100).
jobscheduler_jvm_flags=(--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow
    # Serial GC: both processes keep little live data (10-20 MB), and on 2 cores the serial
    # collector costs least. A heap that starts small: the idle heap is what the process uses.
    -XX:+UseSerialGC -Xms16m
    # A heap ceiling: without it the young generation grows with the allocation rate of streaming
    # and the heap reached 510 MB (scheduler) / 431 MB (worker) after the output scenarios, with
    # 18-50 MB live. At 128 MB alone: RssAnon after them, scheduler 1,005 -> 593 MB, worker
    # 524 -> 221 MB; 96 MB (with the lines below): the worker's 145 MB, every byte still delivered.
    -Xmx96m
    # Direct memory is no longer tied to the heap ceiling (its default): 100 followed streams
    # hold up to 1 MiB of gRPC flow-control window each in direct buffers. Capped, so a fan-out
    # beyond it fails streams instead of growing the process.
    -XX:MaxDirectMemorySize=512m
    # grpc-netty's pooled allocator keeps every 2 MiB chunk it once used: 229 MB of direct
    # memory stayed committed after the streams ended (NMT "Other"). Unpooled buffers go back
    # when released; the output throughput stayed within the noise (BENCHMARKS.md).
    -Dio.grpc.netty.useCustomAllocator=false -Dio.grpc.netty.shaded.io.netty.allocator.type=unpooled
    # glibc keeps the memory that is freed (the released buffers) in its arenas: unpooled, NMT
    # counted 0.2 MB of direct memory after the streams but RssAnon stayed at 548 MB. A trim every
    # 5 s gives it back: 5 s after the streams, scheduler 347 -> 155 MB RssAnon.
    -XX:TrimNativeHeapInterval=5000
    # Map the AOT cache at the address it was recorded for instead of a random one: relocating
    # it writes a pointer on nearly every page, and those 26 MB turn private (RssAnon of an idle
    # worker 96.4 -> 69.9 MB, scheduler 96.3 -> 70.2 MB). If that address is taken the JVM
    # relocates as before. The cost: the cache's classes lie at a predictable address (the JDK's
    # behaviour before JDK 20's default of ArchiveRelocationMode=1).
    -XX:+UnlockDiagnosticVMOptions -XX:ArchiveRelocationMode=0)

# What the scheduler needs on top (bin/jobscheduler and the dist's launcher add it for `scheduler`
# and `dev`): its live heap grows with what it holds, ~23 KB per registered worker (BENCHMARKS.md,
# "10,000 workers at rest") plus its job index (`job_index_size` entries), so under the 96 MB above
# it failed with OutOfMemoryError at ~3,500 workers. 512 MB holds ~20,000. Its young generation is
# capped at 32 MB: streaming's garbage then dies in small young collections instead of growing the
# heap toward the ceiling (RSS after the output scenarios, measured: 624 MB without the cap, 378 MB
# with it; 225 MB under 96 MB). Not in the AOT cache's flag list: the cache is recorded once for all
# roles and maps with any heap ceiling (checked with -Xlog:aot).
jobscheduler_scheduler_flags=(-Xmx512m -XX:MaxNewSize=32m)

# What the worker changes: its heap starts at 8 MB, the most of its idle heap it touches (RssAnon
# of an idle worker, 8 s at rest, median of 3: 64.2 -> 61.8 MB; CPU to ready unchanged). Its
# ceiling stays: under 100 followed streams its live heap is ~43 MB, and at -Xmx64m it ran 2,210
# full collections and cut every stream of one round (BENCHMARKS.md, "Round three").
jobscheduler_worker_flags=(-Xms8m)

jobscheduler_role_flags() {
    # The flags of the role a launcher's first argument names, one per line. They come after the
    # flag list above, so they override it, and stay out of the AOT cache's flag list (the cache
    # maps with any heap size, checked with -Xlog:aot).
    case ${1:-} in
        scheduler|dev) printf '%s\n' "${jobscheduler_scheduler_flags[@]}" ;;
        worker) printf '%s\n' "${jobscheduler_worker_flags[@]}" ;;
    esac
}

jobscheduler_jvm_flags_text() {
    # The flag list as one line: recorded beside an AOT cache, which the JVM refuses (silently,
    # with the launchers' -Xlog:aot*=off) when it is used with flags it was not recorded with.
    printf '%s\n' "${jobscheduler_jvm_flags[*]}"
}

jobscheduler_aot_is_stale() {
    # True when the AOT cache $2 is missing, older than the jar $1, or recorded with other flags.
    [ ! -f "$2" ] || [ "$1" -nt "$2" ] || [ "$(cat "$2.flags" 2>/dev/null)" != "$(jobscheduler_jvm_flags_text)" ]
}

jobscheduler_jar_is_stale() {
    # True when $1/target/jobscheduler.jar is missing or older than the sources.
    local root=$1 jar=$1/target/jobscheduler.jar
    [ ! -f "$jar" ] || [ -n "$(find "$root/src/main" "$root/proto" "$root/pom.xml" -newer "$jar" -print -quit)" ]
}

jobscheduler_build_jar() {
    # Builds $1/target/jobscheduler.jar, one line per step on stderr (Maven's own output goes to
    # target/build.log, shown when the build fails).
    local root=$1 log line step started=$SECONDS
    log=$(mktemp "${TMPDIR:-/tmp}/jobscheduler-build.XXXXXX")
    if [ -d "${MAVEN_USER_HOME:-$HOME/.m2}/wrapper/dists/apache-maven-3.9.11" ]; then
        echo "Building target/jobscheduler.jar (about 15 s; the first build also downloads the dependencies, about a minute) ..." >&2
    else
        echo "Building target/jobscheduler.jar: first build, downloading Maven 3.9.11 and the dependencies (about a minute) ..." >&2
    fi
    if (cd "$root" && ./mvnw -B -Dstyle.color=never -Dmaven.test.skip=true clean package 2>&1) \
        | { downloading=; while IFS= read -r line; do
            printf '%s\n' "$line" >> "$log"
            case $line in
                *"Downloading from"*)
                    if [ -z "$downloading" ]; then
                        echo "  $(jobscheduler_elapsed $started) downloading dependencies (first build only) ..." >&2
                    fi
                    downloading=yes ;;
                "[INFO] --- "*)
                    downloading=
                    step=$(jobscheduler_step_name "$line")
                    if [ -n "$step" ]; then echo "  $(jobscheduler_elapsed $started) $step" >&2; fi ;;
            esac
        done; } && grep -q "BUILD SUCCESS" "$log"; then
        mkdir -p "$root/target" && mv -f "$log" "$root/target/build.log"
        echo "  $(jobscheduler_elapsed $started) done" >&2
    else
        mkdir -p "$root/target" && mv -f "$log" "$root/target/build.log"
        grep -E "^\[ERROR\]" "$root/target/build.log" | head -n 20 >&2
        echo "The build failed; Maven's whole output is in target/build.log" >&2
        return 1
    fi
}

jobscheduler_elapsed() {
    printf '[%2ds]' $((SECONDS - $1))
}

jobscheduler_step_name() {
    # "[INFO] --- compiler:3.11.0:compile (default-compile) @ jobscheduler ---" -> "compiling"
    case $1 in
        *" clean:"*) echo "cleaning target/" ;;
        *"protobuf:"*":compile "*) echo "generating the protobuf classes from proto/" ;;
        *"protobuf:"*":compile-custom "*) echo "generating the gRPC stubs" ;;
        *" compiler:"*":compile "*) echo "compiling" ;;
        *" dependency:"*) echo "copying the libraries to target/libs" ;;
        *" jar:"*) echo "packaging target/jobscheduler.jar" ;;
    esac
}

jobscheduler_record_aot() {
    # Records the AOT cache $3 for the jar $2 with the java $1: a training run (a scheduler and a
    # worker in one process, one job through the API) records the classes every start needs;
    # later starts map them instead of loading them (JEP 483/514). Into a file of its own, then
    # moved: processes started at once never read a half-written cache. $4: the training log.
    local java=$1 jar=$2 aot=$3 log=$4 fresh="$3.$$" started=$SECONDS
    echo "Recording the JVM's ahead-of-time cache (once per build, about 15 s) ..." >&2
    if "$java" "${jobscheduler_jvm_flags[@]}" -XX:AOTCacheOutput="$fresh" -jar "$jar" train > "$log" 2>&1 \
            && [ -s "$fresh" ]; then
        mv -f "$fresh" "$aot"
        jobscheduler_jvm_flags_text > "$aot.flags"
        echo "  $(jobscheduler_elapsed $started) done" >&2
    else
        echo "warning: the training run failed (see $log); starting without the cache" >&2
        rm -f "$fresh"
        return 1
    fi
}
