<#
casgate's air-gapped collector: run on the HQ server (administrative PowerShell) when the runner cannot reach it.
It reads the same evidence as casgate's live mode and writes a snapshot folder in the documented format
(docs/snapshot-format.md). It changes nothing on the server; it only writes into -Out.

    .\collect.ps1 -Out C:\casgate\hq01 -Fqdn hq01.corp.example -Address 192.0.2.10

Copy the folder to the runner and replay it: pytest --host hq01 --snapshots=<the folder's parent>
Windows PowerShell 4.0 (Server 2012 R2) to 5.1 (powershell.exe): PowerShell 7 has no IIS:\ drive for the
WebAdministration cmdlets. `#Requires -PSEdition` exists only from 5.1 (4.0 refuses the whole script), so the edition
is checked when the script runs.
#>
#Requires -Version 4.0
#Requires -RunAsAdministrator
param(
    [Parameter(Mandatory = $true)][string]$Out,
    [Parameter(Mandatory = $true)][string]$Fqdn,
    [Parameter(Mandatory = $true)][string]$Address,
    [string]$ShorelineData = 'C:\Shoreline Data',
    [int]$SinceHours = 24
)
$ErrorActionPreference = 'Stop'
if ($PSVersionTable.PSEdition -eq 'Core') { throw 'collect.ps1 runs in Windows PowerShell (powershell.exe): PowerShell 7 has no IIS:\ drive' }
$collectedAt = [DateTime]::UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", [Globalization.CultureInfo]::InvariantCulture)
. (Join-Path $PSScriptRoot 'host.ps1')
$evidence = $result
. (Join-Path $PSScriptRoot 'iislogs.ps1')
$logs = $result

function Write-Bytes($relative, $bytes) {
    $path = Join-Path $Out $relative
    [void][IO.Directory]::CreateDirectory((Split-Path $path))
    [IO.File]::WriteAllBytes($path, $bytes)
}
function Write-Text($relative, $text) {
    Write-Bytes $relative ([Text.Encoding]::UTF8.GetBytes($text))
}
$stores = @('root', 'my') + @(if ($null -ne $evidence.webhosting) { 'webhosting' })  # an empty array -ne $null is empty: $null first
foreach ($store in $stores) {
    [void][IO.Directory]::CreateDirectory((Join-Path $Out "certs\$store"))  # an empty store is an empty folder
    foreach ($der in $evidence[$store]) {
        $bytes = [Convert]::FromBase64String($der)
        $thumb = [BitConverter]::ToString([Security.Cryptography.SHA1]::Create().ComputeHash($bytes)).Replace('-', '')
        Write-Bytes "certs\$store\$thumb.cer" $bytes
    }
}
foreach ($file in $evidence.keystore) { Write-Bytes "keystore\$($file.name)" ([Convert]::FromBase64String($file.data)) }
Write-Text 'iis\bindings.json' (ConvertTo-Json -InputObject $evidence.bindings -Depth 3)
Write-Text 'iis\access.json' (ConvertTo-Json -InputObject $evidence.access)
foreach ($log in $logs) { Write-Text "iis\logs\$($log.name)" (($log.lines -join "`r`n") + "`r`n") }
[void][IO.Directory]::CreateDirectory((Join-Path $Out 'registry'))
reg export 'HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL' (Join-Path $Out 'registry\schannel.reg') /y | Out-Null
if (Test-Path 'HKLM:\SYSTEM\CurrentControlSet\Services\HTTP\Parameters\SslBindingInfo') { reg export 'HKLM\SYSTEM\CurrentControlSet\Services\HTTP\Parameters\SslBindingInfo' (Join-Path $Out 'registry\http-sslbindings.reg') /y | Out-Null }
foreach ($key in $evidence.registry.Keys | Where-Object { $_ -like '*Cryptography\Configuration*\00010002' }) {
    reg export $key (Join-Path $Out "registry\$($key.Split('\')[1].ToLowerInvariant())-cipher-policy.reg") /y | Out-Null
}
$probes = 'collect.ps1 runs on the server; the DNS and TLS probes must run from the phones'' network (casgate live mode)'
$clock = 'collect.ps1 runs on the server alone: there is no second clock to compare its clock with (casgate live mode)'
Write-Text 'manifest.json' (ConvertTo-Json -Depth 3 -InputObject ([ordered]@{
    host = $env:COMPUTERNAME.ToLowerInvariant(); fqdn = $Fqdn; address = $Address; os_version = $evidence.os
    collected_at = $collectedAt; source = 'live'; casgate_version = 'collect.ps1'
    collected = @($stores | ForEach-Object { "certs/$_/" }) + @('keystore/', 'iis/bindings.json', 'iis/access.json', 'iis/logs/', 'registry/')
    skipped = [ordered]@{ 'probes/dns.json' = $probes; 'probes/tls.json' = $probes; 'probes/https.json' = $probes; 'host/clock.json' = $clock }
}))
Write-Output "casgate snapshot written to $Out"
