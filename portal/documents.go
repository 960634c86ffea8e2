package portal

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Why a document cannot be had or signed.
var (
	ErrDocumentUnknown = errors.New("portal: no such document for this user")
	ErrDocumentSigned  = errors.New("portal: the document is signed already")
)

// Document is a document a user signs on the portal: a PDF the portal
// wrote, and once signed its detached CMS signature.
type Document struct {
	ID        int64
	UserID    string
	Name      string // the file's name
	Title     string
	Content   []byte
	SHA256    []byte
	Created   time.Time
	Signature []byte     // the detached CMS, nil before it is signed
	Signed    *time.Time // when the portal accepted the signature
	CertID    int64      // the registered certificate that signed it
	Signer    string     // its holder
}

// NewDocument keeps a document for user to sign, made by write from its
// number: its file's name and its content.
func (s *Store) NewDocument(ctx context.Context, user, title string, write func(id int64) (string, []byte, error), now time.Time) (Document, error) {
	var d Document
	err := s.tx(ctx, func(tx *sql.Tx) error {
		d = Document{UserID: user, Title: title, Created: now}
		if err := s.queryRow(ctx, tx, `INSERT INTO documents (user_id, name, title, content, sha256, created) VALUES (?, '', ?, ?, '', ?) RETURNING id`,
			user, title, []byte{}, now.Unix()).Scan(&d.ID); err != nil {
			return fmt.Errorf("portal: database: %w", err)
		}
		var err error
		if d.Name, d.Content, err = write(d.ID); err != nil {
			return err
		}
		h := sha256.Sum256(d.Content)
		d.SHA256 = h[:]
		if _, err := s.exec(ctx, tx, `UPDATE documents SET name = ?, content = ?, sha256 = ? WHERE id = ?`, d.Name, d.Content, hex.EncodeToString(h[:]), d.ID); err != nil {
			return fmt.Errorf("portal: database: %w", err)
		}
		return nil
	})
	return d, err
}

const documentColumns = `id, user_id, name, title, content, sha256, created, signature, signed, cert_id, signer`

func scanDocument(row interface{ Scan(...any) error }) (Document, error) {
	var d Document
	var sum string
	var created int64
	var signed, cert sql.NullInt64
	err := row.Scan(&d.ID, &d.UserID, &d.Name, &d.Title, &d.Content, &sum, &created, &d.Signature, &signed, &cert, &d.Signer)
	if err != nil {
		return d, err
	}
	d.SHA256, _ = hex.DecodeString(sum)
	d.Created, d.CertID = time.Unix(created, 0), cert.Int64
	if signed.Valid {
		t := time.Unix(signed.Int64, 0)
		d.Signed = &t
	}
	return d, nil
}

// Document returns document id.
func (s *Store) Document(ctx context.Context, id int64) (Document, error) {
	d, err := scanDocument(s.queryRow(ctx, s.db, `SELECT `+documentColumns+` FROM documents WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, ErrDocumentUnknown
	}
	if err != nil {
		return d, fmt.Errorf("portal: database: %w", err)
	}
	return d, nil
}

// SignDocument keeps the signature of user's document id, made with the
// registered certificate cert of signer: once (of two at once, one is
// kept, the other is ErrDocumentSigned).
func (s *Store) SignDocument(ctx context.Context, id int64, user string, signature []byte, cert int64, signer string, now time.Time) error {
	res, err := s.exec(ctx, s.db, `UPDATE documents SET signature = ?, signed = ?, cert_id = ?, signer = ?
		WHERE id = ? AND user_id = ? AND signature IS NULL`, signature, now.Unix(), cert, signer, id, user)
	if err != nil {
		return fmt.Errorf("portal: database: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	d, err := s.Document(ctx, id)
	switch {
	case err != nil || d.UserID != user:
		return ErrDocumentUnknown
	default:
		return ErrDocumentSigned
	}
}

// SignedDocuments lists user's signed documents, the latest first.
func (s *Store) SignedDocuments(ctx context.Context, user string) ([]Document, error) {
	rows, err := s.query(ctx, s.db, `SELECT `+documentColumns+` FROM documents WHERE user_id = ? AND signature IS NOT NULL ORDER BY id DESC`, user)
	if err != nil {
		return nil, fmt.Errorf("portal: database: %w", err)
	}
	defer rows.Close()
	var out []Document
	for rows.Next() {
		d, err := scanDocument(rows)
		if err != nil {
			return nil, fmt.Errorf("portal: database: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
