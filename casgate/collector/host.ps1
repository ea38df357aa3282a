# casgate collector, part 1 of 2: certificate stores, keystore, IIS binding and client-certificate policy, SCHANNEL
# registry, OS, the server's clock. Reads only. Windows PowerShell 4.0 (Server 2012 R2) to 5.1.
# Expects $ShorelineData; leaves the evidence in $result.
$ErrorActionPreference = 'Stop'
Import-Module WebAdministration
function Get-StoreDer($store) {
    Get-ChildItem "Cert:\LocalMachine\$store" | ForEach-Object { [Convert]::ToBase64String($_.RawData) }
}
function Get-RegistryTree($paths) {
    $tree = [ordered]@{}
    foreach ($path in $paths | Where-Object { Test-Path $_ }) {
        foreach ($key in @(Get-Item $path) + @(Get-ChildItem $path -Recurse)) {
            $values = [ordered]@{}
            foreach ($name in $key.GetValueNames()) {
                $values[$name] = [ordered]@{ kind = "$($key.GetValueKind($name))"; value = $key.GetValue($name, $null, 'DoNotExpandEnvironmentNames') }
            }
            $tree[$key.Name] = $values
        }
    }
    $tree
}
$keystore = Join-Path $ShorelineData 'Keystore\certs'
# sslFlags where the phones post, as IIS's configuration system resolves it (inheritance included); a string of flag
# names, or a ConfigurationAttribute whose Value may be the number.
$sslFlags = Get-WebConfigurationProperty -PSPath 'MACHINE/WEBROOT/APPHOST' -Location 'Default Web Site/shoreauth' -Filter 'system.webServer/security/access' -Name sslFlags
# WebHosting (IIS 8+) holds certificates bound from that store; a server without it says null, not an empty store.
$webHosting = $null
if (Test-Path 'Cert:\LocalMachine\WebHosting') { $webHosting = @(Get-StoreDer 'WebHosting') }
# Each store in @(): a function's output is unrolled, so an empty store would be null and one certificate a string.
$result = [ordered]@{
    os = (Get-CimInstance Win32_OperatingSystem | ForEach-Object { "$($_.Caption) $($_.Version)" })
    root = @(Get-StoreDer 'Root')
    my = @(Get-StoreDer 'My')
    webhosting = $webHosting
    keystore = @(Get-ChildItem $keystore -File | Where-Object { $_.Extension -in '.crt', '.cer' } | ForEach-Object {
        [ordered]@{ name = $_.Name; data = [Convert]::ToBase64String([IO.File]::ReadAllBytes($_.FullName)) } })
    bindings = @(Get-WebBinding -Name 'Default Web Site' | Select-Object 'protocol', 'bindingInformation', 'sslFlags', 'certificateHash', 'certificateStoreName')
    sslcert = (netsh http show sslcert | Out-String)
    registry = Get-RegistryTree @(
        'HKLM:\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL',
        'HKLM:\SOFTWARE\Policies\Microsoft\Cryptography\Configuration\SSL\00010002',
        'HKLM:\SYSTEM\CurrentControlSet\Control\Cryptography\Configuration\Local\SSL\00010002',
        'HKLM:\SYSTEM\CurrentControlSet\Services\HTTP\Parameters\SslBindingInfo')
    rebootPending = Test-Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired'
    w3svc = "$((Get-Service W3SVC).Status)"
    access = [ordered]@{ location = 'Default Web Site/shoreauth'; sslFlags = "$(if ($sslFlags -is [string]) { $sslFlags } else { $sslFlags.Value })" }
    # InvariantCulture: in the server's own culture a Thai-language server's calendar says 2569
    now = [DateTime]::UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", [Globalization.CultureInfo]::InvariantCulture)
}
