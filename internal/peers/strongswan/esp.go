package strongswan

import (
	"fmt"
	"net/netip"

	"mip6/esp"
)

// Transform maps the algorithm charon logged to ours and joins the keys
// into KEYMAT as esp.Config takes it (encryption key, salt, integrity key).
func (k ESPKeys) Transform() (esp.Transform, []byte, error) {
	keymat := append(append([]byte(nil), k.EncKey...), k.IntegKey...)
	switch k.Encr {
	case "AES_GCM_16":
		if n := len(k.EncKey); n != 20 && n != 28 && n != 36 {
			return esp.Transform{}, nil, fmt.Errorf("strongswan: SPI %08x: AES_GCM_16 key of %d bytes", k.SPI, n)
		}
		return esp.Transform{Encryption: esp.EncrAESGCM16, KeyBits: (len(k.EncKey) - 4) * 8}, keymat, nil
	case "CHACHA20_POLY1305":
		return esp.ChaCha20Poly1305, keymat, nil
	case "AES_CBC":
		integ, ok := map[int]esp.IntegrityID{32: esp.IntegHMACSHA2_256128, 48: esp.IntegHMACSHA2_384192,
			64: esp.IntegHMACSHA2_512256}[len(k.IntegKey)]
		if !ok {
			return esp.Transform{}, nil, fmt.Errorf("strongswan: SPI %08x: AES_CBC with a %d-byte integrity key", k.SPI, len(k.IntegKey))
		}
		return esp.Transform{Encryption: esp.EncrAESCBC, KeyBits: len(k.EncKey) * 8, Integrity: integ}, keymat, nil
	}
	return esp.Transform{}, nil, fmt.Errorf("strongswan: SPI %08x: unmapped algorithm %q", k.SPI, k.Encr)
}

// SA builds, from the keys charon logged, the same SA in our ESP
// implementation, UDP-encapsulated between local and remote (RFC 3948, as
// libipsec always does): a test can then open what charon sealed, or seal
// what only a peer holding these keys could send (an insider forging
// packets that charon's own policies would never let out).
func (k ESPKeys) SA(local, remote netip.AddrPort) (*esp.SA, error) {
	tf, keymat, err := k.Transform()
	if err != nil {
		return nil, err
	}
	dir := esp.Outbound
	if k.Inbound {
		dir = esp.Inbound
	}
	return esp.New(esp.Config{SPI: k.SPI, Direction: dir, Transform: tf, Key: keymat,
		Endpoints: esp.Endpoints{Local: local, Remote: remote, Carrier: esp.CarrierUDP}})
}
