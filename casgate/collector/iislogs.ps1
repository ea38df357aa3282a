# casgate collector, part 2 of 2: Default Web Site's W3C logs written in the last $SinceHours hours, keeping the
# #-directives and the certauth lines only (what the checks read). Reads only. Leaves the files in $result.
$ErrorActionPreference = 'Stop'
Import-Module WebAdministration
$site = Get-Item 'IIS:\Sites\Default Web Site'
$folder = Join-Path ([Environment]::ExpandEnvironmentVariables($site.logFile.directory)) "W3SVC$($site.id)"
$cutoff = (Get-Date).AddHours(-$SinceHours)
$result = @(Get-ChildItem $folder -Filter '*.log' | Where-Object { $_.LastWriteTime -ge $cutoff } | ForEach-Object {
    [ordered]@{ name = $_.Name; lines = @(Select-String -LiteralPath $_.FullName -Pattern '^#|certauth' | ForEach-Object { $_.Line }) } })
