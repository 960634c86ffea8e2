package pkcs

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
)

// Holder is the identity a Paraphe certificate proves.
type Holder struct {
	Name         string `json:"name"`
	Title        string `json:"title"`
	MemberNumber string `json:"member_number"`
	Organization string `json:"organization"` // the professional order
	Email        string `json:"email,omitempty"`
}

var oidTitle = asn1.ObjectIdentifier{2, 5, 4, 12}

// HolderOf reads the holder's identity from a certificate: common name,
// title (2.5.4.12), member number (serialNumber, 2.5.4.5), organization
// (the professional order) and e-mail.
func HolderOf(c *x509.Certificate) Holder {
	h := Holder{Name: c.Subject.CommonName, MemberNumber: c.Subject.SerialNumber}
	if len(c.Subject.Organization) > 0 {
		h.Organization = c.Subject.Organization[0]
	}
	for _, n := range c.Subject.Names {
		if n.Type.Equal(oidTitle) {
			h.Title = fmt.Sprint(n.Value)
		}
	}
	if len(c.EmailAddresses) > 0 {
		h.Email = c.EmailAddresses[0]
	}
	return h
}
