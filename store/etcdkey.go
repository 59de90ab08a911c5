package store

import (
	"encoding/hex"
	"strings"
)

// etcd key layout under the store's prefix P:
//
//	P/leases/<32 hex digits of the address>      lease
//	P/bindings/<32 hex digits>                   binding
//	P/lease-ids/<escaped identity>/<32 hex>      identity index
//	P/pad/<escaped identity>/<32 hex>            PAD entry
//	P/meta/<escaped key>                         schema, users' keys
//	P/stamps/<bucket>                            bumped by every delete
//
// Hex keeps address ranges in address order (as bbolt's 16-octet keys).
// Escaping leaves printable ASCII readable for etcdctl and writes '%',
// '/' and every other octet as %XX, so an identity never contains the
// '/' that ends it and "identity 0x00" (idPrefix) maps to a key prefix.

func escapeKey(dst *strings.Builder, raw []byte) {
	const digits = "0123456789ABCDEF"
	for _, c := range raw {
		if c > 0x20 && c < 0x7f && c != '%' && c != '/' {
			dst.WriteByte(c)
			continue
		}
		dst.WriteByte('%')
		dst.WriteByte(digits[c>>4])
		dst.WriteByte(digits[c&0x0f])
	}
}

func unescapeKey(s string) ([]byte, bool) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			out = append(out, s[i])
			continue
		}
		if i+2 >= len(s) {
			return nil, false
		}
		var v [1]byte
		if _, err := hex.Decode(v[:], []byte(s[i+1:i+3])); err != nil {
			return nil, false
		}
		out = append(out, v[0])
		i += 2
	}
	return out, true
}

// bucketPrefix is the etcd key prefix of every record of b.
func (e *etcdBackend) bucketPrefix(b bucket) string {
	return e.prefix + "/" + bucketNames[b] + "/"
}

func (e *etcdBackend) stampKey(b bucket) string {
	return e.prefix + "/stamps/" + bucketNames[b]
}

// key maps a bbolt-style key (see tx.go) of bucket b to its etcd key; a
// prefix of a raw key maps to a prefix of its etcd key.
func (e *etcdBackend) key(b bucket, raw []byte) string {
	var s strings.Builder
	s.Grow(len(e.prefix) + 16 + 2*len(raw))
	s.WriteString(e.bucketPrefix(b))
	switch b {
	case bLeases, bBindings:
		s.WriteString(hex.EncodeToString(raw))
	case bLeaseIDs, bPAD:
		i := strings.IndexByte(string(raw), 0)
		if i < 0 {
			escapeKey(&s, raw)
			break
		}
		escapeKey(&s, raw[:i])
		s.WriteByte('/')
		s.WriteString(hex.EncodeToString(raw[i+1:]))
	default:
		escapeKey(&s, raw)
	}
	return s.String()
}

// rawKey inverts key for a key read back under bucketPrefix(b).
func (e *etcdBackend) rawKey(b bucket, k string) ([]byte, error) {
	bad := &DecodeError{Record: bucketNames[b], Field: "etcd key", Reason: "malformed key " + k}
	rest, ok := strings.CutPrefix(k, e.bucketPrefix(b))
	if !ok {
		return nil, bad
	}
	switch b {
	case bLeases, bBindings:
		raw, err := hex.DecodeString(rest)
		if err != nil {
			return nil, bad
		}
		return raw, nil
	case bLeaseIDs, bPAD:
		id, addr, found := strings.Cut(rest, "/")
		raw, ok := unescapeKey(id)
		if !ok {
			return nil, bad
		}
		if !found {
			return raw, nil
		}
		a, err := hex.DecodeString(addr)
		if err != nil {
			return nil, bad
		}
		return append(append(raw, 0), a...), nil
	}
	raw, ok := unescapeKey(rest)
	if !ok {
		return nil, bad
	}
	return raw, nil
}
