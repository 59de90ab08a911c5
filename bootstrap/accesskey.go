package bootstrap

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"time"
)

// AccessKey is keying material from the mobile node's network access
// authentication (RFC 4640 §8, Parameter Set 2): the MSK or EMSK of the
// EAP run with the access network's AAA server, known to the MN and,
// in an integrated ASP (§7.2), handed by the AAA server to the HA.
type AccessKey struct {
	Name []byte // its name, e.g. the EAP Session-Id
	Key  []byte // at least 32 octets
}

// MobilityKey is the mobility service's own key derived from an access
// key: cryptographically separate (a one-way KDF with a label of its
// own), separately named and with its own lifetime (RFC 4640 §9.2), so
// that it outlives a change of access network.
type MobilityKey struct {
	Key    []byte // the IKE pre-shared key
	Name   []byte
	Expiry time.Time
}

// mobilityKeyLabel is the RFC 5295 key label of the derivation.
const mobilityKeyLabel = "mip6-bootstrap-psk@mip6.invalid"

// ErrShortAccessKey: an access key too short to derive from.
var ErrShortAccessKey = errors.New("bootstrap: access key shorter than 32 octets")

// DeriveMobilityKey derives identity's mobility key from ak with the RFC
// 5295 §3.1 KDF (PRF+ with HMAC-SHA-256), the NAI as optional data; it
// expires lifetime after now whatever ak's own lifetime.
func DeriveMobilityKey(ak AccessKey, identity string, now time.Time, lifetime time.Duration) (MobilityKey, error) {
	if len(ak.Key) < 32 {
		return MobilityKey{}, ErrShortAccessKey
	}
	key := kdf(ak.Key, mobilityKeyLabel, []byte(identity), 32)
	name := hmac.New(sha256.New, key)
	name.Write([]byte("mobility key name"))
	name.Write(ak.Name)
	return MobilityKey{Key: key, Name: name.Sum(nil)[:16], Expiry: now.Add(lifetime)}, nil
}

// kdf is RFC 5295 §3.1: T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n),
// S = label | 0x00 | optional data | length (2 octets).
func kdf(k []byte, label string, data []byte, length int) []byte {
	s := append([]byte(label), 0)
	s = append(s, data...)
	s = binary.BigEndian.AppendUint16(s, uint16(length))
	var out, t []byte
	for i := byte(1); len(out) < length; i++ {
		m := hmac.New(sha256.New, k)
		m.Write(t)
		m.Write(s)
		m.Write([]byte{i})
		t = m.Sum(nil)
		out = append(out, t...)
	}
	return out[:length]
}
