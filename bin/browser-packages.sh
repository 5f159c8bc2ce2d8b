# Sourced by bin/test and .ci/run: makes sure Debian's chromium and chromium-driver are there
# for the dashboard's browser test (DashboardBrowserTest), installing them with apt-get when this
# user is root on a Debian-like system. Anywhere else it says why, and the test skips, saying so.
jobscheduler_browser_packages() {
    if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
        return 0
    fi
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing chromium and chromium-driver for the dashboard's browser test (apt-get)" >&2
        local log
        log=$(mktemp)
        if { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; } \
                >"$log" 2>&1; then
            rm -f "$log"
            return 0
        fi
        echo "could not install chromium and chromium-driver (apt-get's output: $log); the browser test will skip" >&2
        return 0
    fi
    echo "chromium and chromium-driver are missing and this user cannot install them with apt-get;" \
         "the dashboard's browser test will skip" >&2
}
