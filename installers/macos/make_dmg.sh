#!/bin/sh
# Packs dist/InfluencerAI Studio.app (from `python installers/build.py` on a Mac) into
# dist/influencerai-studio-VERSION-macos-ARCH.dmg: the app beside a link to /Applications, so a
# user drags it across. Needs macOS (hdiutil, ditto, PlistBuddy). Not run on this project's
# machines (they have no Mac); the CI workflow runs it.
#
# The app is signed ad hoc by PyInstaller, not with a Developer ID nor notarized: the first start
# needs right-click > Open (or System Settings > Privacy & Security > Open Anyway).
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
app="$root/dist/InfluencerAI Studio.app"
if [ ! -d "$app" ]; then
    echo "error: $app is missing; build it first with: python installers/build.py" >&2
    exit 2
fi
version=$(/usr/libexec/PlistBuddy -c "Print :CFBundleShortVersionString" "$app/Contents/Info.plist")
out="$root/dist/influencerai-studio-$version-macos-$(uname -m).dmg"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
ditto "$app" "$stage/InfluencerAI Studio.app"  # keeps symlinks, permissions and the signature
ln -s /Applications "$stage/Applications"

rm -f "$out"
hdiutil create -volname "InfluencerAI Studio $version" -srcfolder "$stage" \
    -fs HFS+ -format UDZO -imagekey zlib-level=9 "$out"
hdiutil verify "$out"
echo "dmg: $out"
