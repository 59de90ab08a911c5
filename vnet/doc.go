// Package vnet is an in-process IPv6 network for tests and the demo: links,
// nodes, a router and sockets that carry real IPv6 packets (byte slices of
// whole packets, starting at the IPv6 header) so every role runs unchanged
// over it and every packet can be captured.
//
// Model:
//
//   - A Link is an L2 segment with an on-link prefix and an optional default
//     gateway. Interfaces attach to it. Transmission resolves the next hop on
//     the link: an address claimed by proxy ND (Link.Claim, what a home agent
//     does for a registered home address) wins over the interface that owns
//     the address. Unresolvable next hops are dropped and counted.
//   - Loss and latency are deterministic data: Link.SetLatency and
//     Link.SetLoss (a function of the link's transmit sequence number, e.g.
//     DropEvery or DropSeq).
//   - A Node owns interfaces, addresses and a routing table (on-link prefixes
//     of its interfaces, then Node.AddRoute entries, then the attached links'
//     gateways). A node with forwarding on is a router: it decrements the hop
//     limit and sends ICMPv6 Time Exceeded / Destination Unreachable errors
//     when Network.ICMPErrors is set.
//   - Each node processes its input on one goroutine, in arrival order, from
//     a bounded queue (overflow is dropped and counted). Latency is applied by
//     the receiver, so per-link order is FIFO and runs are repeatable.
//   - Local delivery: a packet handler set with Node.SetHandler sees every
//     packet addressed to the node first (the HA/MN data planes use it to
//     tunnel and decapsulate); unconsumed packets go to UDP sockets
//     (Node.ListenUDP, the same method set as *net.UDPConn:
//     ReadFromUDPAddrPort, WriteToUDPAddrPort, SetReadDeadline, Close,
//     LocalAddr; SetReadDeadline also wakes a blocked read), to ICMPv6 echo
//     (nodes answer echo requests like a kernel; Pinger sends them and
//     records replies), to raw ICMPv6 sockets (Node.ListenICMP: chosen
//     types, checksum filled in on send, like a Linux raw ICMPv6 socket;
//     the shape discovery.ICMPConn wants) and to protocol taps (Node.Tap). Node.SetOutputHook sees every locally originated packet
//     before routing (an MN uses it to reverse-tunnel packets from its home
//     address); Node.Inject hands a decapsulated packet to local delivery.
//   - Network.CapturePcap writes one pcap file per link (LINKTYPE_RAW) with
//     every packet transmitted on it; Link.Tap adds in-process taps; Summary
//     describes a packet in one line (addresses, UDP/ESP SPI and sequence,
//     ICMPv6 type, MH type with BU/BA fields) for timelines.
//
// Time comes from the time package, so inside a testing/synctest bubble the
// network runs on virtual time. Network.Close stops every goroutine.
//
// The demo topology (NewDemo): home link 2001:db8:1::/64 (HA ::2, router ::1),
// access networks A 2001:db8:a::/64 and B 2001:db8:b::/64 and the
// correspondent link 2001:db8:c::/64, one router joining them all.
package vnet
