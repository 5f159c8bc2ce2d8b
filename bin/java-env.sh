# Sourced by the project's entry points: finds a JDK >= 25 and exports JAVA_HOME for it.
# Order: JAVA_HOME if new enough, the `java` on PATH, then the usual install locations.

jobscheduler_java_major() {
    # Prints the feature version of the JDK at $1 (0 if it is not a JDK).
    local home=$1 version
    [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] || { echo 0; return; }
    if [ -f "$home/release" ]; then
        version=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release")
    fi
    if [ -z "$version" ]; then
        version=$("$home/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
    fi
    echo "${version:-0}"
}

jobscheduler_find_java() {
    local required=25 candidate
    local candidates=()
    [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
    if command -v java >/dev/null 2>&1; then
        candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
    fi
    for candidate in /usr/lib/jvm/* /opt/java/* /opt/jdk* /usr/local/lib/jvm/* \
                     "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/*; do
        [ -d "$candidate" ] && candidates+=("$candidate")
    done
    for candidate in "${candidates[@]}"; do
        if [ "$(jobscheduler_java_major "$candidate")" -ge "$required" ] 2>/dev/null; then
            export JAVA_HOME=$candidate
            export PATH="$JAVA_HOME/bin:$PATH"
            return 0
        fi
    done
    echo "jobscheduler needs a JDK $required or newer and found none (looked at JAVA_HOME, PATH and /usr/lib/jvm)." >&2
    echo "Install one, for example Temurin 25: apt-get install temurin-25-jdk (https://adoptium.net), or set JAVA_HOME to it." >&2
    return 1
}
