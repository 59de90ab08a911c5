package eap

import "fmt"

// ErrorKind says what is wrong with a field.
type ErrorKind uint8

const (
	// ErrTruncated: the field needs more bytes than are present.
	ErrTruncated ErrorKind = iota + 1
	// ErrTooShort: the field's value is below the minimum.
	ErrTooShort
	// ErrTooLong: the field's value is above the maximum.
	ErrTooLong
	// ErrInvalid: the value is not allowed here.
	ErrInvalid
	// ErrMismatch: the value disagrees with what the rest of the message implies.
	ErrMismatch
)

// Error is a decoding or encoding failure. Value is the offending value
// (a length, count or code) and Limit the bound it broke; their meaning
// depends on Kind.
type Error struct {
	Message string // "EAP", "MD5-Challenge", "MSCHAPv2 Response", ...
	Field   string // field name as in the RFC diagram
	Kind    ErrorKind
	Value   int
	Limit   int
}

func (e *Error) Error() string {
	var d string
	switch e.Kind {
	case ErrTruncated:
		d = fmt.Sprintf("needs %d bytes, %d present", e.Limit, e.Value)
	case ErrTooShort:
		d = fmt.Sprintf("%d shorter than minimum %d", e.Value, e.Limit)
	case ErrTooLong:
		d = fmt.Sprintf("%d exceeds maximum %d", e.Value, e.Limit)
	case ErrMismatch:
		d = fmt.Sprintf("%d does not match expected %d", e.Value, e.Limit)
	default:
		d = fmt.Sprintf("value %d not allowed", e.Value)
	}
	return fmt.Sprintf("eap: %s: %s: %s", e.Message, e.Field, d)
}

func errf(msg, field string, kind ErrorKind, value, limit int) *Error {
	return &Error{Message: msg, Field: field, Kind: kind, Value: value, Limit: limit}
}
