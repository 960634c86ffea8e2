package exchange

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"os"
	"strings"
	"time"

	"github.com/paraphe/paraphe/internal/i18n"
)

// mailer sends one message.
type mailer interface {
	send(to string, msg []byte) error
}

// smtpMailer sends through the relay of the configuration.
type smtpMailer struct {
	cfg      SMTP
	password string
}

func newSMTPMailer(dir string, cfg SMTP) (*smtpMailer, error) {
	m := &smtpMailer{cfg: cfg}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		return nil, &ConfigError{"smtp", fmt.Sprintf("%q is not host:port", cfg.Addr)}
	}
	if _, err := mail.ParseAddress(cfg.From); err != nil {
		return nil, &ConfigError{"smtp", fmt.Sprintf("the sender %q is not an e-mail address", cfg.From)}
	}
	if cfg.PasswordFile != "" {
		data, err := os.ReadFile(resolve(dir, cfg.PasswordFile))
		if err != nil {
			return nil, &ConfigError{"smtp", err.Error()}
		}
		m.password = strings.TrimRight(string(data), "\r\n")
	}
	return m, nil
}

// mailTimeout bounds one delivery to the relay.
const mailTimeout = 30 * time.Second

// ErrRelayTLS: the relay offers no STARTTLS while credentials would cross.
var ErrRelayTLS = errors.New("exchange: the SMTP relay offers no TLS; credentials are not sent in clear")

func (m *smtpMailer) send(to string, msg []byte) error {
	host, _, _ := net.SplitHostPort(m.cfg.Addr)
	d := net.Dialer{Timeout: mailTimeout}
	var conn net.Conn
	var err error
	if m.cfg.TLS == "tls" {
		conn, err = tls.DialWithDialer(&d, "tcp", m.cfg.Addr, &tls.Config{ServerName: host})
	} else {
		conn, err = d.Dial("tcp", m.cfg.Addr)
	}
	if err != nil {
		return fmt.Errorf("exchange: SMTP relay: %w", err)
	}
	conn.SetDeadline(time.Now().Add(mailTimeout))
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("exchange: SMTP relay: %w", err)
	}
	defer c.Close()
	if m.cfg.TLS == "starttls" {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(&tls.Config{ServerName: host}); err != nil {
				return fmt.Errorf("exchange: SMTP relay: %w", err)
			}
		} else if m.cfg.Username != "" {
			return ErrRelayTLS
		}
	}
	if m.cfg.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", m.cfg.Username, m.password, host)); err != nil {
			return fmt.Errorf("exchange: SMTP relay: %w", err)
		}
	}
	from, _ := mail.ParseAddress(m.cfg.From)
	if err := c.Mail(from.Address); err != nil {
		return fmt.Errorf("exchange: SMTP relay: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("exchange: SMTP relay refused %s: %w", to, err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("exchange: SMTP relay: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("exchange: SMTP relay: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("exchange: SMTP relay: %w", err)
	}
	return c.Quit()
}

// message is an e-mail of plain text in UTF-8, quoted-printable.
func (x *Exchange) message(to, subject, body string) []byte {
	from, _ := mail.ParseAddress(x.Config.SMTP.From)
	from.Name = x.Config.Name
	id := make([]byte, 12)
	rand.Read(id)
	host := "paraphe-exchange"
	if at := strings.LastIndex(from.Address, "@"); at >= 0 {
		host = from.Address[at+1:]
	}
	var b bytes.Buffer
	for _, h := range [][2]string{
		{"From", from.String()},
		{"To", to},
		{"Subject", mime.QEncoding.Encode("utf-8", subject)},
		{"Date", x.now().Format(time.RFC1123Z)},
		{"Message-ID", "<" + hex.EncodeToString(id) + "@" + host + ">"},
		{"MIME-Version", "1.0"},
		{"Content-Type", "text/plain; charset=utf-8"},
		{"Content-Transfer-Encoding", "quoted-printable"},
		{"Auto-Submitted", "auto-generated"},
	} {
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\n", "\r\n")))
	qp.Close()
	return b.Bytes()
}

// mailInvitation sends u the invitation link, in u's language.
func (x *Exchange) mailInvitation(u *User, link string) (bool, error) {
	if x.mail == nil {
		return false, nil
	}
	p := i18n.New(u.Lang)
	subject := p.T("exchange.mail.invite.subject", "Firm", x.Config.Name)
	body := p.T("exchange.mail.invite.body", "Name", u.Name, "Firm", x.Config.Name, "Code", u.Code, "Link", link,
		"Hours", x.Config.InvitationHours, "Login", x.link("/login"))
	if err := x.mail.send(u.Email, x.message(u.Email, subject, body)); err != nil {
		return false, err
	}
	x.Log.Info("invitation mailed", "user", u.Code)
	return true, nil
}

// mailParcel tells the recipient a parcel is waiting; a new recipient's
// e-mail carries their invitation too.
func (x *Exchange) mailParcel(to, from *User, p *Parcel, invitation string) (bool, error) {
	if x.mail == nil {
		return false, nil
	}
	l := i18n.New(to.Lang)
	args := []any{"Name", to.Name, "Sender", from.Name, "Firm", x.Config.Name, "Title", p.Title,
		"Expires", l.Date(p.Expires), "Link", x.link("/parcels/" + p.ID), "Code", to.Code,
		"Invitation", invitation, "Hours", x.Config.InvitationHours}
	key := "exchange.mail.parcel.body"
	if invitation != "" {
		key = "exchange.mail.parcel_invite.body"
	}
	subject := l.T("exchange.mail.parcel.subject", "Sender", from.Name, "Firm", x.Config.Name)
	if err := x.mail.send(to.Email, x.message(to.Email, subject, l.T(key, args...))); err != nil {
		return false, err
	}
	return true, nil
}

// link is an address on the exchange, for the e-mails.
func (x *Exchange) link(path string) string { return strings.TrimRight(x.Config.URL, "/") + path }

// language is a catalogue language for s ("fr", "fr-CH", …), or English.
func normalLang(s string) string { return i18n.Normalize(s) }
