#!/bin/sh
# Adds InfluencerAI Studio from this folder to the current user's applications menu and PATH
# (no root needed): a .desktop entry, its icon, and ~/.local/bin/influencerai-studio.
#   ./install.sh              add (again, after moving this folder)
#   ./install.sh --uninstall  remove them (your data folder is kept)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
bin=$HOME/.local/bin
desktop=$data/applications/influencerai-studio.desktop
icon=$data/icons/hicolor/512x512/apps/influencerai-studio.png

if [ "${1:-}" = "--uninstall" ]; then
    rm -f "$desktop" "$icon"
    if [ -L "$bin/influencerai-studio" ]; then rm -f "$bin/influencerai-studio"; fi
    echo "InfluencerAI Studio removed from the menu; $here and your data are untouched."
    exit 0
fi

case $here in
    *[\"\`\$\\]*) echo "error: move this folder to a path without quotes, \$, \` or \\ first" >&2; exit 2 ;;
esac
mkdir -p "$data/applications" "$(dirname "$icon")" "$bin"
cp "$here/influencerai-studio.png" "$icon"
while IFS= read -r line; do
    case $line in
        Exec=*) printf 'Exec="%s"\n' "$here/influencerai-studio" ;;
        Icon=*) printf 'Icon=%s\n' "$icon" ;;
        *) printf '%s\n' "$line" ;;
    esac
done < "$here/influencerai-studio.desktop" > "$desktop.tmp"
mv "$desktop.tmp" "$desktop"
ln -sfn "$here/influencerai-studio" "$bin/influencerai-studio"
echo "InfluencerAI Studio added to the applications menu ($desktop) and to $bin."
