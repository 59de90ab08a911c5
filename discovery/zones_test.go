package discovery

// Test zones, served both by the embedded server and by knot.
const zoneExample = `$ORIGIN example.net.
$TTL 60
@            IN SOA ns.example.net. hostmaster.example.net. 1 3600 600 86400 60
@            IN NS  ns.example.net.
ns           IN AAAA 2001:db8::53
_mip6._ipv6  IN SRV 10 60 0 ha1.example.net.
_mip6._ipv6  IN SRV 10 40 0 ha2.example.net.
_mip6._ipv6  IN SRV 20 0  0 ha3.example.net.
ha1          IN AAAA 2001:db8:1::1
ha2          IN AAAA 2001:db8:1::2
ha3          IN AAAA 2001:db8:2::3
ha           IN AAAA 2001:db8:1::1
`

// zoneBroken has SRV records but nothing usable behind them.
const zoneBroken = `$ORIGIN broken.example.
$TTL 60
@            IN SOA ns.broken.example. hostmaster.broken.example. 1 3600 600 86400 60
@            IN NS  ns.broken.example.
ns           IN AAAA 2001:db8::53
_mip6._ipv6  IN SRV 10 10 0 gone.broken.example.
_mip6._ipv6  IN SRV 10 10 0 lo.broken.example.
lo           IN AAAA ::1
`

// zoneEmpty has no home agent records at all.
const zoneEmpty = `$ORIGIN empty.example.
$TTL 60
@            IN SOA ns.empty.example. hostmaster.empty.example. 1 3600 600 86400 60
@            IN NS  ns.empty.example.
ns           IN AAAA 2001:db8::53
www          IN AAAA 2001:db8::80
`

// zoneNone says the service is decidedly not available (RFC 2782).
const zoneNone = `$ORIGIN none.example.
$TTL 60
@            IN SOA ns.none.example. hostmaster.none.example. 1 3600 600 86400 60
@            IN NS  ns.none.example.
ns           IN AAAA 2001:db8::53
_mip6._ipv6  IN SRV 0 0 0 .
`
