package ikev2

import "strconv"

// Problem says what is wrong with a field; FormatError.Value and
// FormatError.Limit give the numbers.
type Problem uint8

const (
	// ProblemShort: Value is below the minimum Limit.
	ProblemShort Problem = iota + 1
	// ProblemLong: Value is above the maximum Limit.
	ProblemLong
	// ProblemOverrun: a length or count of Value needs more than the Limit bytes present.
	ProblemOverrun
	// ProblemMismatch: Value differs from the Limit it must equal.
	ProblemMismatch
	// ProblemInvalid: Value is not allowed here.
	ProblemInvalid
	// ProblemTrailing: Value bytes are left over after the last element.
	ProblemTrailing
	// ProblemMissing: a required field or payload is absent.
	ProblemMissing
)

// FormatError reports a malformed message (when parsing) or a message that
// cannot be encoded (when encoding). It names where (the IKE header or a
// payload, and a path inside it) and which field, e.g.
//
//	ikev2: TSi: selector 2: length 12 shorter than minimum 40
//
// An IKE responder answers a request that fails to parse with a FormatError
// with INVALID_SYNTAX.
type FormatError struct {
	Encode  bool   // true if the error arose while encoding
	Where   string // "header", "message" or the payload name ("SA", "TSi", ...)
	Path    string // position inside the payload, e.g. "proposal 1: transform 3"; may be empty
	Field   string // the offending field, e.g. "length"
	Problem Problem
	Value   int
	Limit   int
}

func (e *FormatError) Error() string {
	b := make([]byte, 0, 96)
	b = append(b, "ikev2: "...)
	if e.Encode {
		b = append(b, "encode "...)
	}
	b = append(b, e.Where...)
	if e.Path != "" {
		b = append(b, ": "...)
		b = append(b, e.Path...)
	}
	b = append(b, ": "...)
	b = append(b, e.Field...)
	if e.Problem == ProblemMissing {
		return string(append(b, " missing"...))
	}
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(e.Value), 10)
	switch e.Problem {
	case ProblemShort:
		b = append(b, " shorter than minimum "...)
		b = strconv.AppendInt(b, int64(e.Limit), 10)
	case ProblemLong:
		b = append(b, " longer than maximum "...)
		b = strconv.AppendInt(b, int64(e.Limit), 10)
	case ProblemOverrun:
		b = append(b, " exceeds the "...)
		b = strconv.AppendInt(b, int64(e.Limit), 10)
		b = append(b, " bytes present"...)
	case ProblemMismatch:
		b = append(b, " does not match "...)
		b = strconv.AppendInt(b, int64(e.Limit), 10)
	case ProblemInvalid:
		b = append(b, " invalid"...)
	case ProblemTrailing:
		b = append(b, " trailing bytes"...)
	}
	return string(b)
}

// UnsupportedCriticalPayloadError reports a payload of an unknown type with
// the critical bit set (RFC 7296 §3.2). The whole message must be rejected;
// a responder answers with UNSUPPORTED_CRITICAL_PAYLOAD whose notification
// data is the one-octet Type.
type UnsupportedCriticalPayloadError struct {
	Type PayloadType
}

func (e *UnsupportedCriticalPayloadError) Error() string {
	return "ikev2: unsupported critical payload type " + strconv.Itoa(int(e.Type))
}

// UnsupportedVersionError reports an IKE header whose major version is not 2.
// A responder may answer with INVALID_MAJOR_VERSION (RFC 7296 §2.5).
type UnsupportedVersionError struct {
	Major, Minor uint8
}

func (e *UnsupportedVersionError) Error() string {
	return "ikev2: header: major version " + strconv.Itoa(int(e.Major)) + " unsupported (want 2)"
}

// errf builds a parse-side FormatError.
func errf(where, path, field string, p Problem, value, limit int) error {
	return &FormatError{Where: where, Path: path, Field: field, Problem: p, Value: value, Limit: limit}
}

// encErr builds an encode-side FormatError.
func encErr(where, path, field string, p Problem, value, limit int) error {
	return &FormatError{Encode: true, Where: where, Path: path, Field: field, Problem: p, Value: value, Limit: limit}
}

// joinPath appends a numbered element ("proposal 2") to a path.
func joinPath(path, elem string, n int) string {
	s := elem + " " + strconv.Itoa(n)
	if path == "" {
		return s
	}
	return path + ": " + s
}
