package portal

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
)

// Why a challenge cannot be used.
var (
	ErrNoChallenge      = errors.New("portal: this page asked for no challenge")
	ErrChallengeUsed    = errors.New("portal: the challenge was used already (a replayed token)")
	ErrChallengeExpired = errors.New("portal: the challenge expired")
)

// sessionMaxAge is how long a browser session lasts.
const sessionMaxAge = 12 * time.Hour

// session is a browser's state between pages.
type session struct {
	id         string // SHA-256 of the cookie
	csrf       string
	supplierID int64  // after a master code
	pending    string // the registration form (JSON), or the user an additional certificate goes to
	userID     string // signed in as
	certID     int64  // with this certificate
}

func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// newSession starts a session and returns its cookie.
func (s *Store) newSession(ctx context.Context, now time.Time) (string, *session, error) {
	cookie := randomToken(32)
	se := &session{id: hashHex(cookie), csrf: randomToken(24)}
	if _, err := s.exec(ctx, s.db, `INSERT INTO sessions (id, created, csrf) VALUES (?, ?, ?)`, se.id, now.Unix(), se.csrf); err != nil {
		return "", nil, fmt.Errorf("portal: database: %w", err)
	}
	return cookie, se, nil
}

// session returns the session of a cookie, unless it is too old.
func (s *Store) session(ctx context.Context, cookie string, now time.Time) (*session, error) {
	se := &session{id: hashHex(cookie)}
	var supplier, cert sql.NullInt64
	var user sql.NullString
	var created int64
	err := s.queryRow(ctx, s.db, `SELECT created, csrf, supplier_id, pending, user_id, cert_id FROM sessions WHERE id = ?`, se.id).
		Scan(&created, &se.csrf, &supplier, &se.pending, &user, &cert)
	if errors.Is(err, sql.ErrNoRows) || err == nil && now.Sub(time.Unix(created, 0)) > sessionMaxAge {
		return nil, ErrSessionNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("portal: database: %w", err)
	}
	se.supplierID, se.userID, se.certID = supplier.Int64, user.String, cert.Int64
	return se, nil
}

// save writes what the pages changed.
func (s *Store) save(ctx context.Context, se *session) error {
	var supplier, cert, user any
	if se.supplierID != 0 {
		supplier = se.supplierID
	}
	if se.certID != 0 {
		cert = se.certID
	}
	if se.userID != "" {
		user = se.userID
	}
	_, err := s.exec(ctx, s.db, `UPDATE sessions SET supplier_id = ?, pending = ?, user_id = ?, cert_id = ? WHERE id = ?`,
		supplier, se.pending, user, cert, se.id)
	if err != nil {
		return fmt.Errorf("portal: database: %w", err)
	}
	return nil
}

// endSession forgets a session (signing out).
func (s *Store) endSession(ctx context.Context, se *session) error {
	_, err := s.exec(ctx, s.db, `DELETE FROM sessions WHERE id = ?`, se.id)
	return err
}

// newChallenge gives the session a new challenge for purpose, replacing
// any earlier one: a nonce of 32 random bytes in base64, Web eID's.
func (s *Store) newChallenge(ctx context.Context, se *session, purpose string, now time.Time) (string, error) {
	b := make([]byte, 32)
	rand.Read(b)
	c := base64.StdEncoding.EncodeToString(b)
	_, err := s.exec(ctx, s.db, `UPDATE sessions SET challenge = ?, challenge_for = ?, challenge_at = ?, challenge_used = FALSE WHERE id = ?`,
		c, purpose, now.UnixNano(), se.id)
	if err != nil {
		return "", fmt.Errorf("portal: database: %w", err)
	}
	return c, nil
}

// useChallenge takes the session's challenge for purpose, once: of two
// requests racing with one token, one gets it. A challenge older than ttl
// is ErrChallengeExpired.
func (s *Store) useChallenge(ctx context.Context, se *session, purpose string, ttl time.Duration, now time.Time) (string, error) {
	var c string
	err := s.queryRow(ctx, s.db, `UPDATE sessions SET challenge_used = TRUE
		WHERE id = ? AND challenge <> '' AND challenge_for = ? AND challenge_used = FALSE AND challenge_at >= ?
		RETURNING challenge`, se.id, purpose, now.Add(-ttl).UnixNano()).Scan(&c)
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("portal: database: %w", err)
	}
	var had, forWhat string
	var used bool
	if err := s.queryRow(ctx, s.db, `SELECT challenge, challenge_for, challenge_used FROM sessions WHERE id = ?`, se.id).Scan(&had, &forWhat, &used); err != nil {
		return "", fmt.Errorf("portal: database: %w", err)
	}
	switch {
	case had == "" || forWhat != purpose:
		return "", ErrNoChallenge
	case used:
		return "", ErrChallengeUsed
	}
	return "", ErrChallengeExpired
}
