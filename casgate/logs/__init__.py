"""Log forensics: IIS W3C logs and IP400 phone logs scanned in one streaming pass per file, each symptom line
attributed to its KB cause. `python -m casgate.logs FILES...` prints the attribution from logs alone."""
