@echo off
rem One pass of the runner for the Windows Task Scheduler: runs whatever is due now and exits.
rem Settings: %JOURNALDESK_CONFIG%, else config\settings.yaml of the project folder.
rem See docs\deployment.md.
chcp 65001 >nul
set PYTHONUTF8=1
cd /d "%~dp0.."
if "%JOURNALDESK_CONFIG%"=="" set JOURNALDESK_CONFIG=config\settings.yaml
".venv\Scripts\journaldesk.exe" run --once --config "%JOURNALDESK_CONFIG%" %*
exit /b %ERRORLEVEL%
