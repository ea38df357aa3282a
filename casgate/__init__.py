"""casgate: a pytest gate that tells why IP400 phones fail to connect to a Mitel Connect HQ server's CAS."""

__version__ = "0.1.0"
