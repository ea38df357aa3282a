# casgate collector, part 1 of 2: certificate stores, keystore, IIS binding and client-certificate policy, SCHANNEL
# registry, OS, the server's clock. Reads only.
# Expects $ShorelineData; leaves the evidence in $result.
$ErrorActionPreference = 'Stop'
Import-Module WebAdministration
function Get-StoreDer($store) {
    @(Get-ChildItem "Cert:\LocalMachine\$store" | ForEach-Object { [Convert]::ToBase64String($_.RawData) })
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
$result = [ordered]@{
    os = (Get-CimInstance Win32_OperatingSystem | ForEach-Object { "$($_.Caption) $($_.Version)" })
    root = Get-StoreDer 'Root'
    my = Get-StoreDer 'My'
    keystore = @(Get-ChildItem $keystore -File | Where-Object { $_.Extension -in '.crt', '.cer' } | ForEach-Object {
        [ordered]@{ name = $_.Name; data = [Convert]::ToBase64String([IO.File]::ReadAllBytes($_.FullName)) } })
    bindings = @(Get-WebBinding -Name 'Default Web Site' | Select-Object 'protocol', 'bindingInformation', 'certificateHash', 'certificateStoreName')
    sslcert = (netsh http show sslcert | Out-String)
    registry = Get-RegistryTree @(
        'HKLM:\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL',
        'HKLM:\SOFTWARE\Policies\Microsoft\Cryptography\Configuration\SSL\00010002',
        'HKLM:\SYSTEM\CurrentControlSet\Control\Cryptography\Configuration\Local\SSL\00010002',
        'HKLM:\SYSTEM\CurrentControlSet\Services\HTTP\Parameters\SslBindingInfo')
    rebootPending = Test-Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired'
    w3svc = "$((Get-Service W3SVC).Status)"
    access = [ordered]@{ location = 'Default Web Site/shoreauth'; sslFlags = "$(if ($sslFlags -is [string]) { $sslFlags } else { $sslFlags.Value })" }
    now = (Get-Date).ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'")
}
