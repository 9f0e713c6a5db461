; Inno Setup 6 script: a Windows installer over the one-folder bundle.
;
;   python installers\build.py                       (makes dist\influencerai-studio\)
;   iscc /DAppVersion=0.1.0 installers\windows\influencerai-studio.iss
;
; Writes dist\influencerai-studio-VERSION-windows-x64-setup.exe. Installs for the current user by
; default (no administrator needed; the setup offers all users), adds a Start-menu entry and an
; uninstaller. Uninstalling keeps the data folder in %LOCALAPPDATA%: it holds the user's work.
; Not run on this project's machines (they have no Windows); the CI workflow builds it.

#define AppName "InfluencerAI Studio"
#define AppExe "influencerai-studio.exe"
#define Bundle "..\..\dist\influencerai-studio"
#ifndef AppVersion
  ; The version the spec wrote into the executable's version resource.
  #define AppVersion GetStringFileInfo(Bundle + "\" + AppExe, "ProductVersion")
#endif

[Setup]
; The AppId identifies the installation for upgrades and the uninstaller: never change it.
AppId={{1414F70F-187A-4482-B2B6-8910CDB3D872}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher={#AppName}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=influencerai-studio-{#AppVersion}-windows-x64-setup
SetupIconFile=..\..\build\pyinstaller\influencerai-studio\icons\app.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; The worker may go on in the background after the window closes (long trainings): the Restart
; Manager asks it to close before files are replaced or removed.
CloseApplications=yes
RestartApplications=no

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#Bundle}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{group}\Uninstall {#AppName}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

