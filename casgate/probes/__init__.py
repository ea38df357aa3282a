"""Network probes run from the test runner, i.e. from the phones' side of the network; each returns the JSON
document a snapshot stores under probes/, so a recorded run replays exactly what the live run saw."""
