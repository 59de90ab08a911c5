package ikev2

// NotifyType is a Notify payload's Notify Message Type (RFC 7296 §3.10.1 and
// the IANA registry). Values below 16384 are errors, the rest status types.
type NotifyType uint16

// Error types.
const (
	NotifyUnsupportedCriticalPayload NotifyType = 1
	NotifyInvalidIKESPI              NotifyType = 4
	NotifyInvalidMajorVersion        NotifyType = 5
	NotifyInvalidSyntax              NotifyType = 7
	NotifyInvalidMessageID           NotifyType = 9
	NotifyInvalidSPI                 NotifyType = 11
	NotifyNoProposalChosen           NotifyType = 14
	NotifyInvalidKEPayload           NotifyType = 17
	NotifyAuthenticationFailed       NotifyType = 24
	NotifySinglePairRequired         NotifyType = 34
	NotifyNoAdditionalSAs            NotifyType = 35
	NotifyInternalAddressFailure     NotifyType = 36
	NotifyFailedCPRequired           NotifyType = 37
	NotifyTSUnacceptable             NotifyType = 38
	NotifyInvalidSelectors           NotifyType = 39
	NotifyUnacceptableAddresses      NotifyType = 40 // RFC 4555
	NotifyUnexpectedNATDetected      NotifyType = 41 // RFC 4555
	NotifyUseAssignedHoA             NotifyType = 42 // RFC 5026
	NotifyTemporaryFailure           NotifyType = 43
	NotifyChildSANotFound            NotifyType = 44
	NotifyInvalidGroupID             NotifyType = 45
	NotifyAuthorizationFailed        NotifyType = 46
)

// Status types.
const (
	NotifyInitialContact                NotifyType = 16384
	NotifySetWindowSize                 NotifyType = 16385
	NotifyAdditionalTSPossible          NotifyType = 16386
	NotifyIPCompSupported               NotifyType = 16387
	NotifyNATDetectionSourceIP          NotifyType = 16388
	NotifyNATDetectionDestinationIP     NotifyType = 16389
	NotifyCookie                        NotifyType = 16390
	NotifyUseTransportMode              NotifyType = 16391
	NotifyHTTPCertLookupSupported       NotifyType = 16392
	NotifyRekeySA                       NotifyType = 16393
	NotifyESPTFCPaddingNotSupported     NotifyType = 16394
	NotifyNonFirstFragmentsAlso         NotifyType = 16395
	NotifyMOBIKESupported               NotifyType = 16396 // RFC 4555
	NotifyAdditionalIP4Address          NotifyType = 16397 // RFC 4555
	NotifyAdditionalIP6Address          NotifyType = 16398 // RFC 4555
	NotifyNoAdditionalAddresses         NotifyType = 16399 // RFC 4555
	NotifyUpdateSAAddresses             NotifyType = 16400 // RFC 4555
	NotifyCookie2                       NotifyType = 16401 // RFC 4555
	NotifyNoNATsAllowed                 NotifyType = 16402 // RFC 4555
	NotifyAuthLifetime                  NotifyType = 16403 // RFC 4478
	NotifyMultipleAuthSupported         NotifyType = 16404 // RFC 4739
	NotifyAnotherAuthFollows            NotifyType = 16405 // RFC 4739
	NotifyRedirectSupported             NotifyType = 16406 // RFC 5685
	NotifyRedirect                      NotifyType = 16407 // RFC 5685
	NotifyRedirectedFrom                NotifyType = 16408 // RFC 5685
	NotifyEAPOnlyAuthentication         NotifyType = 16417 // RFC 5998
	NotifyChildlessIKEv2Supported       NotifyType = 16418 // RFC 6023
	NotifyQuickCrashDetection           NotifyType = 16419 // RFC 6290
	NotifyIKEv2FragmentationSupported   NotifyType = 16430 // RFC 7383
	NotifySignatureHashAlgorithms       NotifyType = 16431 // RFC 7427
	NotifyIntermediateExchangeSupported NotifyType = 16438 // RFC 9242
)

