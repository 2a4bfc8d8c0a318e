#!/bin/sh
# Build ConcGUI.app and a .dmg on macOS (hdiutil exists only there).
#
#   sh packaging/build_macos.sh            # python3 from PATH, with: pip install -e '.[package]'
#   PYTHON=.venv/bin/python sh packaging/build_macos.sh
#
# Signing and notarisation run only when their credentials are in the environment:
#   MACOS_SIGN_IDENTITY   "Developer ID Application: Name (TEAMID)" in the keychain: signs the
#                         app (hardened runtime, packaging/macos/entitlements.plist) and the .dmg
#   APPLE_ID, APPLE_TEAM_ID, APPLE_APP_PASSWORD (app-specific password), or
#   NOTARY_KEYCHAIN_PROFILE (xcrun notarytool store-credentials): notarise and staple the .dmg
# Without them the app is signed ad hoc: it runs here, Gatekeeper warns elsewhere.
set -eu
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
OUT=${OUT:-dist}

if [ "$(uname -s)" != "Darwin" ]; then
    echo "build_macos.sh: run this on macOS (Linux: build_linux.py, Windows: build_windows.ps1)" >&2
    exit 2
fi
VERSION=$("$PYTHON" packaging/project_meta.py version)
APP_NAME=$("$PYTHON" packaging/project_meta.py app-name)
NAME=$("$PYTHON" packaging/project_meta.py name)
APP="$OUT/$APP_NAME.app"
DMG="$OUT/$APP_NAME-$VERSION-macos-$(uname -m).dmg"

echo "== PyInstaller: $APP"
"$PYTHON" -m PyInstaller --noconfirm --log-level WARN --distpath "$OUT" --workpath build/pyinstaller-macos \
    packaging/concgui.spec

echo "== smoke test"
"$APP/Contents/MacOS/$NAME" --version
"$APP/Contents/MacOS/$NAME" self-test

if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
    echo "== verify signature"
    codesign --verify --deep --strict --verbose=2 "$APP"
else
    echo "== not signed for distribution (MACOS_SIGN_IDENTITY is not set)"
fi

echo "== $DMG"
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
rm -f "$DMG"
hdiutil create -volname "$APP_NAME $VERSION" -srcfolder "$STAGE" -fs HFS+ -format UDZO -ov "$DMG"

if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
    codesign --force --timestamp --sign "$MACOS_SIGN_IDENTITY" "$DMG"
    if [ -n "${NOTARY_KEYCHAIN_PROFILE:-}" ]; then
        echo "== notarise (keychain profile)"
        xcrun notarytool submit "$DMG" --keychain-profile "$NOTARY_KEYCHAIN_PROFILE" --wait
        xcrun stapler staple "$DMG"
    elif [ -n "${APPLE_ID:-}" ] && [ -n "${APPLE_TEAM_ID:-}" ] && [ -n "${APPLE_APP_PASSWORD:-}" ]; then
        echo "== notarise (Apple ID)"
        xcrun notarytool submit "$DMG" --apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" \
            --password "$APPLE_APP_PASSWORD" --wait
        xcrun stapler staple "$DMG"
    else
        echo "== not notarised (no NOTARY_KEYCHAIN_PROFILE or APPLE_ID/APPLE_TEAM_ID/APPLE_APP_PASSWORD)"
    fi
fi
echo "== done: $APP, $DMG"
