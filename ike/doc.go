// Package ike is the IKEv2 engine (RFC 7296) of mip6, with what Mobile IPv6
// needs of it (RFC 4877 §7–§9): the mobile node is the initiator, the home
// agent the responder.
//
// The engine is shaped like quic-go and libcharon: each IKE SA is state
// owned by one goroutine, and protocol logic is made of functions that take
// the current time and an incoming datagram (or a timer) and return actions:
// datagrams to send, the next timer, events for the rest of the system.
// Each exchange is a task with a build and a process step per role; one
// request is in flight at a time (window 1); requests are retransmitted
// with exponential back-off and duplicate requests are answered from a cache.
//
// Endpoint owns the sockets (behind the Conn interface so that tests run on
// an in-memory network), demultiplexes datagrams to IKE SAs, answers
// IKE_SA_INIT statelessly with a COOKIE under load, and reports Events:
// IKE SAs and CHILD_SAs established (with keys, SPIs and traffic selectors
// to install in the SAD), rekeyed, deleted or failed.
package ike
