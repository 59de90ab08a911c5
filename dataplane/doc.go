// Package dataplane is mip6's userspace ESP packet path, built the way
// wireguard-go builds its own: a TUN device (the home address lives on it)
// read and written in batches with the kernel's TCP segmentation and
// receive offloads, a UDP socket on port 4500 (RFC 3948) read and written
// with recvmmsg/sendmmsg, and encryption and decryption spread over all
// cores while each direction's packet order is kept. Raw ESP (IP protocol
// 50, ESPBind) is the other carrier: a plane has a bind for one carrier or
// both (a home agent serving mobile nodes on each), and each SA's packets
// leave on the bind of its carrier (esp.Endpoints.Carrier).
//
// Outbound: TUN batch -> SPD lookup per packet (protect, bypass, discard;
// package ipsec) -> SAD outbound SA -> ESP tunnel mode seal (package esp;
// RFC 4877 §3: outer CoA<->HA, the inner packet is the HoA's) -> UDP batch
// to the SA's current remote endpoint. Inbound: UDP batch -> SPI -> SAD ->
// ESP open (ICV, anti-replay) -> inner packet checked against the SA's
// selectors -> Config.Local (the mobility layer takes its own signalling)
// -> TUN batch. Non-ESP-marker datagrams (IKE) go to a callback; Plane.Send
// seals single signalling packets (Binding Update, Acknowledgement) beside
// the pipeline, and TUN packets no policy covers go to Config.Unprotected.
//
// Pipeline shape: a reader fills a batch, locks it and queues it twice —
// to the crypto workers (any of which takes it, processes it and unlocks
// it) and to the writer, which takes batches in reading order and waits on
// each one's lock before writing it. Order is kept, queues are bounded,
// buffers come from bounded free lists (so memory is bounded and a slow
// writer slows the reader), and nothing is allocated per packet.
//
// The outer endpoints are read from the SA for every packet, so when the
// mobility layer moves an SA to a new care-of address (esp.SA.MoveEndpoints)
// the next packet already goes there; nothing restarts.
package dataplane
