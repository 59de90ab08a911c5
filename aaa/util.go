package aaa

import "crypto/subtle"

func hmacEqual(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }
