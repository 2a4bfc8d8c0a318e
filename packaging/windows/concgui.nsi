; ConcGUI's Windows installer (NSIS 3, Unicode).
;
; Built by packaging/build_windows.ps1 after PyInstaller, for example:
;   makensis /DVERSION=0.1.0 /DWIN_VERSION=0.1.0.0 /DBUNDLE_DIR=..\..\dist\concgui concgui.nsi
; On Linux, build_linux.py --check-nsis compiles it against the Linux bundle
; (/DAPP_EXE=concgui /DCOMPRESSION=off) as a check of this script.
;
; Installs for all users into Program Files, adds a Start-menu shortcut and
; an entry in "Apps & features" (uninstall registry key); the uninstaller
; removes all of it.  The user's data (history, settings) is left alone.

Unicode true

!ifndef VERSION
  !error "pass the version: makensis /DVERSION=x.y.z (build_windows.ps1 reads it from pyproject.toml)"
!endif
!ifndef WIN_VERSION
  !define WIN_VERSION "${VERSION}.0"
!endif
!ifndef APP_NAME
  !define APP_NAME "ConcGUI"
!endif
!ifndef APP_EXE
  !define APP_EXE "concgui.exe"
!endif
!ifndef BUNDLE_DIR
  !define BUNDLE_DIR "..\..\dist\concgui"
!endif
!ifndef ICON
  !define ICON "..\..\resources\icons\concgui.ico"
!endif
!ifndef OUTFILE
  !define OUTFILE "..\..\dist\${APP_NAME}-${VERSION}-setup.exe"
!endif
!define PUBLISHER "ConcGUI developers"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APP_NAME}"

!ifdef COMPRESSION
  SetCompress ${COMPRESSION}
!else
  SetCompressor /SOLID lzma
!endif

Name "${APP_NAME} ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\${APP_NAME}"
InstallDirRegKey HKLM "${UNINSTALL_KEY}" "InstallLocation"
RequestExecutionLevel admin
ManifestDPIAware true
BrandingText "${APP_NAME} ${VERSION}"

VIProductVersion "${WIN_VERSION}"
VIAddVersionKey "ProductName" "${APP_NAME}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "${APP_NAME} installer"
VIAddVersionKey "CompanyName" "${PUBLISHER}"
VIAddVersionKey "LegalCopyright" "${PUBLISHER}"

!include "MUI2.nsh"
!include "FileFunc.nsh"
!include "x64.nsh"

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN "$INSTDIR\${APP_EXE}"
!define MUI_FINISHPAGE_RUN_TEXT "Start ${APP_NAME}"

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Function .onInit
  ${If} ${RunningX64}
    SetRegView 64
  ${EndIf}
  SetShellVarContext all
FunctionEnd

Function un.onInit
  ${If} ${RunningX64}
    SetRegView 64
  ${EndIf}
  SetShellVarContext all
FunctionEnd

Section "${APP_NAME}" SecApp
  SectionIn RO
  ; An earlier version's files go first, so no stale module outlives an upgrade.
  RMDir /r "$INSTDIR\_internal"
  SetOutPath "$INSTDIR"
  File /r "${BUNDLE_DIR}/*"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  CreateShortcut "$SMPROGRAMS\${APP_NAME}.lnk" "$INSTDIR\${APP_EXE}" "" "$INSTDIR\${APP_EXE}" 0

  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayName" "${APP_NAME}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\${APP_EXE},0"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKLM "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "EstimatedSize" "$0"
SectionEnd

Section "Uninstall"
  Delete "$SMPROGRAMS\${APP_NAME}.lnk"
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\${APP_EXE}"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKLM "${UNINSTALL_KEY}"
SectionEnd
