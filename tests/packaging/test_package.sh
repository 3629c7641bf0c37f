#!/usr/bin/env bash
# The Debian package as a user gets it: cpack builds it from the build folder, dpkg installs it into a
# fresh root, and the installed programs run from there with an empty environment (no build tree, no
# virtual environment on any path), then again after the whole install is moved elsewhere.
# Usage: test_package.sh BUILD_DIR CPACK
set -euo pipefail
BUILD="$1"
CPACK="${2:-cpack}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/emloc-package.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
APP_ID=org.emloc.Studio
DEMO_MODEL=SmolLM2-135M-Instruct.Q4_1.gguf

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
step() { printf '\n== %s\n' "$*"; }

step "Building the package (cpack)"
start=$(date +%s)
# cpack installs what is built (CMAKE_SKIP_INSTALL_ALL_DEPENDENCY): the product must be current.
cmake --build "$BUILD" --target emloc_product >"$WORK/build.log" 2>&1 ||
    { tail -40 "$WORK/build.log"; fail "building the programs failed"; }
"$CPACK" --config "$BUILD/CPackConfig.cmake" -B "$WORK/out" >"$WORK/cpack.log" 2>&1 ||
    { tail -40 "$WORK/cpack.log"; fail "cpack failed"; }
DEB="$(ls "$WORK"/out/*.deb)"
echo "$(basename "$DEB"): $(du -h "$DEB" | cut -f1) in $(($(date +%s) - start)) s"
rm -rf "$WORK/out/_CPack_Packages" # the staging copy: disk, not needed any more

step "Control fields"
for field in Package Version Architecture Maintainer Depends Description Section Homepage; do
    value="$(dpkg-deb -f "$DEB" "$field")"
    [ -n "$value" ] || fail "the control field $field is empty"
    echo "$field: ${value%%$'\n'*}"
done
[ "$(dpkg-deb -f "$DEB" Package)" = emloc-studio ] || fail "the package is not called emloc-studio"

step "Installing into a fresh root (dpkg --root)"
ROOT="$WORK/root"
mkdir -p "$ROOT/var/lib/dpkg/info" "$ROOT/var/lib/dpkg/updates" "$ROOT/var/lib/dpkg/triggers"
touch "$ROOT/var/lib/dpkg/status"
# The fresh root has no other package, so dpkg is told to install despite Depends; whether Depends can
# be met is checked against this machine below.
dpkg --root="$ROOT" --log=/dev/null --force-not-root --force-depends --force-script-chrootless -i "$DEB" \
    >"$WORK/dpkg.log" 2>&1 || { cat "$WORK/dpkg.log"; fail "dpkg -i failed"; }
# Pipelines into 'grep -q' are avoided in this script: with pipefail, grep leaving at the first match can
# kill the writer with SIGPIPE and fail a check that held (this once failed CI on a correct package).
installed_status="$(dpkg --root="$ROOT" -s emloc-studio)"
grep -q '^Status: install ok installed' <<<"$installed_status" || fail "dpkg does not list it installed"
echo "installed: $(du -sh "$ROOT/usr" | cut -f1)"

step "Installed files"
expected=(
    usr/bin/emloc usr/bin/emloc-studio usr/lib/emloc-studio/emloc-engine
    usr/share/applications/$APP_ID.desktop usr/share/metainfo/$APP_ID.metainfo.xml
    usr/share/mime/packages/emloc-studio.xml usr/share/icons/hicolor/scalable/apps/$APP_ID.svg
    usr/share/emloc-studio/demo/$DEMO_MODEL usr/share/emloc-studio/demo/bookings-train.jsonl
    usr/share/emloc-studio/demo/bookings-test.jsonl usr/share/emloc-studio/demo/demo-run.json
    usr/share/emloc-studio/translations/emloc_zh_TW.qm usr/share/doc/emloc-studio/copyright
)
for size in 16 24 32 48 64 128 256; do
    expected+=("usr/share/icons/hicolor/${size}x${size}/apps/$APP_ID.png")
done
for file in "${expected[@]}"; do
    [ -s "$ROOT/$file" ] || fail "$file is missing from the package"
done
for size in 16 48 256; do
    icon_kind="$(file "$ROOT/usr/share/icons/hicolor/${size}x${size}/apps/$APP_ID.png")"
    grep -q "$size x $size" <<<"$icon_kind" ||
        fail "the ${size}x${size} icon has another size"
