<#
.SYNOPSIS
    Build ConcGUI's Windows bundle (PyInstaller) and installer (NSIS) on Windows.

.DESCRIPTION
    Needs Python with the project and its packaging extra installed
    (pip install -e ".[package]") and NSIS 3 (makensis on PATH, or in its
    default folder; winget install NSIS.NSIS, or choco install nsis).
    Produces dist\concgui\ (the bundle) and dist\ConcGUI-<version>-setup.exe.
    Name, version and icon come from pyproject.toml (packaging/project_meta.py).

.EXAMPLE
    powershell -ExecutionPolicy Bypass -File packaging\build_windows.ps1
    powershell -File packaging\build_windows.ps1 -Python .venv\Scripts\python.exe -SkipSelfTest
#>
param(
    [string]$Python = "python",
    [string]$Out = "dist",
    [switch]$SkipSelfTest
)
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..")

function Invoke-Checked([string]$What, [scriptblock]$Command) {
    & $Command
    if ($LASTEXITCODE -ne 0) { throw "$What failed (exit code $LASTEXITCODE)" }
}

$Version = (& $Python packaging/project_meta.py version).Trim()
$WinVersion = (& $Python packaging/project_meta.py windows-version).Trim()
$AppName = (& $Python packaging/project_meta.py app-name).Trim()
$Name = (& $Python packaging/project_meta.py name).Trim()
if (-not $Version) { throw "could not read the version from pyproject.toml" }
Write-Host "== $AppName $Version"

Invoke-Checked "PyInstaller" {
    & $Python -m PyInstaller --noconfirm --log-level WARN --distpath $Out --workpath build\pyinstaller-windows `
        packaging\concgui.spec
}
$Bundle = (Resolve-Path (Join-Path $Out $Name)).Path
$Exe = Join-Path $Bundle "$Name.exe"

Write-Host "== smoke test"
$Printed = (& $Exe --version | Out-String).Trim()
if ($Printed -ne "ConcGUI $Version") { throw "$Exe --version printed '$Printed', expected 'ConcGUI $Version'" }
if (-not $SkipSelfTest) { Invoke-Checked "self-test" { & $Exe self-test } }

$MakeNsis = (Get-Command makensis -ErrorAction SilentlyContinue)
if ($MakeNsis) { $MakeNsis = $MakeNsis.Source }
else {
    foreach ($Candidate in @("${env:ProgramFiles(x86)}\NSIS\makensis.exe", "$env:ProgramFiles\NSIS\makensis.exe")) {
        if (Test-Path $Candidate) { $MakeNsis = $Candidate; break }
    }
}
if (-not $MakeNsis) { throw "makensis not found: install NSIS 3 (winget install NSIS.NSIS)" }

$Setup = Join-Path (Resolve-Path $Out).Path "$AppName-$Version-setup.exe"
$Icon = (Resolve-Path "resources\icons\$Name.ico").Path
Write-Host "== $Setup"
Invoke-Checked "makensis" {
    & $MakeNsis /V2 /WX "/DVERSION=$Version" "/DWIN_VERSION=$WinVersion" "/DAPP_NAME=$AppName" `
        "/DAPP_EXE=$Name.exe" "/DBUNDLE_DIR=$Bundle" "/DICON=$Icon" "/DOUTFILE=$Setup" `
        packaging\windows\concgui.nsi
}
Write-Host "== done: $Setup"
