package esp

import "fmt"

// Field names the part of an ESP or UDP-encapsulated packet an Error is about.
type Field uint8

const (
	FieldHeader Field = iota + 1
	FieldSPI
	FieldPacket
	FieldCiphertext
	FieldTrailer
	FieldPadLength
	FieldPadding
	FieldTransform
	FieldUDPPayload
)

var fieldNames = [...]string{
	FieldHeader:     "header",
	FieldSPI:        "SPI",
	FieldPacket:     "packet",
	FieldCiphertext: "ciphertext",
	FieldTrailer:    "trailer",
	FieldPadLength:  "pad length",
	FieldPadding:    "padding",
	FieldTransform:  "transform",
	FieldUDPPayload: "UDP payload",
}

func (f Field) String() string {
	if int(f) < len(fieldNames) && fieldNames[f] != "" {
		return fieldNames[f]
	}
	return fmt.Sprintf("field(%d)", uint8(f))
}

// ErrorKind says what is wrong with a field.
type ErrorKind uint8

const (
	KindShort     ErrorKind = iota + 1 // fewer bytes than Want
	KindTooLong                        // Got exceeds the Want bytes available
	KindAlignment                      // length Got not a multiple of Want
	KindReserved                       // reserved value Got
	KindInvalid                        // value Got where Want was expected
)

// Error is a framing error. Use errors.As to inspect it.
type Error struct {
	Field Field
	Kind  ErrorKind
	Got   int
	Want  int
	Index int // position within the field (padding byte index)
}

func (e *Error) Error() string {
	switch e.Kind {
	case KindShort:
		return fmt.Sprintf("esp: %s: length %d shorter than minimum %d", e.Field, e.Got, e.Want)
	case KindTooLong:
		return fmt.Sprintf("esp: %s: %d exceeds the %d bytes available", e.Field, e.Got, e.Want)
	case KindAlignment:
		return fmt.Sprintf("esp: %s: length %d not a multiple of %d", e.Field, e.Got, e.Want)
	case KindReserved:
		return fmt.Sprintf("esp: %s: reserved value %d", e.Field, e.Got)
	case KindInvalid:
		if e.Field == FieldPadding {
			return fmt.Sprintf("esp: padding: byte %d is %d, want %d", e.Index, e.Got, e.Want)
		}
		return fmt.Sprintf("esp: %s: invalid", e.Field)
	}
	return fmt.Sprintf("esp: %s: error", e.Field)
}