done
echo "${#expected[@]} files present"

step "Libraries: bundled ones resolve inside the install, system ones come from a package in Depends"
mapfile -t depends < <(dpkg-deb -f "$DEB" Depends | tr ',' '\n' | sed 's/(.*//; s/[[:space:]]//g')
declare -A in_depends=()
for package in "${depends[@]}"; do
    in_depends[$package]=1
    [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)" = 'install ok installed' ] ||
        fail "Depends names $package, which this machine does not have installed"
done
declare -A owners=()
owner_of() { # the Debian package that installed a library path (usr-merged or not)
    local path="$1" alt found
    alt="${path#/usr}"
    [ "$alt" = "$path" ] && alt="/usr$path"
    for candidate in "$path" "$alt"; do
        found="$(dpkg -S "$candidate" 2>/dev/null || true)"
        if [ -n "$found" ]; then
            echo "${found%%:*}" # 'libc6:amd64: /lib/...' -> libc6
            return
        fi
    done
}
checked=0
while IFS= read -r elf; do
    ldd_out="$(env -i ldd "$elf")"
    ! grep -q 'not found' <<<"$ldd_out" || fail "$elf: $(grep 'not found' <<<"$ldd_out" | head -3)"
    for soname in $(readelf -d "$elf" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
        path="$(awk -v s="$soname" '$1 == s && $2 == "=>" {print $3}' <<<"$ldd_out")"
        [ -n "$path" ] || continue # the dynamic loader itself
        case "$path" in
            "$ROOT"/*) continue ;;
            /lib/* | /usr/lib/*) ;;
            *) fail "$elf loads $soname from $path, outside the install and the system" ;;
        esac
        if [ -z "${owners[$path]+set}" ]; then
            owners[$path]="$(owner_of "$path")"
        fi
        owner="${owners[$path]}"
        [ -n "$owner" ] || fail "$elf needs $path, which no Debian package installed"
        [ -n "${in_depends[$owner]+set}" ] ||
            fail "$(basename "$elf") needs $soname from the Debian package $owner, which Depends does not name"
    done
    checked=$((checked + 1))
done < <(find "$ROOT/usr/bin" "$ROOT/usr/lib" -type f \( -perm -u+x -o -name '*.so*' \))
echo "$checked ELF files checked"

step "Desktop entry and AppStream metadata"
desktop-file-validate "$ROOT/usr/share/applications/$APP_ID.desktop" || fail "desktop-file-validate"
appstreamcli validate --no-net --pedantic "$ROOT/usr/share/metainfo/$APP_ID.metainfo.xml" ||
    fail "appstreamcli validate"

run_installed() { # PREFIX: the programs of the install under PREFIX, in an empty environment
    local prefix="$1"
    local env=(env -i "PATH=/usr/bin:/bin" "HOME=$WORK/home" "QT_QPA_PLATFORM=offscreen" "OMP_NUM_THREADS=1")
    "${env[@]}" "$prefix/bin/emloc" --version | tee "$WORK/version.txt"
    grep -q '^emloc [0-9]' "$WORK/version.txt" || fail "emloc --version printed no version"
    "${env[@]}" "$prefix/bin/emloc" info "$prefix/share/emloc-studio/demo/$DEMO_MODEL" | tee "$WORK/info.txt"
    grep -q 'llama, 30 layers' "$WORK/info.txt" || fail "emloc info did not read the installed demo model"
    "${env[@]}" "$prefix/bin/emloc-studio" --self-test 2>"$WORK/gui.err" | tee "$WORK/self-test.txt" ||
        { cat "$WORK/gui.err"; fail "emloc-studio --self-test failed"; }
    grep -q "^ok   data: $(realpath "$prefix")/share/emloc-studio" "$WORK/self-test.txt" ||
        fail "the GUI did not take its data from the install"
}

step "Running the installed programs"
run_installed "$ROOT/usr"

step "Running them again after moving the install (relocatable)"
mkdir -p "$WORK/elsewhere"
mv "$ROOT/usr" "$WORK/elsewhere/prefix"
run_installed "$WORK/elsewhere/prefix"

printf '\nThe package builds, installs and runs.\n'
