package mh

import "fmt"

// Status is the Binding Acknowledgement Status (RFC 6275 §6.1.8). Values
// below 128 mean the Binding Update was accepted.
type Status uint8

const (
	StatusAccepted                         Status = 0
	StatusAcceptedPrefixDiscoveryNecessary Status = 1
	StatusReasonUnspecified                Status = 128
	StatusAdministrativelyProhibited       Status = 129
	StatusInsufficientResources            Status = 130
	StatusHomeRegistrationNotSupported     Status = 131
	StatusNotHomeSubnet                    Status = 132
	StatusNotHomeAgentForThisMobileNode    Status = 133
	StatusDuplicateAddressDetectionFailed  Status = 134
	StatusSequenceNumberOutOfWindow        Status = 135
	StatusExpiredHomeNonceIndex            Status = 136
	StatusExpiredCareOfNonceIndex          Status = 137
	StatusExpiredNonces                    Status = 138
	StatusRegistrationTypeChangeDisallowed Status = 139
)

var statusNames = map[Status]string{
	StatusAccepted:                         "Binding Update accepted",
	StatusAcceptedPrefixDiscoveryNecessary: "Accepted but prefix discovery necessary",
	StatusReasonUnspecified:                "Reason unspecified",
	StatusAdministrativelyProhibited:       "Administratively prohibited",
	StatusInsufficientResources:            "Insufficient resources",
	StatusHomeRegistrationNotSupported:     "Home registration not supported",
	StatusNotHomeSubnet:                    "Not home subnet",
	StatusNotHomeAgentForThisMobileNode:    "Not home agent for this mobile node",
	StatusDuplicateAddressDetectionFailed:  "Duplicate Address Detection failed",
	StatusSequenceNumberOutOfWindow:        "Sequence number out of window",
	StatusExpiredHomeNonceIndex:            "Expired home nonce index",
	StatusExpiredCareOfNonceIndex:          "Expired care-of nonce index",
	StatusExpiredNonces:                    "Expired nonces",
	StatusRegistrationTypeChangeDisallowed: "Registration type change disallowed",
}

// Accepted reports whether the status accepts the Binding Update.
func (s Status) Accepted() bool { return s < 128 }

func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("status %d", uint8(s))
}

// BEStatus is the Binding Error Status (RFC 6275 §6.1.9).
type BEStatus uint8

const (
	// BEStatusUnknownBindingForHomeAddress: a Home Address destination
	// option arrived without a binding for it.
	BEStatusUnknownBindingForHomeAddress BEStatus = 1
	// BEStatusUnrecognizedMHType: the MH Type value was not understood.
	BEStatusUnrecognizedMHType BEStatus = 2
)

func (s BEStatus) String() string {
	switch s {
	case BEStatusUnknownBindingForHomeAddress:
		return "Unknown binding for Home Address destination option"
	case BEStatusUnrecognizedMHType:
		return "Unrecognized MH Type value"
	}
	return fmt.Sprintf("status %d", uint8(s))
}
