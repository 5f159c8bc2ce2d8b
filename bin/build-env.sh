# Sourced by bin/jobscheduler and bin/make-dist (after java-env.sh): the JVM flags every start
# uses, the build of target/jobscheduler.jar with progress a person can follow, and the
# recording of the JVM's ahead-of-time cache.

# Serial GC and a heap that starts small: both processes keep little live data, and on a
# machine of two cores the serial collector costs least. The dist's launcher carries the same
# list (bin/make-dist writes it there from this one).
jobscheduler_jvm_flags=(--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow
                        -XX:+UseSerialGC -Xms16m -Xmx512m)

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
        echo "  $(jobscheduler_elapsed $started) done" >&2
    else
        echo "warning: the training run failed (see $log); starting without the cache" >&2
        rm -f "$fresh"
        return 1
    fi
}
