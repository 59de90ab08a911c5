package ike

import (
	"fmt"

	"mip6/ike/crypto"
)

// Key log lines follow the column order of Wireshark's UAT tables
// ikev2_decryption_table and esp_sa, so that a debugging session can paste
// them. Only written when Config.KeyLog is set.

func wiresharkIKEEncr(e crypto.Encr) string {
	switch e.ID {
	case crypto.ENCR_AES_CBC:
		return fmt.Sprintf("AES-CBC-%d [RFC3602]", e.KeyLen)
	case crypto.ENCR_AES_GCM_16:
		return fmt.Sprintf("AES-GCM-%d with 16 octet ICV [RFC5282]", e.KeyLen)
	case crypto.ENCR_CHACHA20_POLY1305:
		return "ChaCha20-Poly1305 [RFC7634]"
	}
	return e.String()
}

func wiresharkIKEInteg(i crypto.IntegID) string {
	switch i {
	case crypto.AUTH_HMAC_SHA2_256_128:
		return "HMAC_SHA2_256_128 [RFC4868]"
	case crypto.AUTH_HMAC_SHA2_384_192:
		return "HMAC_SHA2_384_192 [RFC4868]"
	case crypto.AUTH_HMAC_SHA2_512_256:
		return "HMAC_SHA2_512_256 [RFC4868]"
	}
	return "NONE [RFC4306]"
}

func (ep *Endpoint) logKeys(sa *IKESA) {
	if ep.cfg.KeyLog == nil {
		return
	}
	k := sa.keys
	// Wireshark's UAT file takes the byte columns unquoted.
	fmt.Fprintf(ep.cfg.KeyLog, "ikev2_decryption_table: %016x,%016x,%x,%x,\"%s\",%x,%x,\"%s\"\n",
		sa.spiI, sa.spiR, k.SKei, k.SKer, wiresharkIKEEncr(sa.suite.Encr), k.SKai, k.SKar, wiresharkIKEInteg(sa.suite.Integ))
}

func wiresharkESPEncr(e crypto.Encr) string {
	switch e.ID {
	case crypto.ENCR_AES_CBC:
		return "AES-CBC [RFC3602]"
	case crypto.ENCR_AES_GCM_16:
		return "AES-GCM with 16 octet ICV [RFC4106]"
	case crypto.ENCR_CHACHA20_POLY1305:
		return "ChaCha20 with Poly1305 [RFC7634]"
	}
	return e.String()
}

func wiresharkESPInteg(i crypto.IntegID) string {
	switch i {
	case crypto.AUTH_HMAC_SHA2_256_128:
		return "HMAC-SHA-256-128 [RFC4868]"
	case crypto.AUTH_HMAC_SHA2_384_192:
		return "HMAC-SHA-384-192 [RFC4868]"
	case crypto.AUTH_HMAC_SHA2_512_256:
		return "HMAC-SHA-512-256 [RFC4868]"
	}
	return "NULL"
}

func (ep *Endpoint) logChildKeys(sa *IKESA, c *ChildSA) {
	if ep.cfg.KeyLog == nil {
		return
	}
	// The outer addresses are wildcards: a mobile node's SAs move with its
	// care-of address without rekeying (RFC 4877 §4.3), and the SPI alone
	// names the SA.
	for _, d := range []struct {
		src, dst   string
		spi        uint32
		enc, integ []byte
	}{
		{"*", "*", c.InboundSPI, c.InEncr, c.InInteg},
		{"*", "*", c.OutboundSPI, c.OutEncr, c.OutInteg},
	} {
		fmt.Fprintf(ep.cfg.KeyLog, "esp_sa: \"IPv6\",\"%s\",\"%s\",\"0x%08x\",\"%s\",\"0x%x\",\"%s\",\"0x%x\"\n",
			d.src, d.dst, d.spi, wiresharkESPEncr(c.Suite.Encr), d.enc, wiresharkESPInteg(c.Suite.Integ), d.integ)
	}
}
