package eap

import (
	"crypto/tls"

	wire "mip6/wire/eap"
)

// tlsServerState is the EAP-TLS server of one LocalAuthenticator conversation.
type tlsServerState struct {
	drv *tlsDriver
	in  tlsReassembler
	out tlsFragmenter
}

// tlsServerConfig is the configured server side, TLS 1.2 at most, with
// client certificates required and verified against ClientCAs.
func (a *LocalAuthenticator) tlsServerConfig() *tls.Config {
	c := tls12(a.TLS)
	c.ClientAuth = tls.RequireAndVerifyClientCert
	return c
}

// tlsStart sends EAP-TLS Start and starts the server handshake.
func (c *localConversation) tlsStart() (Outcome, error) {
	st := &tlsServerState{drv: startTLS(c.a.tlsServerConfig(), true, c.a.TLSWithoutEMS)}
	st.out.size = c.a.TLSFragment
	c.tls = st
	// The server reads the ClientHello first: consume its "waiting" so the
	// first step waits for the real answer.
	select {
	case <-st.drv.conn.waiting:
	case err := <-st.drv.hs:
		st.drv.finished, st.drv.err = true, err
		return c.tlsFail()
	}
	return c.request(&wire.TLS{Flags: wire.TLSStart})
}

// tlsResponse handles one EAP-TLS Response: a fragment, a whole client
// flight, or an ACK of our fragment or final flight.
func (c *localConversation) tlsResponse(p *wire.Packet) (Outcome, error) {
	st := c.tls
	var in wire.TLS
	if err := wire.ParseTLS(wire.TypeTLS, p.TypeData, &in); err != nil {
		return Outcome{}, &ProtocolError{Method: wire.TypeTLS, Detail: "malformed response", Err: err}
	}
	if len(in.Data) == 0 {
		switch {
		case st.out.pending():
			return c.request(st.out.next(0))
		case st.drv.finished:
			return c.tlsFinish()
		}
		return c.tlsFail()
	}
	msg, more, err := st.in.add(&in)
	if err != nil {
		return c.tlsFail()
	}
	if more {
		return c.request(&wire.TLS{}) // ACK
	}
	out, err := st.drv.step(msg)
	st.out.out = append(st.out.out, out...)
	if err != nil {
		return c.tlsFail()
	}
	if !st.out.pending() {
		return c.tlsFail() // nothing to say, yet not finished
	}
	return c.request(st.out.next(0))
}

// tlsFinish ends a completed handshake: MSK, and the client certificate's
// identity (first e-mail SAN, else common name) as the user name.
func (c *localConversation) tlsFinish() (Outcome, error) {
	st := c.tls
	msk, err := st.drv.msk()
	if err != nil {
		return c.tlsFail()
	}
	certs := st.drv.tc.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return c.tlsFail()
	}
	c.userName = certs[0].Subject.CommonName
	if len(certs[0].EmailAddresses) > 0 {
		c.userName = certs[0].EmailAddresses[0]
	}
	c.msk = msk
	st.drv.close()
	return c.finish(true)
}

// Close releases an unfinished conversation's resources (the EAP-TLS
// handshake goroutine); LocalServer calls it when a session expires.
func (c *localConversation) Close() {
	if c.tls != nil {
		c.tls.drv.close()
	}
}

func (c *localConversation) tlsFail() (Outcome, error) {
	c.tls.drv.close()
	return c.finish(false)
}
