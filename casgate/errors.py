"""Exception types; each message names the artifact and says what to do."""


class CasgateError(Exception):
    """Base of every error casgate raises on purpose."""


class EvidenceError(CasgateError):
    """Evidence is missing, unreadable or malformed; the check cannot judge and must not pass."""

    def __init__(self, artifact: str, problem: str) -> None:
        super().__init__(f"{artifact}: {problem}")
        self.artifact = artifact
        self.problem = problem


class NotCollected(CasgateError):
    """Evidence deliberately not collected (e.g. connection = "none"): the checks that need it are skipped."""

    def __init__(self, artifact: str, reason: str) -> None:
        super().__init__(f"{artifact} not collected: {reason}")


class PrivateKeyRefused(EvidenceError):
    """A snapshot file holds a private key; casgate never reads or stores private keys."""

    def __init__(self, artifact: str) -> None:
        super().__init__(
            artifact,
            "contains a private key; casgate never reads private keys. "
            "Delete this file from the snapshot (copy only the public .crt/.cer files).",
        )
