# Print $result as one ASCII-only JSON document: WinRM's console code page would mangle anything else.
$json = ConvertTo-Json -InputObject $result -Depth 6 -Compress
[regex]::Replace($json, '[^\x00-\x7f]', { param($m) '\u' + ([int][char]$m.Value).ToString('x4', [Globalization.CultureInfo]::InvariantCulture) })