var notifyErrorNames = [...]string{
	1: "UNSUPPORTED_CRITICAL_PAYLOAD", 4: "INVALID_IKE_SPI", 5: "INVALID_MAJOR_VERSION",
	7: "INVALID_SYNTAX", 9: "INVALID_MESSAGE_ID", 11: "INVALID_SPI", 14: "NO_PROPOSAL_CHOSEN",
	17: "INVALID_KE_PAYLOAD", 24: "AUTHENTICATION_FAILED", 34: "SINGLE_PAIR_REQUIRED",
	35: "NO_ADDITIONAL_SAS", 36: "INTERNAL_ADDRESS_FAILURE", 37: "FAILED_CP_REQUIRED",
	38: "TS_UNACCEPTABLE", 39: "INVALID_SELECTORS", 40: "UNACCEPTABLE_ADDRESSES",
	41: "UNEXPECTED_NAT_DETECTED", 42: "USE_ASSIGNED_HoA", 43: "TEMPORARY_FAILURE",
	44: "CHILD_SA_NOT_FOUND", 45: "INVALID_GROUP_ID", 46: "AUTHORIZATION_FAILED",
}

// notifyStatusNames is indexed by type-16384.
var notifyStatusNames = [...]string{
	0: "INITIAL_CONTACT", 1: "SET_WINDOW_SIZE", 2: "ADDITIONAL_TS_POSSIBLE", 3: "IPCOMP_SUPPORTED",
	4: "NAT_DETECTION_SOURCE_IP", 5: "NAT_DETECTION_DESTINATION_IP", 6: "COOKIE",
	7: "USE_TRANSPORT_MODE", 8: "HTTP_CERT_LOOKUP_SUPPORTED", 9: "REKEY_SA",
	10: "ESP_TFC_PADDING_NOT_SUPPORTED", 11: "NON_FIRST_FRAGMENTS_ALSO", 12: "MOBIKE_SUPPORTED",
	13: "ADDITIONAL_IP4_ADDRESS", 14: "ADDITIONAL_IP6_ADDRESS", 15: "NO_ADDITIONAL_ADDRESSES",
	16: "UPDATE_SA_ADDRESSES", 17: "COOKIE2", 18: "NO_NATS_ALLOWED", 19: "AUTH_LIFETIME",
	20: "MULTIPLE_AUTH_SUPPORTED", 21: "ANOTHER_AUTH_FOLLOWS", 22: "REDIRECT_SUPPORTED",
	23: "REDIRECT", 24: "REDIRECTED_FROM", 25: "TICKET_LT_OPAQUE", 26: "TICKET_REQUEST",
	27: "TICKET_ACK", 28: "TICKET_NACK", 29: "TICKET_OPAQUE", 30: "LINK_ID", 31: "USE_WESP_MODE",
	32: "ROHC_SUPPORTED", 33: "EAP_ONLY_AUTHENTICATION", 34: "CHILDLESS_IKEV2_SUPPORTED",
	35: "QUICK_CRASH_DETECTION", 36: "IKEV2_MESSAGE_ID_SYNC_SUPPORTED",
	37: "IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED", 38: "IKEV2_MESSAGE_ID_SYNC",
	39: "IPSEC_REPLAY_COUNTER_SYNC", 40: "SECURE_PASSWORD_METHODS", 41: "PSK_PERSIST",
	42: "PSK_CONFIRM", 43: "ERX_SUPPORTED", 44: "IFOM_CAPABILITY", 45: "SENDER_REQUEST_ID",
	46: "IKEV2_FRAGMENTATION_SUPPORTED", 47: "SIGNATURE_HASH_ALGORITHMS",
	48: "CLONE_IKE_SA_SUPPORTED", 49: "CLONE_IKE_SA", 50: "PUZZLE", 51: "USE_PPK",
	52: "PPK_IDENTITY", 53: "NO_PPK_AUTH", 54: "INTERMEDIATE_EXCHANGE_SUPPORTED",
}

func (t NotifyType) String() string {
	if t.IsError() {
		return nameOr(notifyErrorNames[:], int(t), "NOTIFY")
	}
	if int(t)-16384 < len(notifyStatusNames) && notifyStatusNames[t-16384] != "" {
		return notifyStatusNames[t-16384]
	}
	return nameOr(nil, int(t), "NOTIFY")
}

// IsError reports whether t is an error type (below 16384). An unrecognised
// error type in a response means the request failed (RFC 7296 §3.10.1).
func (t NotifyType) IsError() bool { return t < 16384 }
