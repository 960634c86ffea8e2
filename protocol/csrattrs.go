package protocol

import (
	"encoding/asn1"
	"fmt"
	"math/big"
)

var (
	oidECPublicKey   = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidP256          = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	oidECDSAWithSHA2 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidRSA           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidSHA256WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
)

type csrAttribute struct {
	Type   asn1.ObjectIdentifier
	Values []asn1.RawValue `asn1:"set"`
}

// MarshalCSRAttrs encodes the EST csrattrs reply (RFC 7030 section 4.5,
// key type as an attribute in the style of RFC 9148) for a key type.
func MarshalCSRAttrs(keyType string) ([]byte, error) {
	var attr csrAttribute
	var sigAlg asn1.ObjectIdentifier
	switch keyType {
	case KeyECDSAP256:
		v, _ := asn1.Marshal(oidP256)
		attr = csrAttribute{Type: oidECPublicKey, Values: []asn1.RawValue{{FullBytes: v}}}
		sigAlg = oidECDSAWithSHA2
	case KeyRSA3072:
		v, _ := asn1.Marshal(big.NewInt(3072))
		attr = csrAttribute{Type: oidRSA, Values: []asn1.RawValue{{FullBytes: v}}}
		sigAlg = oidSHA256WithRSA
	default:
		return nil, fmt.Errorf("protocol: unknown key type %q", keyType)
	}
	a, err := asn1.Marshal(attr)
	if err != nil {
		return nil, err
	}
	o, _ := asn1.Marshal(sigAlg)
	return asn1.Marshal([]asn1.RawValue{{FullBytes: a}, {FullBytes: o}})
}

// ParseCSRAttrs returns the key type a csrattrs reply asks for, or
// KeyECDSAP256 when it names none.
func ParseCSRAttrs(der []byte) (string, error) {
	var items []asn1.RawValue
	if _, err := asn1.Unmarshal(der, &items); err != nil {
		return "", fmt.Errorf("protocol: csrattrs: %w", err)
	}
	for _, it := range items {
		if it.Tag != asn1.TagSequence {
			continue // a bare OID
		}
		var a csrAttribute
		if _, err := asn1.Unmarshal(it.FullBytes, &a); err != nil {
			return "", fmt.Errorf("protocol: csrattrs attribute: %w", err)
		}
		switch {
		case a.Type.Equal(oidECPublicKey):
			for _, v := range a.Values {
				var curve asn1.ObjectIdentifier
				if _, err := asn1.Unmarshal(v.FullBytes, &curve); err == nil && curve.Equal(oidP256) {
					return KeyECDSAP256, nil
				}
			}
			return "", fmt.Errorf("protocol: csrattrs asks for an elliptic curve other than P-256")
		case a.Type.Equal(oidRSA):
			for _, v := range a.Values {
				var bits int
				if _, err := asn1.Unmarshal(v.FullBytes, &bits); err == nil && bits == 3072 {
					return KeyRSA3072, nil
				}
			}
			return "", fmt.Errorf("protocol: csrattrs asks for an RSA size other than 3072")
		}
	}
	return KeyECDSAP256, nil
}
