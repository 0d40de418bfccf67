"""Network faults: an embedded Toxiproxy-compatible proxy and the adapter that drives it.

The engine uses `NetworkFaults` (route provider traffic through a proxy, apply a phase's
`network:` faults as toxics); `lab proxy serve` runs the embedded server standalone.
"""

from gaplab.netfault.client import ProxyInfo, ToxicInfo, ToxiproxyClient, ToxiproxyError
from gaplab.netfault.driver import NetworkFaults
from gaplab.netfault.server import EmbeddedToxiproxy, ToxiproxyServer
from gaplab.netfault.spec import NetworkFault

__all__ = [
    "EmbeddedToxiproxy",
    "NetworkFault",
    "NetworkFaults",
    "ProxyInfo",
    "ToxicInfo",
    "ToxiproxyClient",
    "ToxiproxyError",
    "ToxiproxyServer",
]
